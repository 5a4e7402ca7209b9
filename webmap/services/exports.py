"""Case exports (导出): one row per case, with a column for each time of its life, as an .xlsx.

- :func:`start_case_export` takes the dispatcher console's filters, counts the cases within the
  reader's scope and makes a job. Up to ``EXPORT_SYNC_MAX`` cases (10,000) the file is written in
  the request and the job is 完成 at once; beyond, the job is 排队 and a thread of the app process
  writes it (one export at a time, so a second waits in the queue).
- The job is a JSON file next to its workbook in ``EXPORTS_DIR`` (var/exports):
  ``<job>.json`` holds who asked, the filters, the state (排队 | 进行中 | 完成 | 失败) and the
  progress (``done`` of ``total`` rows); ``<job>.xlsx`` is written with openpyxl's write-only mode
  (rows streamed to disk, memory flat at any size). No table: a job is a file that lives and is
  removed with its workbook.
- :func:`job_status` and :func:`job_file` answer only the account that asked, or one of the same
  role, scope and department (who would get the same file); anyone else gets 404.

The lifecycle times come from case_events (:data:`LIFECYCLE`); residents' names and phones are
masked unless the reader may see them on the case (:func:`privacy.may_see_reporter`, as the case
detail does), and an export that shows any in full is written to the audit log.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, aliased

from db.models import Area, CaseEvent, Category, Department, Grid, Incident
from workflow import cases
from workflow.clock import SHANGHAI, format_iso

from . import audit, features, mapdata, privacy
from .errors import BadRequestError, ForbiddenError, NotFoundError
from .incidents import SOURCE_LABELS

log = logging.getLogger(__name__)

SYNC_MAX = 10_000  # up to this many cases the file is written in the request
BATCH = 1_000  # rows read (and progress stored) at a time
QUEUED, RUNNING, DONE, FAILED = "排队", "进行中", "完成", "失败"
STATE_EN = {QUEUED: "queued", RUNNING: "running", DONE: "done", FAILED: "failed"}
JOB_ID = re.compile(r"[0-9a-f]{16}")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILTER_KEYS = ("state", "category", "village", "grid", "source", "since", "until", "overdue", "bbox")


@dataclass(frozen=True)
class Milestone:
    """One lifecycle time: the actions whose event marks it, and whether the first or the last
    such event counts (a returned case is dispatched again; a reworked one fed back again)."""

    key: str
    zh: str
    en: str
    actions: tuple[str, ...]
    last: bool


# 上报 → 立案 → 派遣 → 接收 → 反馈 → 核查 → 结案. Village handling counts as accepting and feeding
# back; a case closes by the grid worker's verification or on the spot (every action into 结案).
LIFECYCLE = (
    Milestone("reported", "上报时间", "reported", ("report",), last=False),
    Milestone("filed", "立案时间", "filed", ("file",), last=False),
    Milestone("dispatched", "派遣时间", "dispatched", ("dispatch",), last=True),
    Milestone("accepted", "接收时间", "accepted", ("accept", "village_handle"), last=True),
    Milestone("fed_back", "反馈时间", "fed back", ("feedback", "village_done"), last=True),
    Milestone("verified", "核查时间", "verified", ("verify_pass",), last=True),
    Milestone("closed", "结案时间", "closed",
              tuple(name for name, a in cases.ACTIONS.items() if a.to_state == cases.CLOSED
                    and cases.CLOSED not in a.from_states), last=False),
)
COLUMNS = (
    ("case_no", "案卷号"), ("state", "状态"), ("category_class", "大类"), ("category", "小类"),
    ("source", "来源"), ("village", "村/社区"), ("grid_code", "网格编码"), ("grid", "网格"),
    ("address", "地址"), ("description", "问题描述"), ("department", "处置部门"),
    ("reporter", "上报人"), ("reporter_phone", "上报人电话"), ("deadline", "办理时限"),
    *((m.key, m.zh) for m in LIFECYCLE),
    ("rework_count", "返工次数"), ("return_count", "回退次数"), ("satisfaction", "满意度"),
)


@dataclass(frozen=True)
class Reader:
    """The account an export is made for, as the scope rules read it (a background thread has no
    signed-in user)."""

    id: int
    username: str
    role: str
    scope_code: str
    department_id: int | None = None
    is_authenticated: bool = True

    @classmethod
    def of(cls, user) -> Reader:
        return cls(user.id, user.username, user.role, user.scope_code, user.department_id)


# ---------------------------------------------------------------- filters


def parse_filters(body) -> tuple[mapdata.MapFilter, dict]:
    """The console's filters from a JSON body (``state`` a comma list, ``category``, ``village``,
    ``grid``, ``source``, ``since``, ``until``, ``overdue``, optional ``bbox``): the filter and the
    filters as given (kept with the job). Malformed: 400 field by field."""
    if body is None:
        body = {}
    if not isinstance(body, Mapping):
        raise BadRequestError("请求体应为 JSON 对象", "the body must be a JSON object")
    given = {}
    for key in FILTER_KEYS:
        value = body.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        if not isinstance(value, str | int | float):
            raise BadRequestError(f"{key} 应为字符串", f"{key} must be a string", param=key)
        given[key] = str(value)
    since, until = (features.parse_moment(given.get(n), n) for n in ("since", "until"))
    f = mapdata.parse_filter({k: v for k, v in given.items() if k in mapdata.PARAMS},
                             since=since.start if since else None, until=until.end if until else None,
                             bbox_required=False)
    return f, given


# ---------------------------------------------------------------- the rows


def _where(reader: Reader, f: mapdata.MapFilter, now: datetime) -> list:
    return mapdata.filter_where(reader, f, now)  # the console's own filters, scope included


def count_cases(db: Session, reader: Reader, f: mapdata.MapFilter, now: datetime) -> int:
    return db.execute(select(func.count()).select_from(Incident).where(*_where(reader, f, now))).scalar_one()


def _case_select():
    village = aliased(Area)
    return (
        select(Incident.id, Incident.case_no, Incident.state, Incident.source, Incident.grid_code,
               Incident.address, Incident.description, Incident.reporter_name, Incident.reporter_phone,
               Incident.department_id, Incident.deadline, Incident.reported_at, Incident.rework_count,
               Incident.return_count, Incident.satisfaction,
               Category.class_name.label("cat_class"), Category.name.label("cat_name"),
               village.name.label("village_name"), Grid.name.label("grid_name"),
               Department.name.label("dept_name"))
        .join(Category, Category.id == Incident.category_id)
        .outerjoin(Grid, Grid.id == Incident.grid_id)
        .outerjoin(village, village.code == Incident.village_code)
        .outerjoin(Department, Department.id == Incident.department_id)
    )


def lifecycle_times(db: Session, ids: list[int]) -> dict[int, dict[str, datetime]]:
    """Each case's lifecycle times (:data:`LIFECYCLE` key → time) from its events."""
    columns = [(func.max if m.last else func.min)(CaseEvent.at).filter(CaseEvent.action.in_(m.actions)).label(m.key)
               for m in LIFECYCLE]
    rows = db.execute(select(CaseEvent.incident_id, *columns).where(CaseEvent.incident_id.in_(ids))
                      .group_by(CaseEvent.incident_id)).all()
    return {r.incident_id: {m.key: getattr(r, m.key) for m in LIFECYCLE} for r in rows}


def _local(moment: datetime | None):
    """Excel has no time zones: the wall clock of Asia/Shanghai, to the second."""
    return None if moment is None else moment.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)


def iter_rows(db: Session, reader: Reader, f: mapdata.MapFilter, now: datetime, shown: list | None = None):
    """Batches of rows (lists in :data:`COLUMNS` order), oldest report first, read :data:`BATCH`
    at a time by keyset on (reported_at, id). ``shown`` collects the ids whose reporter is shown
    unmasked."""
    where, after = _where(reader, f, now), None
    while True:
        query = _case_select().where(*where)
        if after is not None:
            query = query.where(tuple_(Incident.reported_at, Incident.id) > after)
        rows = db.execute(query.order_by(Incident.reported_at, Incident.id).limit(BATCH)).all()
        if not rows:
            return
        times = lifecycle_times(db, [r.id for r in rows])
        batch = []
        for r in rows:
            full = privacy.may_see_reporter(reader, r)
            if full and shown is not None and (r.reporter_name or r.reporter_phone):
                shown.append(r.id)
            t = times.get(r.id, {})
            batch.append([
                r.case_no, r.state, r.cat_class, r.cat_name, SOURCE_LABELS.get(r.source, r.source), r.village_name,
                r.grid_code, r.grid_name, r.address, r.description, r.dept_name,
                r.reporter_name if full else privacy.mask_name(r.reporter_name),
                r.reporter_phone if full else privacy.mask_phone(r.reporter_phone),
                _local(r.deadline),
                *(_local(t.get(m.key) or (r.reported_at if m.key == "reported" else None)) for m in LIFECYCLE),
                r.rework_count, r.return_count, r.satisfaction,
            ])
        yield batch
        after = (rows[-1].reported_at, rows[-1].id)


# ---------------------------------------------------------------- jobs on disk


def _paths(directory: Path, job: str) -> tuple[Path, Path]:
    return directory / f"{job}.json", directory / f"{job}.xlsx"


def _save(directory: Path, record: dict) -> None:
    """Written whole and renamed: a reader never sees half a record."""
    meta, _ = _paths(directory, record["job"])
    tmp = meta.with_suffix(f".{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, meta)


def _load(directory: Path, job: str) -> dict | None:
    if not JOB_ID.fullmatch(job or ""):
        return None
    meta, _ = _paths(directory, job)
    try:
        return json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _may_read(record: dict, user) -> bool:
    """The account that asked, or one that would get the very same file (same role, scope and
    department: the same cases, the same masking)."""
    owner = record["owner"]
    return user.id == owner["id"] or (user.role == owner["role"] and user.scope_code == owner["scope_code"]
                                      and user.department_id == owner["department_id"])


def write_workbook(db: Session, directory: Path, record: dict, f: mapdata.MapFilter, now: datetime) -> dict:
    """Write the job's workbook, storing the progress after each batch; the record as finished."""
    reader = Reader(**record["owner"])
    _, path = _paths(directory, record["job"])
    record.update(state=RUNNING, done=0)
    _save(directory, record)
    shown: list[int] = []
    book = Workbook(write_only=True)
    sheet = book.create_sheet("案件")
    sheet.append([zh for _key, zh in COLUMNS])
    for batch in iter_rows(db, reader, f, now, shown):
        for row in batch:
            sheet.append(row)
        record["done"] += len(batch)
        _save(directory, record)
    about = book.create_sheet("说明")
    for row in (("导出时间", _local(now)), ("导出人", record["owner"]["username"]),
                ("筛选条件", json.dumps(record["filters"], ensure_ascii=False) if record["filters"] else "全部"),
                ("案件数", record["done"]),
                ("说明", "时间为北京时间; 居民姓名电话按导出人权限脱敏; 各时间取自案件流转记录 (派遣、接收、反馈、核查取最后一次)")):
        about.append(list(row))
    tmp = path.with_suffix(".xlsx.part")
    book.save(tmp)
    os.replace(tmp, path)
    if shown:
        audit.audit(db, reader, "view_personal_data", "incidents", None,
                    {"ids": shown[:500], "count": len(shown), "export": record["job"]})
        db.commit()
    record.update(state=DONE, total=max(record["total"], record["done"]), finished=format_iso(datetime.now(SHANGHAI)))
    _save(directory, record)
    return record


_executors: dict[int, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def _executor(key: int) -> ThreadPoolExecutor:
    """One worker thread per app: exports run one after the other, the rest wait (排队)."""
    with _lock:
        if key not in _executors:
            _executors[key] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wangge-export")
        return _executors[key]


def _run(session_factory, directory: Path, record: dict, f: mapdata.MapFilter, now: datetime) -> None:
    try:
        with session_factory() as db:
            write_workbook(db, directory, record, f, now)
    except Exception as exc:  # the job says so; the page shows 失败 rather than waiting for ever
        log.exception("export %s failed", record["job"])
        record.update(state=FAILED, error=str(exc)[:300])
        _save(directory, record)


def start_case_export(db: Session, user, body, *, directory: Path, sync_max: int, session_factory,
                      app_key: int) -> dict:
    """A new export of the cases the console's filters select: the job record, 完成 when it was
    small enough to write at once (≤ ``sync_max`` cases), else 排队 with the writing handed to the
    app's export thread (``session_factory`` opens its own database session)."""
    if not user.can("use_dispatch_console"):
        raise ForbiddenError("此角色不能导出案件", "this role cannot export cases")
    f, given = parse_filters(body)
    now = datetime.now(SHANGHAI)
    reader = Reader.of(user)
    total = count_cases(db, reader, f, now)
    directory.mkdir(parents=True, exist_ok=True)
    record = {
        "job": secrets.token_hex(8), "kind": "cases", "state": QUEUED, "done": 0, "total": total,
        "filters": given, "created": format_iso(now), "pid": os.getpid(),
        "owner": {"id": user.id, "username": user.username, "role": user.role, "scope_code": user.scope_code,
                  "department_id": user.department_id},
    }
    _save(directory, record)
    if total <= sync_max:
        return write_workbook(db, directory, record, f, now)
    _executor(app_key).submit(_run, session_factory, directory, dict(record), f, now)
    return record


def _alive(pid: int | None) -> bool:
    if pid is None or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: it exists
    return True


def job_status(directory: Path, user, job: str) -> dict:
    """The job's record. One left 排队 or 进行中 by an app process that has since stopped (a restart)
    is 失败: nothing will finish it, and the page should not wait for ever."""
    record = _load(directory, job)
    if record is None or not _may_read(record, user):
        raise NotFoundError("没有这个导出任务", "no such export")
    if record["state"] in (QUEUED, RUNNING) and not _alive(record.get("pid")):
        record.update(state=FAILED, error="the app stopped before the export was finished")
        _save(directory, record)
    return record


def job_file(directory: Path, user, job: str) -> tuple[Path, str]:
    """The finished workbook and its download name; 404 before it is finished."""
    record = job_status(directory, user, job)
    _, path = _paths(directory, job)
    if record["state"] != DONE or not path.exists():
        raise NotFoundError("导出文件尚未生成", "the export is not ready")
    stamp = record["created"][:16].replace("-", "").replace("T", "_").replace(":", "")
    return path, f"cases_{stamp}_{job[:6]}.xlsx"
