"""The OpenAPI 3.0 description of ``/api/v1`` (served at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from spatial.crs import CRS_NAMES
from workflow import hotline, roles
from workflow import tasks as task_rules
from workflow.cases import ACTIONS


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


ROLES_NOTE = ("角色与权限见 x-roles / who may do what: `x-roles` lists each role's labels and permissions, "
              "`x-permissions` what each permission allows; a 403 answers a role without the permission.")


def roles_document() -> tuple[dict, dict]:
    """``x-roles`` and ``x-permissions`` of the document, from the one table in :mod:`workflow.roles`."""
    by_role = {
        r.name: {"label": {"zh": r.zh, "en": r.en},
                 "permissions": [p for p in roles.PERMISSIONS if p in r.permissions]}
        for r in roles.TABLE.values()
    }
    permissions = {
        name: {"zh": zh, "en": en, "roles": [r for r in roles.ROLES if roles.has_permission(r, name)]}
        for name, (zh, en) in roles.PERMISSIONS.items()
    }
    return by_role, permissions


ERRORS = {
    "400": _error("请求格式错误 / malformed request"),
    "401": _error("未登录 / not signed in"),
    "403": _error("无权操作 / not allowed"),
    "404": _error("未找到 / not found"),
}


def api_document() -> dict:
    from webmap.services.inbox import SOURCES

    inbox_kinds = list(SOURCES)
    page = [
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
    ]
    filters = [
        {"name": name, "in": "query", "schema": {"type": "string"}, "description": text}
        for name, text in (
            ("state", "案卷状态 / state, e.g. 待受理"), ("category", "类别编码 / category code"),
            ("grid", "15 位网格编码 / grid code"), ("village", "12 位村编码 / village code"),
            ("source", "来源 / source"), ("since", "RFC 3339"), ("until", "RFC 3339"),
            ("bbox", "minLon,minLat,maxLon,maxLat (WGS84)"),
        )
    ]
    by_role, permissions = roles_document()
    return {
        "openapi": "3.0.3",
        "x-roles": by_role,
        "x-permissions": permissions,
        "info": {
            "title": "网格 Wangge API",
            "version": "1.0.0",
            "description": "事件上报、查询与照片 / incident intake, listing and photos. "
                           "Phones: POST /auth/login, then `Authorization: Bearer <token>`. "
                           "Pages: session cookie plus `X-CSRFToken` on writes.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": ROLES_NOTE},
                "basic": {"type": "http", "scheme": "basic", "description": ROLES_NOTE},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "session", "description": ROLES_NOTE},
            },
            "schemas": {
                "Error": {"type": "object", "properties": {
                    "code": {"type": "string"}, "message_zh": {"type": "string"}, "message_en": {"type": "string"},
                    "errors": {"type": "array", "items": {"type": "object", "properties": {
                        "field": {"type": "string"}, "zh": {"type": "string"}, "en": {"type": "string"}}}},
                }},
                "Location": {"type": "object", "required": ["lng", "lat", "crs"], "properties": {
                    "lng": {"type": "number", "minimum": -180, "maximum": 180},
                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                    "crs": {"type": "string", "enum": list(CRS_NAMES)},
                    "accuracy_m": {"type": "number", "minimum": 0},
                }},
                "NewIncident": {"type": "object", "required": ["category", "location"], "properties": {
                    "category": {"type": "string", "description": "GET /categories"},
                    "description": {"type": "string", "maxLength": 4000},
                    "location": _ref("Location"),
                    "address": {"type": "string", "maxLength": 200},
                    "photos": {"type": "array", "maxItems": 9, "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                               "description": "ids from POST /attachments"},
                    "source": {"type": "string", "enum": ["grid_worker", "patrol", "hotline_12345", "resident"]},
                    "reporter_name": {"type": "string", "maxLength": 50},
                    "reporter_phone": {"type": "string", "maxLength": 20},
                }},
                "InboxItem": {"type": "object", "properties": {
                    "kind": {"type": "string", "enum": inbox_kinds}, "id": {"type": "integer"},
                    "number": {"type": "string", "description": "案卷号 / 工单编号"},
                    "title": {"type": "string", "description": "类别 · 地址 / category · address"},
                    "state": {"type": "string"}, "deadline": {"type": "string", "format": "date-time", "nullable": True},
                    "deadline_status": {"type": "string", "enum": ["normal", "yellow", "red"]},
                    "actions": {"type": "array", "items": {"type": "object", "properties": {
                        "name": {"type": "string"}, "label_zh": {"type": "string"}, "label_en": {"type": "string"},
                        "needs": {"type": "array", "items": {"type": "string"}}}}},
                    "url": {"type": "string", "description": "the detail: /incidents/{id} or /hotline/orders/{id}"},
                    "reported_at": {"type": "string", "format": "date-time"},
                    "supervised": {"type": "boolean", "description": "督办"},
                    "note": {"type": "string", "nullable": True, "description": "督办意见 / the supervision note"},
                }},
                "Incident": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "case_no": {"type": "string"},
                    "category": {"type": "object", "description": "{code, name, class, kind, department: the code "
                                                                  "of the department it routes to}"},
                    "description": {"type": "string"},
                    "location": _ref("Location"), "reported_location": _ref("Location"),
                    "state": {"type": "string"}, "source": {"type": "string"},
                    "state_en": {"type": "string", "description": "the state in English"},
                    "extension_request": {"type": "object", "nullable": True,
                                          "description": "待审批的延期申请 / the pending request: {days, note, at, who}"},
                    "grid": {"type": "object", "nullable": True, "properties": {
                        "code": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "integer"}}},
                    "village": {"type": "object", "nullable": True},
                    "worker": {"type": "object", "nullable": True}, "leader": {"type": "object", "nullable": True},
                    "department": {"type": "object", "nullable": True},
                    "deadline": {"type": "string", "format": "date-time"},
                    "reported_at": {"type": "string", "format": "date-time"},
                    "flags": {"type": "array", "items": {"type": "string",
                              "enum": ["near_boundary", "outside_grids", "converted_from_gcj02", "converted_from_bd09",
                                       "location_grid_point"]}},
                    "photos": {"type": "array", "items": {"type": "object"}},
                    "reporter": {"type": "object", "description": "masked unless your role handles the case"},
                    "version": {"type": "integer"},
                }},
            },
        },
        "security": [{"bearer": []}, {"cookie": []}, {"basic": []}],
        "paths": {
            "/auth/login": {"post": {
                "summary": "登录 / sign in", "security": [],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["username", "password"],
                    "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}},
                "responses": {"200": {"description": "token and user"}, "401": ERRORS["401"]}}},
            "/me": {"get": {"summary": "当前用户 / who am I", "responses": {"200": {"description": "user"},
                                                                             "401": ERRORS["401"]}}},
            "/categories": {"get": {"summary": "事件类别 / categories", "responses": {"200": {"description": "list"}}}},
            "/attachments": {"post": {
                "summary": "上传照片或文件 / upload a photo (JPEG, PNG, WebP, HEIC; ≤ 10 MB), or with kind=document "
                           "a PDF or a photo (a task's document, a register's scan); a case or a visit takes photos only",
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "properties": {"file": {"type": "string", "format": "binary"},
                                                     "kind": {"type": "string", "enum": ["photo", "document"]}}}}}},
                "responses": {"201": {"description": "stored: {id, mime, size, url}"},
                              "413": _error("照片过大 / too large"), "415": _error("不是图片 / not an image")}}},
            "/attachments/{sha}": {"get": {
                "summary": "照片 / a photo",
                "parameters": [{"name": "sha", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the image"}, "404": ERRORS["404"]}}},
            "/incidents": {
                "post": {
                    "summary": "上报事件 / report an incident",
                    "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                    "schema": {"type": "string", "minLength": 8, "maxLength": 128},
                                    "description": "同一键重复提交只生成一个事件 / a resend with the same key creates nothing"}],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewIncident")}}},
                    "responses": {
                        "201": {"description": "created", "content": {"application/json": {"schema": _ref("Incident")}}},
                        "200": {"description": "the same Idempotency-Key again: the incident already stored",
                                "content": {"application/json": {"schema": _ref("Incident")}}},
                        "400": ERRORS["400"], "401": ERRORS["401"], "403": ERRORS["403"],
                        "422": _error("字段有误 / field errors"),
                    }},
                "get": {
                    "summary": "事件列表 (新的在前) / incidents, newest first",
                    "parameters": page + filters,
                    "responses": {"200": {"description": "{items, total, limit, offset}"}, "400": ERRORS["400"]}},
            },
            "/incidents/{incident_id}/actions": {"post": {
                "summary": "案件流转 / one workflow action (workflow/cases.py)",
                "parameters": [{"name": "incident_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                               {"name": "Idempotency-Key", "in": "header", "required": False,
                                "schema": {"type": "string", "minLength": 8, "maxLength": 100},
                                "description": "同一键重复提交只执行一次 / a resend with the same key is taken once"}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["action", "version"], "properties": {
                        "action": {"type": "string", "enum": sorted(ACTIONS)}, "version": {"type": "integer"},
                        "note": {"type": "string", "maxLength": 2000},
                        "photos": {"type": "array", "maxItems": 9, "items": {"type": "string"}},
                        "department": {"type": "string"}, "satisfaction": {"type": "integer", "minimum": 1, "maximum": 5},
                        "days": {"type": "integer", "minimum": 1, "maximum": 30}}}}}},
                "responses": {"200": {"description": "the case as it now is, with timeline and actions"},
                              "403": ERRORS["403"], "404": ERRORS["404"], "409": _error("版本已过期 / stale version"),
                              "422": _error("此时不能这样操作 / not allowed now")}}},
            "/map/cases": {"get": {
                "summary": "视野内案件: 按网格或六边形汇总, 放大后为单个案件 / cases in the viewport: per grid, per hex, "
                           "or single cases when zoomed in (≤ 2,000 cases, ≤ 500 KB)",
                "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}}
                               for n in ("bbox", "zoom", "state", "category", "village", "grid", "source", "since",
                                         "until", "overdue")],
                "responses": {"200": {"description": "{mode, total, features}"}, "400": ERRORS["400"]}}},
            "/map/list": {"get": {"summary": "视野内案件列表, 最紧急的在前或最新的在前 / the cases in view, most urgent "
                                             "or newest first",
                                  "parameters": [*page, {"name": "sort", "in": "query",
                                                         "schema": {"type": "string", "enum": ["urgent", "newest"]}}],
                                  "responses": {"200": {"description": "items"}, "400": ERRORS["400"]}}},
            "/map/search": {"get": {"summary": "按案卷号、12345 工单号或地址查找 / search by case no., order no. or address",
                                    "parameters": [{"name": "q", "in": "query", "required": True,
                                                    "schema": {"type": "string", "minLength": 2, "maxLength": 100}}],
                                    "responses": {"200": {"description": "up to 20 cases"}}}},
            "/departments": {"get": {"summary": "职能部门 / departments", "responses": {"200": {"description": "list"}}}},
            "/stream": {"get": {"summary": "实时推送 / server-sent events of new and changed cases in your scope "
                                           "(`event: incident`), and of changed 12345 orders you read (`event: hotline`)",
                                "responses": {"200": {"description": "text/event-stream"}}}},
            "/inbox": {"get": {
                "summary": "待办 / every case and 12345 order on which you may act now, most urgent first "
                           "(overdue, then the nearest deadline, then the oldest)",
                "x-roles": {
                    "incident": {name: sorted(r for r in roles.ROLES if r in a.roles) for name, a in ACTIONS.items()
                                 if name != "return_visit"},
                    "hotline": {name: sorted(a.roles) for name, a in hotline.ACTIONS.items()},
                },
                "parameters": [
                    {"name": "kind", "in": "query", "schema": {"type": "string", "enum": inbox_kinds}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 500,
                                                                "default": 50},
                     "description": "0: 只返回 {total, overdue} (页头角标) / the counts only, for the header badge"},
                    page[1],
                ],
                "responses": {"200": {"description": "{items, total, overdue, limit, offset}", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "total": {"type": "integer"}, "overdue": {"type": "integer"},
                        "items": {"type": "array", "items": _ref("InboxItem")}}}}}},
                              "400": ERRORS["400"], "401": ERRORS["401"]}}},
            "/hotline/orders": {
                "post": {"summary": "导入 12345 工单 / import 12345 orders (one or a list; idempotent on order_no)",
                         "responses": {"201": {"description": "created"}, "200": {"description": "already imported"},
                                       "422": _error("字段有误 / field errors")}},
                "get": {"summary": "12345 工单列表 / orders", "parameters": page,
                        "responses": {"200": {"description": "list"}}}},
            "/hotline/orders/{order_id}": {"get": {
                "summary": "12345 工单 / one order with deadlines, timeline and actions",
                "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "order"}, "404": ERRORS["404"]}}},
            "/hotline/orders/{order_id}/actions": {"post": {
                "summary": "签收、批示、交办、拟答复、答复、办结、退回 / sign, instruct, assign, draft, reply, close, return",
                "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "the order as it now is"}, "409": _error("stale version")}}},
            "/hotline/imports": {"post": {
                "summary": "上传平台导出的 12345 工单 Excel / upload the platform's Excel export (multipart file; "
                           ".xlsx or CSV; dry_run=true checks only); all rows or none, answered row by row",
                "responses": {"201": {"description": "imported"}, "200": {"description": "checked, or all existing"},
                              "400": _error("unreadable file"), "422": _error("row errors: nothing imported")}}},
            "/supervision": {"get": {"summary": "督办清单 / open cases that are yellow or red, most urgent first",
                                     "parameters": page, "responses": {"200": {"description": "list"}}}},
            "/supervision/orders": {"get": {
                "summary": "超期与临期的 12345 工单 / 12345 orders that are red or yellow (status, village, department)",
                "responses": {"200": {"description": "list"}}}},
            "/supervision/summary": {"get": {
                "summary": "上报汇总: 未办结、超期、临期、督办、挂账, 按村/部门/类别 / the counts the town reports upward",
                "responses": {"200": {"description": "counts"}}}},
            "/supervision/summary.xlsx": {"get": {"summary": "上报汇总 Excel / the counts as a workbook",
                                                  "responses": {"200": {"description": "xlsx"}}}},
            "/admin/assignments": {
                "get": {"summary": "网格员配备 / a village's grids with their worker and leader, and the worker "
                                   "accounts (administrator)",
                        "parameters": [{"name": "village", "in": "query", "schema": {"type": "string"}}],
                        "responses": {"200": {"description": "{village, villages, grids, workers}"},
                                      "403": ERRORS["403"], "404": ERRORS["404"]}},
                "post": {"summary": "网格员调整 / the grid's worker from a date (today or earlier): "
                                    "{grid_code, person_id, start, note}; the open cases follow, audited",
                         "responses": {"200": {"description": "the change"}, "403": ERRORS["403"],
                                       "422": _error("字段有误, 未保存 / field errors: nothing saved")}}},
            "/admin/accounts": {
                "get": {"summary": "账号 / the accounts, searchable by username, name, phone or scope (administrator)",
                        "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}, *page],
                        "responses": {"200": {"description": "{items, total, roles, departments}"},
                                      "403": ERRORS["403"]}},
                "post": {"summary": "新建账号 / a new account {username, role, scope, name, phone, department}; "
                                    "answers its one-time password once",
                         "responses": {"201": {"description": "{account, password}"}, "403": ERRORS["403"],
                                       "422": _error("字段有误, 未保存 / field errors: nothing saved")}}},
            "/admin/accounts/{account_id}": {"post": {
                "summary": "停用、启用、重置密码、改角色与范围 / disable, enable, reset_password, change_role",
                "parameters": [{"name": "account_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "{account[, password]}"}, "403": ERRORS["403"],
                              "404": ERRORS["404"], "422": _error("字段有误 / field errors")}}},
            "/admin/holidays": {"get": {
                "summary": "节假日 / a year's days off and swapped workdays: announced, computed by the rules "
                           "(provisional) or entered (administrator)",
                "parameters": [{"name": "year", "in": "query", "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "{year, known, provisional, days}"}, "403": ERRORS["403"]}}},
            "/admin/holidays/confirm": {"post": {
                "summary": "确认暂定假日 / confirm a provisional year's holidays into the table {year}",
                "responses": {"200": {"description": "the year, and the days added"}, "403": ERRORS["403"],
                              "422": _error("the year is announced")}}},
            "/admin/categories": {
                "get": {"summary": "类别与部门 / the categories with their time limits and departments, and the departments",
                        "responses": {"200": {"description": "{categories, departments, units}"}, "403": ERRORS["403"]}},
                "post": {"summary": "新建类别 / a new category {code, kind, class, name, name_en, class_en, department, "
                                    "time_limit, time_unit, self_handle}",
                         "responses": {"201": {"description": "the category"}, "403": ERRORS["403"],
                                       "422": _error("字段有误, 未保存 / field errors: nothing saved")}}},
            "/admin/departments": {"post": {
                "summary": "新建部门 / a new department {code, name, phone, level}",
                "responses": {"201": {"description": "the department"}, "403": ERRORS["403"],
                              "422": _error("字段有误, 未保存 / field errors: nothing saved")}}},
            "/admin/categories/{code}": {"post": {
                "summary": "改类别的时限、部门 / a category's limit, department, self-handling: a new limit applies "
                           "to cases reported from now",
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the category"}, "403": ERRORS["403"], "404": ERRORS["404"],
                              "422": _error("字段有误 / field errors")}}},
            "/admin/departments/{code}": {"post": {
                "summary": "改部门名称、电话 / a department's name and phone",
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the department"}, "403": ERRORS["403"],
                              "404": ERRORS["404"], "422": _error("字段有误 / field errors")}}},
            "/admin/settings": {
                "get": {"summary": "设置 / the settings with their ranges and defaults (administrator)",
                        "responses": {"200": {"description": "{items}"}, "403": ERRORS["403"]}},
                "post": {"summary": "修改设置 / change settings {key: value}, within their ranges, all or nothing",
                         "responses": {"200": {"description": "{items}"}, "403": ERRORS["403"],
                                       "422": _error("超出范围 / out of range")}}},
            "/admin/town": {
                "get": {"summary": "乡镇信息 / the town's record (administrator)",
                        "responses": {"200": {"description": "the record"}, "403": ERRORS["403"], "404": ERRORS["404"]}},
                "post": {"summary": "修改乡镇信息 / change fields of the town's record, all or nothing",
                         "responses": {"200": {"description": "the record"}, "403": ERRORS["403"],
                                       "422": _error("字段有误 / field errors")}}},
            "/admin/assignments/{grid_code}": {"get": {
                "summary": "网格的任职历史 / who held the grid, from when to when (administrator)",
                "parameters": [{"name": "grid_code", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "{grid, items}"}, "403": ERRORS["403"], "404": ERRORS["404"]}}},
            "/leave": {
                "post": {"summary": "请假 / a grid worker asks for leave {start, end, kind, reason}: working days "
                                    "counted; up to 3 the village's leader approves, more the town's centre",
                         "responses": {"201": {"description": "the leave with days, approver_role, state"},
                                       "403": ERRORS["403"], "422": _error("字段有误 / field errors")}},
                "get": {"summary": "请假列表 / one's own leave, a leader's village's, the town's all; awaiting_me",
                        "responses": {"200": {"description": "{items, awaiting_me}"}, "403": ERRORS["403"]}}},
            "/leave/{leave_id}/actions": {"post": {
                "summary": "审批、不批准、撤销、销假 / approve, refuse, cancel, report_back {action, version, note}",
                "parameters": [{"name": "leave_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "the leave as it now is"}, "403": ERRORS["403"],
                              "404": ERRORS["404"], "409": _error("stale version"), "422": _error("not now")}}},
            "/spot-checks": {
                "post": {"summary": "一月一抽查 / draw the month's samples {month: YYYY-MM} for every worker (district, "
                                    "administrator); drawing again returns the same checks",
                         "responses": {"201": {"description": "{month, items, finished, share_passed}"},
                                       "400": _error("bad month"), "403": ERRORS["403"],
                                       "422": _error("the month has not ended")}},
                "get": {"summary": "抽查 / the checks of a month with their items and results, within scope",
                        "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}}
                                       for n in ("month", "village", "mine")],
                        "responses": {"200": {"description": "{month, items, finished, share_passed}"},
                                      "403": ERRORS["403"]}}},
            "/spot-checks/{check_id}/items/{item}": {"post": {
                "summary": "抽查结果 / record one item {result: pass|fail, reason, version}; a fail needs a reason",
                "parameters": [{"name": n, "in": "path", "required": True, "schema": {"type": "integer"}}
                               for n in ("check_id", "item")],
                "responses": {"200": {"description": "the check as it now is"}, "403": ERRORS["403"],
                              "404": ERRORS["404"], "409": _error("stale version"), "422": _error("field errors")}}},
            "/discipline": {"get": {
                "summary": "执纪 / discipline cases within scope with their events and clock (?state=open)",
                "parameters": [{"name": "state", "in": "query", "schema": {"type": "string", "enum": ["open"]}}],
                "responses": {"200": {"description": "{items, day_kind, days}"}, "403": ERRORS["403"]}}},
            "/discipline/{case_id}/actions": {"post": {
                "summary": "执纪操作 / correct, talk, decide_dismiss, decide_keep {action, version, note, evidence}",
                "parameters": [{"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "the case as it now is"}, "403": ERRORS["403"],
                              "404": ERRORS["404"], "409": _error("stale version"), "422": _error("not now")}}},
            "/notices": {"get": {"summary": "通知 / one's notices (a worker's, a leader's village's, the town's all)",
                                 "responses": {"200": {"description": "{items, unread}"}, "403": ERRORS["403"]}}},
            "/notices/{notice_id}/read": {"post": {
                "summary": "已读 / mark a notice read",
                "parameters": [{"name": "notice_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "the notice"}, "404": ERRORS["404"]}}},
            "/staff/members": {
                "get": {"summary": "本中心人员 / the centre's own staff with the year's training hours and grade",
                        "parameters": [{"name": "year", "in": "query", "schema": {"type": "integer"}}],
                        "responses": {"200": {"description": "{year, items}"}, "403": ERRORS["403"]}},
                "post": {"summary": "登记本中心人员 / add a member {person | name + phone, post, establishment, since}",
                         "responses": {"201": {"description": "the member"}, "400": _error("字段有误 / field errors"),
                                       "403": ERRORS["403"]}}},
            "/staff/members.xlsx": {"get": {"summary": "年度人员名册 Excel / the year's roster with hours and grades",
                                            "parameters": [{"name": "year", "in": "query", "schema": {"type": "integer"}}],
                                            "responses": {"200": {"description": "xlsx"}, "403": ERRORS["403"]}}},
            "/staff/members/{person_id}": {"post": {
                "summary": "修改或离岗 / change a member's post, establishment, since or end it (until)",
                "parameters": [{"name": "person_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "the member"}, "400": _error("字段有误 / field errors"),
                              "403": ERRORS["403"], "404": ERRORS["404"]}}},
            "/staff/trainings": {
                "get": {"summary": "培训记录 / trainings of the staff and the grid workers, with hours per person and year",
                        "parameters": [{"name": "person", "in": "query", "schema": {"type": "integer"}},
                                       {"name": "year", "in": "query", "schema": {"type": "integer"}}],
                        "responses": {"200": {"description": "{items, totals}"}, "403": ERRORS["403"]}},
                "post": {"summary": "登记培训 / a training {person, course, day, hours, certificate, attachment}",
                         "responses": {"201": {"description": "the training"}, "400": _error("字段有误 / field errors"),
                                       "403": ERRORS["403"]}}},
            "/staff/appraisals": {
                "get": {"summary": "年度考核 / the annual grades of the 事业编制 staff (镇党委、镇政府)",
                        "parameters": [{"name": "year", "in": "query", "schema": {"type": "integer"}},
                                       {"name": "person", "in": "query", "schema": {"type": "integer"}}],
                        "responses": {"200": {"description": "{year, items}"}, "403": ERRORS["403"]}},
                "post": {"summary": "记录年度考核等次 / {person, year, grade, note}: 201 new, 200 replacing (audited)",
                         "responses": {"200": {"description": "the grade replaced"}, "201": {"description": "the grade"},
                                       "400": _error("字段有误, 或非事业编制 / field errors, or not 事业编制"),
                                       "403": ERRORS["403"]}}},
            "/admin/audit": {"get": {
                "summary": "审计日志 / every administrative change, newest first (administrator, district)",
                "parameters": [{"name": "target", "in": "query", "schema": {"type": "string"}}, *page],
                "responses": {"200": {"description": "{items, total}"}, "403": ERRORS["403"]}}},
            "/supervision/holidays": {"get": {"summary": "节假日与调休表 / the working-day table",
                                              "responses": {"200": {"description": "list"}}}},
            "/supervision/holidays/{day}": {"put": {
                "summary": "设定某日为假日或工作日 / declare a day a holiday or a workday",
                "parameters": [{"name": "day", "in": "path", "required": True, "schema": {"type": "string",
                                                                                          "format": "date"}}],
                "responses": {"200": {"description": "updated"}, "201": {"description": "created"}}}},
            "/stats/indicators": {"get": {
                "summary": "综合评价指标 / indicators by grid, village, department, category, source or month",
                "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}} for n in ("by", "since", "until")],
                "responses": {"200": {"description": "rows and total"}, "400": ERRORS["400"]}}},
            "/stats/dashboard": {"get": {
                "summary": "统计看板 / the dashboard: tiles with 环比 and 同比, grids, villages, trend, rankings, sources",
                "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}}
                               for n in ("since", "until", "village", "category")],
                "responses": {"200": {"description": "period, tiles, previous, last_year, by_grid, by_village, "
                                                     "trend, categories, departments, workers, sources"},
                              "400": ERRORS["400"]}}},
            "/stats/dashboard.xlsx": {"get": {
                "summary": "统计看板 Excel / the dashboard as an Excel workbook (a sheet per table)",
                "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}}
                               for n in ("since", "until", "village", "category")],
                "responses": {"200": {"description": "xlsx"}, "400": ERRORS["400"]}}},
            "/stats/indicators.xlsx": {"get": {"summary": "同上, Excel / the same as an Excel workbook",
                                               "responses": {"200": {"description": "xlsx"}}}},
            "/incidents/{incident_id}": {"get": {
                "summary": "事件详情 / one incident",
                "parameters": [{"name": "incident_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "incident", "content": {"application/json": {
                    "schema": _ref("Incident")}}}, "404": ERRORS["404"]}}},
            **LATER_PATHS,
            **VISIT_PATHS,
            **OFFICE_PATHS,
            **TASK_PATHS,
            **EXPORT_PATHS,
        },
    }


def _op(summary: str, query: tuple[str, ...] = (), path: tuple[str, ...] = (), body: str | None = None,
        answer: str = "JSON", status: str = "200") -> dict:
    """A brief operation: its summary (zh / en), query and path parameters, body and answer."""
    operation = {
        "summary": summary,
        "parameters": [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in path]
        + [{"name": n, "in": "query", "schema": {"type": "string"}} for n in query],
        "responses": {status: {"description": answer}, "400": ERRORS["400"], "401": ERRORS["401"],
                      "403": ERRORS["403"]},
    }
    if body:
        operation["requestBody"] = {"content": {"application/json": {"schema": {"type": "object",
                                                                                "description": body}}}}
    return operation


_PLAN, _PATROL = ("plan_id",), ("patrol_id",)
LATER_PATHS = {  # the console's layers, the planner, patrols and attendance, hotspots (see each blueprint)
    "/assessment-plan": {"get": _op("考核方案 / the assessment plan in force, with the named formulas"),
                         "put": _op("新的考核方案 / a new version of the plan (manage_staff; 422 with every bad field)",
                                    body="{items, annual, bands, bonus_cap, pay_tiers, note}")},
    "/assessments": {"get": _op("量化考核 / per worker: items with formula and inputs, total, grade, ranks, pay tier",
                                ("month", "year", "village"))},
    "/assessments.xlsx": {"get": _op("同上, Excel / the same as an Excel workbook", ("month", "year", "village"),
                                     answer="xlsx")},
    "/assessments/scores": {"post": _op("手工评分 / a hand score with its reason (manage_staff)",
                                        body="{period, worker, item, score, reason}", status="201")},
    "/assessments/decisions": {"post": _op("年度决定 / 续聘, 辞退, 奖励 or 惩处 on a year's result (manage_staff)",
                                           body="{worker, year, decision, note}", status="201")},
    "/assessments/history/{worker}": {"get": _op("年度考核历史 / a worker's decisions and computed years",
                                                 path=("worker",))},
    # 周分析 / 月汇总 / 民情分析会 (seed 5-1 ③④; webmap/analyses.py)
    "/analyses": {"get": _op("周分析、月汇总 / the analyses the caller reads (a leader: their village's)",
                             ("kind", "scope", "period")),
                  "post": _op("新建周分析或月汇总 / a record counted now (write_analyses); 409 with current when it exists",
                              body="{kind: week|month, period: YYYY-Www|YYYY-MM-DD|YYYY-MM, scope: town|village code, "
                                   "opinion, problems, next_steps}", status="201")},
    "/analyses/{analysis_id}": {"get": _op("一份分析及其冻结的统计数字 / one record with its frozen figures",
                                           path=("analysis_id",)),
                                "patch": _op("填写分析意见、问题与措施、下步工作 / the hand-written fields of a draft; 409 stale, "
                                             "422 finalised", path=("analysis_id",),
                                             body="{version, opinion, problems, next_steps}")},
    "/analyses/{analysis_id}/actions": {"post": _op("重新统计或定稿 / recount the figures or finalise (read-only after)",
                                                    path=("analysis_id",), body="{action: recount|finalize, version}")},
    "/analyses/{analysis_id}.xlsx": {"get": _op("一份分析, Excel / one record as a workbook", path=("analysis_id",),
                                                answer="xlsx")},
    "/meetings": {"get": _op("民情分析会 / the meetings the caller reads", ("scope",)),
                  "post": _op("记录民情分析会 / a meeting (write_analyses)",
                              body="{scope, held_on, place, participants, agreed, opinions: [text | {body, grid}]}",
                              status="201")},
    "/meetings/{meeting_id}": {"get": _op("一次民情分析会 / one meeting with its opinions and their cases",
                                          path=("meeting_id",)),
                               "patch": _op("修改会议记录 / change fields; opinions as the whole list (a linked one stays); "
                                            "409 stale", path=("meeting_id",),
                                            body="{version, held_on, place, participants, agreed, opinions}")},
    "/meetings/{meeting_id}/opinions/{n}/case": {"post": _op(
        "意见转为案件 / the opinion becomes one case through intake (201; 200: the case it already is)",
        path=("meeting_id", "n"), body="{category, grid, location: {lng, lat, crs}, description}", status="201")},
    "/meetings/{meeting_id}/opinions/{n}/task": {"post": _op(
        "意见转为任务 / link the task the opinion became (422 until tasks are installed)", path=("meeting_id", "n"),
        body="{task_id}")},
    "/meetings/{meeting_id}.xlsx": {"get": _op("会议记录, Excel / one meeting as a workbook", path=("meeting_id",),
                                               answer="xlsx")},
    "/map/heat": {"get": _op("热力图: 视野内案件按小六边形汇总 / the heat map of the cases in view",
                             ("bbox", "zoom", "state", "category", "village", "grid", "source", "since", "until"),
                             answer="{points: [[lat, lng, weight]], max, cell_m}")},
    "/map/patrols": {"get": _op("今日巡查轨迹 / today's patrol tracks in view (whereabouts: worker, leader, town)",
                                ("bbox",), answer="GeoJSON LineStrings")},
    "/plans": {"get": _op("改划方案 / redraw plans"),
               "post": _op("新建方案 / start a draft", body="{title, note}", status="201")},
    "/plans/workload": {"get": _op("网格工作量与定额 / grid workload against the norms", ("village",))},
    "/plans/{plan_id}": {"get": _op("方案, 检查结果与改动 / a plan with its grids, problems and edits", path=_PLAN)},
    "/plans/{plan_id}/edits": {"post": _op(
        "编辑 / an edit: reshape, split, merge, create, transfer, propose_split, set, revert, replace; 409 if stale",
        path=_PLAN, body="{op, version, …}")},
    "/plans/{plan_id}/undo": {"post": _op("撤销上一步 / undo the last edit", path=_PLAN, body="{version}")},
    "/plans/{plan_id}/impact": {"get": _op("影响预览 / the impact: areas, population, cases, workers", path=_PLAN)},
    "/plans/{plan_id}/publish": {"post": _op("发布 / publish (a later date: scheduled); 422 with problems, 409",
                                             path=_PLAN, body="{version, effective_at}")},
    "/plans/{plan_id}/inverse": {"post": _op("撤回方案 / a draft undoing a published plan", path=_PLAN,
                                             status="201")},
    "/plans/{plan_id}/discard": {"post": _op("作废方案 / discard a draft", path=_PLAN, body="{version}")},
    "/patrols": {"get": _op("巡查及其指标 / patrols with their metrics and flags (a JSON list)",
                            ("worker", "date", "village", "flagged", "limit", "offset")),
                 "post": _op("开始巡查 / start a patrol (idempotent on client_id)", body="{client_id, started_at}",
                             status="201")},
    "/patrols/gpx": {"post": _op("上传 GPX 轨迹 / a GPX file as one patrol", ("worker",), status="201")},
    "/patrols/{patrol_id}": {"get": _op("一次巡查 / one patrol (fixes=1: with its fixes)", ("fixes",), _PATROL)},
    "/patrols/{patrol_id}/fixes": {"post": _op("上传定位点 / a batch of fixes (idempotent)", path=_PATROL,
                                               body="{fixes: [{t, lng, lat, accuracy, speed}]}")},
    "/patrols/{patrol_id}/stop": {"post": _op("结束巡查 / stop: the metrics", path=_PATROL, body="{ended_at}")},
    "/patrols/{patrol_id}/review": {"post": _op("审核异常轨迹 / the town's verdict", path=_PATROL,
                                                body="{verdict: accepted|rejected, note}")},
    "/patrols/reports/{kind}": {"get": _op("日走访、周分析、月汇总 / daily, weekly, monthly reports (format=xlsx)",
                                           ("date", "week", "month", "village", "format"), ("kind",))},
    "/grids/{code}/checkpoints": {"get": _op("重点场所 / a grid's key places", path=("code",)),
                                  "post": _op("新增重点场所 / add a key place", path=("code",),
                                              body="{name, kind, lng, lat, radius_m, required}", status="201")},
    "/grids/{code}/checkpoints/{checkpoint_id}": {"put": _op("修改重点场所 / change a key place",
                                                             path=("code", "checkpoint_id"), body="{…}")},
    "/attendance": {"get": _op("一天的签到 / a worker's sign-ins of a day", ("worker", "date")),
                    "post": _op("签到/签退 / sign in or out (checked against the grid)",
                                body="{kind: in|out, lng, lat, accuracy, at, client_id}", status="201")},
    "/attendance/weekly": {"get": _op("周在岗时长 / weekly hours against 40, missing days", ("week", "village"))},
    "/hotspots": {"get": _op("热点 (Gi*, H3) / hot and cold spots: count, gi_z, p_fdr, class (format=gpkg)",
                             ("since", "until", "categories", "method", "resolution", "format"),
                             answer="GeoJSON FeatureCollection")},
    "/hotspots/top": {"get": _op("最显著的热点及其网格 / the top hotspots with their grids",
                                 ("since", "until", "categories", "method", "resolution"))},
    "/hotspots/png": {"get": _op("热点图 PNG / the hotspot map as a PNG",
                                 ("since", "until", "categories", "method", "resolution"), answer="image/png")},
}


VISIT_PATHS = {  # 日走访 (webmap/visits.py)
    "/visits": {
        "post": {**_op("入户走访 / a grid worker's visit {location: {lng, lat, crs}, household, note, photos, problem: "
                       "{category, description}}: the visit with flags (outside_grid > 300 m outside the grid, "
                       "far_from_household) and incident ({id, case_no} of the case a problem reported, or null); "
                       "the same Idempotency-Key again answers the same visit (200, Idempotent-Replayed)",
                       body="{location, household, note, photos, problem}", status="201"),
                 "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                 "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,100}$"}}]},
        "get": _op("走访记录 / the month's visits within scope, newest first",
                   ("grid", "village", "month", "flagged", "limit", "offset"), answer="{month, items, total}"),
    },
    "/visits/coverage": {"get": _op("走访覆盖率 / per grid the share of its households visited in the month "
                                    "(a household once however often visited)", ("month", "village", "grid"),
                                    answer="{month, items, totals}")},
    "/households": {"get": _op("门牌登记 / a grid's address points, nearest first from near=lng,lat (WGS84)",
                               ("grid", "q", "near"), answer="{grid, items}")},
    "/households.xlsx": {"get": _op("门牌登记表 Excel / the register as the spreadsheet the import reads",
                                    ("village", "grid"), answer="xlsx")},
    "/households/import": {"post": _op("导入门牌登记 / CSV or Excel (multipart file: 地址, 户数, 经度, 纬度, 坐标系, 停用), "
                                       "all or nothing (422 lists every bad row)", answer="{rows, added, updated}")},
}


# 办公室台账 (seed 3-1): read_office reads, manage_office writes; a write refused field by field is a
# 422 with errors, a stale version a 409 with the record as it now is
_FIELDS, _STALE = _error("字段有误 / field errors"), _error("版本已过期 / stale version: the record as it now is")


def _office(summary: str, path: tuple[str, ...] = (), body: str | None = None, status: str = "200",
            query: tuple[str, ...] = (), stale: bool = False) -> dict:
    operation = _op(summary, query, path, body, status=status)
    if path:
        operation["responses"]["404"] = ERRORS["404"]
    if body:
        operation["responses"]["422"] = _FIELDS
    if stale:
        operation["responses"]["409"] = _STALE
    return operation


_CERT, _SEAL, _ACCOUNT = ("certificate_id",), ("seal_id",), ("account_id",)
OFFICE_PATHS = {
    "/office/certificates": {
        "get": _office("证照 / the centre's certificates with days_left, colour and the open reminder (read_office)"),
        "post": _office("登记证照 / a certificate (manage_office); no valid_to: 长期有效; valid_to after valid_from",
                        body="{name, number, issuer, valid_from, valid_to, note, scans}", status="201")},
    "/office/certificates/{certificate_id}": {"post": _office(
        "修改、换证、注销 / change a certificate: a new valid_to renews it (its reminders done), state 已注销 cancels it",
        _CERT, "{name, number, issuer, valid_from, valid_to, state, note, scans, version}", stale=True)},
    "/office/seals": {
        "get": _office("印章 / the seals with their keeper and the count of uses (read_office)"),
        "post": _office("登记印章 / a seal (manage_office)", body="{name, keeper, since, note}", status="201")},
    "/office/seals/{seal_id}": {"post": _office("修改印章、移交、停用 / change a seal (a new keeper, 已停用)", _SEAL,
                                                "{name, keeper, since, state, note, version}", stale=True)},
    "/office/seals/{seal_id}/uses": {
        "get": _office("用印登记 / the seal's use log, newest first (append-only)", _SEAL),
        "post": _office("登记用印 / one use: appended, never changed (a seal 已停用: 422)", _SEAL,
                        "{day, document, copies, approver, note}", status="201")},
    "/office/accounts": {
        "get": _office("银行账户 / the accounts, every number masked (6222 **** **** 1234)"),
        "post": _office("登记银行账户 / an account (manage_office); the number 10–32 digits, unique",
                        body="{kind, bank, name, number, opened_on, closed_on, approval, note, scans}", status="201")},
    "/office/accounts/{account_id}": {"post": _office(
        "修改、销户 / change an account (closed_on: 销户)", _ACCOUNT,
        "{kind, bank, name, number, opened_on, closed_on, approval, note, scans, version}", stale=True)},
    "/office/accounts/{account_id}/number": {"get": _office(
        "完整账号 / the whole number (manage_office only; written to the audit log as view_account_number)", _ACCOUNT)},
    "/office/checklist": {"get": _office("法人登记要件 / the 8 documents of the registration, each 未备 or 已备")},
    "/office/checklist/{code}": {"post": _office(
        "登记要件 / one document: {state: 未备|已备, day, note, scans, version} (version 0: never recorded)",
        ("code",), "{state, day, note, scans, version}", stale=True)},
    "/office/reminders": {"get": _office("证照到期提醒 / the reminders, 60 and 30 calendar days before (open=1: not done)",
                                         query=("open",))},
    "/office/reminders/{reminder_id}": {"get": _office("一条提醒 / one reminder", ("reminder_id",))},
    "/office/reminders/{reminder_id}/acknowledge": {"post": _office(
        "知悉 / acknowledge a reminder (manage_office); one done already: 409", ("reminder_id",), "{note}", stale=True)},
}


_TASK = ("task_id",)
TASK_PATHS = {  # 交办任务 (seed 8-1) and the information-collection rule (seed 7-2 §3): webmap/tasks.py
    "/tasks": {
        "post": {**_op("交办任务 / issue a task: town leaders, the centre, the district, the administrator; a department "
                       "general tasks to villages and departments; a village's leader to its workers. An "
                       "info_collection task reaching grid workers (named, or through a village) waits for the "
                       "district (state 待区审批), and from any other body it is refused (403) with the seed's words: "
                       "任何单位或组织非经区网格中心批准，不得向专职网格员下达信息采集任务及相关指令",
                       body="{title, body, kind: general|info_collection, deadline: YYYY-MM-DD | ISO moment | "
                            "{work_days: N}, attachments: [sha256], report_back, source: document|meeting|other, "
                            "source_ref, assignees: [{kind: worker|village|department, username|code, report_back}]}",
                       answer="the task with id, version, state, assignees", status="201"),
                 "x-roles": sorted(roles.roles_with("issue_tasks"))},
        "get": _op("交办任务列表 / the tasks the caller may see (newest first, at most 200): {items}",
                   ("state", "kind", "mine", "issued", "pending", "overdue"))},
    "/tasks/assignees": {"get": _op("可选承办对象 / the villages, departments and grid workers the caller may choose")},
    "/tasks/{task_id}": {"get": _op("任务详情 / one task with its per-assignee table and events", path=_TASK)},
    "/tasks/{task_id}/actions": {"post": {
        **_op("任务操作 / acknowledge, progress, complete (an assignee, on its own row); return, supervise (the "
              "issuer, naming the assignee), close (the issuer); approve, refuse (the district grid centre). "
              "403 wrong actor, 409 stale version, 422 not now or a note missing",
              path=_TASK, body="{action, version, note, attachments: [sha256], assignee: id}",
              answer="the task as it now is"),
        "x-actions": {name: {"actor": a.actor, "zh": a.zh, "en": a.en} for name, a in task_rules.ACTIONS.items()}}},
}


_JOB = ("job",)
EXPORT_PATHS = {  # 导出 (webmap/exports.py): one row per case with its lifecycle times
    "/exports/cases": {"post": _op(
        "导出案件 / export the cases the console's filters select as .xlsx (one row per case: 上报, 立案, 派遣, 接收, "
        "反馈, 核查, 结案 times from the case events; residents' phones masked unless the role may see them). "
        "Up to 10,000 cases (EXPORT_SYNC_MAX): 201, the file is ready at `url`; more: 202, poll `status_url`",
        body="{state: comma list, category, village, grid, source, since, until, overdue, bbox}",
        answer="{job, state: 完成|排队, done, total, url, status_url}", status="201")},
    "/exports/{job}": {"get": _op("导出进度 / an export's progress: {state: 排队|进行中|完成|失败, done, total, url} "
                                  "(the account that asked, or one of the same role and scope; else 404)", path=_JOB)},
    "/exports/{job}/file": {"get": _op("导出文件 / the finished workbook (404 until 完成)", path=_JOB,
                                       answer="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
}
