"""The monthly spot check (一月一抽查, seed 7-2) by the district's grid centre.

:func:`draw` (permission ``spot_check``: the district, the administrator; nobody else chooses the
sample) draws, for every grid worker who held a grid in an ended month
(:func:`webmap.services.attendance.roster`), a sample of their records of that month: their reports
(incidents they reported: their account as reporter, or, when no reporter account is stored, the
phone's and the patrol's reports routed to them, :data:`workflow.staff.SPOT_REPORT_SOURCES`), their
patrols and their sign-ins. The sample is ``random.Random(seed).sample`` over the ids in id order,
``seed = "<month>:<worker id>"`` (stored in ``spot_checks.seed``), sizes from
:data:`workflow.staff.SPOT_SAMPLE`: the same every time it is drawn, different from month to month.
Drawing again returns the checks already drawn (one per month and worker).

:func:`record` stores the checker's 合格/不合格 per item (a fail needs a reason; ``version`` guards
against stale pages). When every item is recorded the check is 已完成 and its result goes out as a
notice to the worker and their village; a share passed below
:data:`workflow.staff.SPOT_PASS_THRESHOLD` is a finding of 工作不力 and opens a discipline case at
通报批评 (:func:`webmap.services.discipline.open_case`).
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.models import Person, SpotCheck, SpotCheckItem
from workflow import roles, staff
from workflow.clock import SHANGHAI, format_iso

from . import discipline, notices
from .attendance import Scope, roster
from .errors import ConflictError, FieldError, ForbiddenError, InvalidInputError, NotFoundError

MONTH = re.compile(r"(\d{4})-(\d{2})")
KIND_ZH = {"report": "上报事件", "patrol": "巡查", "sign_in": "签到"}


class SpotInputError(InvalidInputError):
    CODE = "SpotCheckRejected"
    LEAD = ("抽查未保存", "the spot check was not saved")


def parse_month(raw) -> date:
    """``YYYY-MM`` → the month's first day; 400 otherwise."""
    match = MONTH.fullmatch(raw) if isinstance(raw, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise SpotInputError([FieldError("month", "月份应为 YYYY-MM, 如 2026-11", "month must be YYYY-MM, e.g. 2026-11")],
                                status=400)
    return date(int(match.group(1)), int(match.group(2)), 1)


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def _records(db: Session, first: date) -> dict[str, dict[int, list[int]]]:
    """The ids of each kind per worker of the month, in id order."""
    span = {"a": datetime.combine(first, time.min, SHANGHAI),
            "b": datetime.combine(_next_month(first), time.min, SHANGHAI)}
    queries = {
        "report": """
            SELECT coalesce(a.person_id, i.worker_id) AS p, array_agg(i.id ORDER BY i.id) AS ids
              FROM incidents i LEFT JOIN accounts a ON a.id = i.reporter_id AND a.role = 'worker'
             WHERE i.reported_at >= :a AND i.reported_at < :b
               AND (a.person_id IS NOT NULL OR (i.reporter_id IS NULL AND i.source = ANY(:sources)))
             GROUP BY 1""",
        "patrol": "SELECT worker_id AS p, array_agg(id ORDER BY id) AS ids FROM patrols "
                  "WHERE started_at >= :a AND started_at < :b GROUP BY 1",
        "sign_in": "SELECT worker_id AS p, array_agg(id ORDER BY id) AS ids FROM attendance "
                   "WHERE kind = 'in' AND at >= :a AND at < :b GROUP BY 1",
    }
    out = {}
    for kind, sql in queries.items():
        rows = db.execute(text(sql), {**span, "sources": list(staff.SPOT_REPORT_SOURCES)}).all()
        out[kind] = {r.p: list(r.ids) for r in rows if r.p is not None}
    return out


def sample(seed: str, records: dict[str, list[int]]) -> list[tuple[str, int]]:
    """The sampled (kind, id) of one worker: per kind up to its size, by a generator seeded with
    ``seed``, each kind's pick in id order."""
    rng = random.Random(seed)
    picked = []
    for kind in staff.SPOT_ITEM_KINDS:
        ids = sorted(records.get(kind, []))
        size = min(staff.SPOT_SAMPLE[kind], len(ids))
        picked += [(kind, ref) for ref in sorted(rng.sample(ids, size))]
    return picked


def draw(db: Session, user, body, now: datetime | None = None) -> dict:
    """Draw the month's checks (idempotent). Commits."""
    if not roles.has_permission(user.role, "spot_check"):
        raise ForbiddenError("只有区网格中心抽查, 其他人不能选择样本", "only the district's grid centre draws the sample")
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    if not isinstance(body, dict):
        raise SpotInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")], status=400)
    first = parse_month(body.get("month"))
    if _next_month(first) > now.date():
        raise SpotInputError([FieldError("month", f"{first:%Y-%m} 尚未结束, 月末之后才能抽查",
                                         f"{first:%Y-%m} has not ended: it is drawn after its last day")])
    last = _next_month(first) - timedelta(days=1)
    drawn = set(db.execute(select(SpotCheck.worker_id).where(SpotCheck.month == first)).scalars())
    records = None
    for worker in roster(db, Scope(""), first, last):
        if worker.person_id in drawn:
            continue
        if records is None:
            records = _records(db, first)
        seed = f"{first:%Y-%m}:{worker.person_id}"
        check = SpotCheck(month=first, worker_id=worker.person_id, grid_code=worker.grid_code, seed=seed,
                          state="待检查", drawn_at=now, drawn_by=user.id, version=1)
        db.add(check)
        db.flush()
        items = sample(seed, {k: records[k].get(worker.person_id, []) for k in staff.SPOT_ITEM_KINDS})
        for n, (kind, ref) in enumerate(items, start=1):
            db.add(SpotCheckItem(spot_check_id=check.id, item=n, kind=kind, ref_id=ref))
        if not items:  # nothing to check this month: done at once, without a verdict
            check.state, check.finished_at = "已完成", now
        drawn.add(worker.person_id)
    db.commit()
    return listing(db, user, {"month": f"{first:%Y-%m}"})


def _scope(db: Session, user, village: str | None):
    """The checks the user reads: a worker their own, a leader their village's, the town all."""
    if user.role == "worker":
        person = db.execute(text("SELECT person_id FROM accounts WHERE id = :a"), {"a": user.id}).scalar()
        return SpotCheck.worker_id == person
    if not roles.has_permission(user.role, "read_staff"):
        raise ForbiddenError("此角色不能查看抽查", "this role does not read spot checks")
    if village and not (village.isdigit() and len(village) in (12, 15)):
        raise SpotInputError([FieldError("village", "应为 12 位村编码", "a village code of 12 digits")], status=400)
    own = user.scope_code if user.role == "leader" else ""
    prefix = village or own
    if own and not prefix.startswith(own):
        raise ForbiddenError(f"{village} 不在您的管辖范围内", f"{village} is outside your area")
    return SpotCheck.grid_code.startswith(prefix, autoescape=True)


def _describe(db: Session, items: list[SpotCheckItem]) -> dict[tuple[str, int], dict]:
    ids = {k: [i.ref_id for i in items if i.kind == k] for k in staff.SPOT_ITEM_KINDS}
    out = {}
    for r in db.execute(text("SELECT id, case_no, reported_at FROM incidents WHERE id = ANY(:i)"), {"i": ids["report"]}):
        out["report", r.id] = {"label": r.case_no, "at": format_iso(r.reported_at), "url": f"/inbox?case={r.id}"}
    for r in db.execute(text("SELECT id, started_at FROM patrols WHERE id = ANY(:i)"), {"i": ids["patrol"]}):
        out["patrol", r.id] = {"label": f"{r.started_at.astimezone(SHANGHAI):%m-%d %H:%M}", "at": format_iso(r.started_at),
                               "url": f"/api/v1/patrols/{r.id}"}
    for r in db.execute(text("SELECT id, at FROM attendance WHERE id = ANY(:i)"), {"i": ids["sign_in"]}):
        out["sign_in", r.id] = {"label": f"{r.at.astimezone(SHANGHAI):%m-%d %H:%M}", "at": format_iso(r.at), "url": None}
    return out


def _serialize(check: SpotCheck, items: list[SpotCheckItem], person: Person | None, described: dict) -> dict:
    done = [i for i in items if i.result]
    passed = sum(1 for i in done if i.result == "pass")
    return {
        "id": check.id, "month": f"{check.month:%Y-%m}", "worker": {"id": check.worker_id, "name": person.name if person else None},
        "grid_code": check.grid_code, "village_code": check.grid_code[:12], "seed": check.seed, "state": check.state,
        "version": check.version, "drawn_at": format_iso(check.drawn_at), "finished_at": format_iso(check.finished_at),
        "recorded": len(done), "total": len(items), "passed": passed,
        "share_passed": round(passed / len(items), 3) if items and len(done) == len(items) else None,
        "items": [{"item": i.item, "kind": i.kind, "kind_zh": KIND_ZH[i.kind], "ref_id": i.ref_id, **described.get((i.kind, i.ref_id), {}),
                   "result": i.result, "reason": i.reason, "checked_at": format_iso(i.checked_at)} for i in items],
    }


def _load(db: Session, checks: list[SpotCheck]) -> list[dict]:
    if not checks:
        return []
    ids = [c.id for c in checks]
    items = db.execute(select(SpotCheckItem).where(SpotCheckItem.spot_check_id.in_(ids))
                       .order_by(SpotCheckItem.spot_check_id, SpotCheckItem.item)).scalars().all()
    people = {p.id: p for p in db.execute(select(Person).where(Person.id.in_({c.worker_id for c in checks}))).scalars()}
    described = _describe(db, items)
    by_check: dict[int, list] = {}
    for i in items:
        by_check.setdefault(i.spot_check_id, []).append(i)
    return [_serialize(c, by_check.get(c.id, []), people.get(c.worker_id), described) for c in checks]


def listing(db: Session, user, args) -> dict:
    """``?month=YYYY-MM[&village=…]`` (``mine=1``: a worker's own, which is all a worker reads)."""
    where = _scope(db, user, args.get("village") or None)
    query = select(SpotCheck).where(where)
    month = args.get("month")
    if month:
        query = query.where(SpotCheck.month == parse_month(month))
    checks = db.execute(query.order_by(SpotCheck.month.desc(), SpotCheck.grid_code, SpotCheck.id).limit(500)).scalars().all()
    items = _load(db, checks)
    done = [c for c in items if c["share_passed"] is not None]
    return {"month": month, "items": items, "finished": len(done),
            "share_passed": round(sum(c["share_passed"] for c in done) / len(done), 3) if done else None}


def record(db: Session, user, check_id: int, item_no: int, body, now: datetime | None = None) -> dict:
    """``{"result": "pass"|"fail", "reason", "version"}`` for one item. Commits."""
    if not roles.has_permission(user.role, "spot_check"):
        raise ForbiddenError("只有区网格中心记录抽查结果", "only the district's grid centre records a spot check")
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    check = db.execute(select(SpotCheck).where(SpotCheck.id == check_id).with_for_update()).scalar_one_or_none()
    if check is None:
        raise NotFoundError("没有这次抽查", "no such spot check")
    item = db.execute(select(SpotCheckItem).where(SpotCheckItem.spot_check_id == check.id,
                                                  SpotCheckItem.item == item_no)).scalar_one_or_none()
    if item is None:
        raise NotFoundError("这次抽查没有这一项", "no such item in this spot check")
    if not isinstance(body, dict):
        raise SpotInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")])
    errors = []
    result, reason = body.get("result"), body.get("reason")
    if result not in staff.SPOT_RESULTS:
        errors.append(FieldError("result", "结果应为 pass (合格) 或 fail (不合格)", "the result is pass or fail"))
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        errors.append(FieldError("reason", "理由最多 500 字", "the reason is at most 500 characters"))
    elif result == "fail" and not (reason or "").strip():
        errors.append(FieldError("reason", "不合格须说明理由", "a fail needs a reason"))
    if errors:
        raise SpotInputError(errors)
    if body.get("version") != check.version:
        raise ConflictError("抽查已被他人更新, 请刷新", "the spot check changed since you read it",
                            current=_load(db, [check])[0])
    if check.state == "已完成":
        raise SpotInputError([FieldError("item", "抽查已完成, 结果不能再改", "the check is finished: its results stand")])
    item.result, item.reason = result, (reason or "").strip() or None
    item.checked_at, item.checked_by = now, user.id
    check.version += 1
    db.flush()
    items = db.execute(select(SpotCheckItem).where(SpotCheckItem.spot_check_id == check.id)).scalars().all()
    if all(i.result for i in items):
        _finish(db, check, items, now)
    db.commit()
    return _load(db, [check])[0]


def _finish(db: Session, check: SpotCheck, items: list[SpotCheckItem], now: datetime) -> None:
    check.state, check.finished_at = "已完成", now
    passed = sum(1 for i in items if i.result == "pass")
    share = passed / len(items)
    failed = [f"{KIND_ZH[i.kind]} #{i.item}: {i.reason}" for i in sorted(items, key=lambda i: i.item) if i.result == "fail"]
    body = f"{check.month:%Y年%m月}抽查 {len(items)} 项, 合格 {passed} 项 ({share:.0%})"
    body += ("; 不合格: " + "; ".join(failed)) if failed else "。"
    notices.send(db, kind="spot_check", title=f"{check.month:%Y-%m} 抽查结果", body=body, ref=f"spot_check:{check.id}",
                 at=now, person_id=check.worker_id, village=check.grid_code[:12])
    if share < staff.SPOT_PASS_THRESHOLD:
        discipline.open_case(db, worker_id=check.worker_id, grid_code=check.grid_code, spot_check_id=check.id,
                             finding=f"工作不力: {body}", now=now)
