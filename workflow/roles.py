"""Who may do what: the roles of an account, their labels, and the permissions each holds.

One table read by the services, the workflow actions, the navigation and the OpenAPI document
(``x-roles``). Nothing here knows about Flask or SQL; the database's ``ck_accounts_role`` check
constraint lists :data:`ROLES` in this order. A permission names what it allows; where a rule also
depends on the account's area or department (a leader's village, a department's cases), the
service checks that after the permission.

>>> has_permission("dispatcher", "see_personal_data"), has_permission("planner", "report")
(True, False)
>>> has_permission("nobody", "report"), has_permission(None, "report")
(False, False)
>>> sorted(roles_with("plan_grids"))
['admin', 'planner']
>>> label("leader", "zh"), label("leader", "en"), label("nobody", "en")
('网格长', 'grid leader', 'nobody')
>>> who("石飞", "worker"), who("石飞", "worker", lang="en"), who(None, "dispatcher")
('石飞 · 专职网格员', '石飞 · grid worker', '镇综治中心调度员')
>>> who("王芳", "department", department="镇城管科"), who(None, None)
('王芳 · 镇城管科', '系统')
"""

from __future__ import annotations

from dataclasses import dataclass

# What each permission allows (zh / en), in the order the OpenAPI document lists them.
PERMISSIONS: dict[str, tuple[str, str]] = {
    "report": ("上报事件", "report an incident"),
    "report_for_residents": ("代居民或12345上报", "report for a resident or from the 12345 hotline"),
    "report_on_mobile": ("手机上报页", "the phone's report page"),
    "use_dispatch_console": ("调度台", "the dispatcher console"),
    "handle_cases": ("受理、派遣、挂账、延期审批", "file, void, dispatch, park cases; decide extensions"),
    "supervise_cases": ("督办案件", "press a department on a case (督办)"),
    "return_visit": ("满意度回访", "the satisfaction return visit"),
    "read_supervision": ("督办清单", "the supervision list of red and yellow cases"),
    "edit_calendar": ("修改工作日表", "edit the working-day table"),
    "see_all_areas": ("查看全区", "see every area of the district"),
    "see_personal_data": ("查看居民完整姓名电话", "see residents' full names and phones"),
    "see_grid_personal_data": ("查看本网格居民信息", "see residents' names and phones in one's own grids"),
    "see_tracks": ("查看巡查轨迹", "see patrol tracks (personal whereabouts)"),
    "review_patrols": ("审核巡查轨迹", "review flagged patrols, read others' patrols"),
    "edit_places": ("编辑重点场所", "edit a grid's key places"),
    "sign_in": ("签到签退", "sign in and out on duty"),
    "plan_grids": ("编辑网格改划方案", "draft and publish grid redraw plans"),
    "read_plans": ("查看网格改划方案", "read grid redraw plans"),
    "read_hotspots": ("热点分析", "the hotspot analysis"),
    "read_hotline": ("查看全部12345工单", "read every 12345 order"),
    "import_hotline": ("导入12345工单", "import 12345 orders"),
    "handle_hotline": ("12345工单签收、转派、答复", "sign for, assign, reply to 12345 orders"),
    "instruct_hotline": ("12345工单领导批示", "write the leader's instruction on a 12345 order"),
    "answer_hotline": ("科室办理12345工单", "draft the reply to a 12345 order as the assigned section"),
    "close_hotline": ("12345工单结案、重新派发", "close or dispatch again a 12345 order"),
    "read_staff": ("队伍管理: 请假、抽查、执纪、考核", "the staff desk: leave, spot checks, discipline, assessments"),
    "manage_staff": ("考核方案、手工评分、执纪决定、人员培训", "edit the assessment plan, hand scores, discipline decisions, staff records"),
    "spot_check": ("每月抽查网格员工作", "draw and record the monthly spot checks of the grid workers"),
    "administer": ("系统管理: 账号、网格员分配、设置", "administer accounts, grid assignments and settings"),
    "read_audit": ("查看审计日志", "read the audit log of administrative changes"),
    "record_visits": ("入户走访 (日走访)", "record household visits from the phone (日走访)"),
    "read_visits": ("查看走访与住户覆盖率", "read the visits and the households' coverage"),
    "edit_households": ("维护门牌登记", "keep the register of address points (门牌) and households"),
    "read_analyses": ("查看周分析、月汇总、民情分析会", "read the weekly analyses, monthly summaries and opinion meetings"),
    "write_analyses": ("编写周分析、月汇总, 记录民情分析会", "write the weekly analyses and monthly summaries, record opinion meetings"),
    "read_office": ("查看办公室台账: 证照、印章、银行账户、法人登记要件",
                    "read the centre's registers: certificates, seals, bank accounts, the registration checklist"),
    "manage_office": ("登记办公室台账, 查看完整银行账号", "keep the centre's registers; see a bank account's full number"),
    "issue_tasks": ("交办任务", "issue tasks (a department: general tasks to villages and departments)"),
    "read_all_tasks": ("查看全部交办任务", "read every task and its assignees' progress"),
    "work_tasks": ("签收、反馈交办任务", "acknowledge, report on and complete the tasks assigned"),
    "approve_info_collection": ("审批向网格员下达的信息采集任务", "approve the information-collection tasks given to grid workers"),
}


@dataclass(frozen=True)
class Role:
    name: str
    zh: str  # the account's title, as the header and /me show it
    en: str
    short_zh: str  # in a sentence: "调度员不能…"
    permissions: frozenset[str]


def _r(name: str, zh: str, en: str, short_zh: str, permissions: str) -> Role:
    return Role(name, zh, en, short_zh, frozenset(permissions.split()))


# In the order of the accounts' check constraint (db/models.py).
TABLE: dict[str, Role] = {r.name: r for r in (
    _r("worker", "专职网格员", "grid worker", "网格员",
       "report report_on_mobile see_grid_personal_data see_tracks sign_in record_visits work_tasks"),
    _r("leader", "网格长", "grid leader", "网格长",  # the village's
       "report report_on_mobile use_dispatch_console return_visit read_supervision see_grid_personal_data "
       "see_tracks edit_places sign_in read_hotspots read_staff read_visits edit_households read_analyses "
       "write_analyses issue_tasks work_tasks"),
    _r("dispatcher", "镇综治中心调度员", "town dispatcher", "调度员",  # 镇综治中心
       "report report_for_residents use_dispatch_console handle_cases supervise_cases return_visit "
       "read_supervision edit_calendar see_personal_data see_tracks review_patrols edit_places read_plans "
       "read_hotspots read_hotline import_hotline handle_hotline read_staff manage_staff read_visits "
       "edit_households read_analyses write_analyses manage_office read_office issue_tasks read_all_tasks"),
    _r("town_leader", "镇领导", "town leader", "镇领导",
       "report report_for_residents use_dispatch_console supervise_cases read_supervision see_tracks "
       "review_patrols edit_places read_plans read_hotspots read_hotline instruct_hotline read_staff "
       "read_visits read_analyses read_office issue_tasks read_all_tasks"),
    _r("department", "职能部门", "department", "职能部门",  # 职能部门 / 业务科室
       "use_dispatch_console read_supervision answer_hotline issue_tasks work_tasks"),
    _r("district", "区网格中心", "district grid center", "区网格中心",
       "report report_for_residents use_dispatch_console read_supervision see_all_areas see_personal_data "
       "see_tracks review_patrols edit_places read_plans read_hotspots read_hotline import_hotline "
       "close_hotline read_audit read_staff spot_check read_visits read_analyses approve_info_collection "
       "issue_tasks read_all_tasks"),
    _r("planner", "网格规划员", "planner", "规划员",
       "plan_grids read_plans read_hotspots"),
    _r("analyst", "数据分析员", "analyst", "分析员",
       "read_hotspots read_hotline"),
    _r("admin", "系统管理员", "administrator", "管理员",
       "report report_for_residents use_dispatch_console handle_cases supervise_cases return_visit "
       "read_supervision edit_calendar see_all_areas see_personal_data see_tracks review_patrols edit_places "
       "plan_grids read_plans read_hotspots read_hotline import_hotline handle_hotline administer read_audit "
       "read_staff manage_staff spot_check read_visits edit_households read_analyses write_analyses "
       "manage_office read_office issue_tasks read_all_tasks"),
)}
ROLES: tuple[str, ...] = tuple(TABLE)


def has_permission(role: str | None, permission: str) -> bool:
    """Whether ``role`` holds ``permission``; False for an unknown role. An unknown permission is
    a programming error (:class:`KeyError`), not a refusal."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    entry = TABLE.get(role) if role is not None else None
    return entry is not None and permission in entry.permissions


def roles_with(permission: str) -> frozenset[str]:
    """The roles that hold ``permission``."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return frozenset(r.name for r in TABLE.values() if permission in r.permissions)


def labels(role: str) -> tuple[str, str]:
    """The role's title ``(zh, en)``; an unknown role is its own label."""
    entry = TABLE.get(role)
    return (entry.zh, entry.en) if entry else (role, role)


def label(role: str, lang: str = "zh") -> str:
    """The role's title in ``lang`` (``zh`` or ``en``)."""
    zh, en = labels(role)
    return en if lang == "en" else zh


def short_label(role: str) -> str:
    """The role's short Chinese name, as a sentence uses it ("调度员不能…")."""
    entry = TABLE.get(role)
    return entry.short_zh if entry else role


SYSTEM = ("系统", "system")  # an event no person took: the deadline job, an import


def who(name: str | None, role: str | None, *, department: str | None = None, lang: str = "zh") -> str:
    """The person behind an event as a timeline shows them: their name and 职务 ("石飞 · 专职网格员"),
    the department's name for a department's account; the title alone when no person is known, and
    "系统" when not even a role is."""
    if role is None and name is None:
        return SYSTEM[1] if lang == "en" else SYSTEM[0]
    title = department or (label(role, lang) if role else None)
    return " · ".join(part for part in (name, title) if part)
