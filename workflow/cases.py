"""The case workflow as data: states, actions, who may take them, at which tier, from which state.

The states follow the digital city-management workflow (GB/T 30428: 信息采集 → 立案 → 派遣 → 处理
→ 反馈 → 核查结案) and the town's own tiers (seed 1-1: the grid worker reports to the grid leader;
the village handles what is within its authority and escalates the rest to the town; the town
files, dispatches to departments and supervises). Nothing here knows about Flask or SQL: a case is
a small record, an actor is a role with a scope, :func:`check` says whether an actor may take an
action now and :func:`transition` what the action changes (the service only persists it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime, time, timedelta

from workflow import roles
from workflow.clock import SHANGHAI, WORK_PERIODS, WorkCalendar

# States (案卷状态)
REPORTED = "待受理"  # reported, waiting for the tier that holds it
FILED = "已立案"  # accepted and filed by the town, waiting to be dispatched
DISPATCHED = "立案派遣"  # sent to a department; the deadline clock runs
HANDLING = "处理中"  # a department (or the village) is handling it
VERIFYING = "待核查"  # handled; the grid worker is to verify on site (结案核查)
CLOSED = "结案"
VOID = "作废"
PARKED = "挂账"  # cannot be solved now; kept on the books
SUPERVISED = "督办"  # the town presses the department; still being handled

STATES = (REPORTED, FILED, DISPATCHED, HANDLING, VERIFYING, CLOSED, VOID, PARKED, SUPERVISED)
# the states in English, as ``?lang=en`` pages and the API's ``state_en`` show them
STATE_EN = {
    REPORTED: "reported", FILED: "filed", DISPATCHED: "dispatched", HANDLING: "in hand",
    VERIFYING: "to verify", CLOSED: "closed", VOID: "void", PARKED: "parked", SUPERVISED: "supervised",
}
OPEN_STATES = (REPORTED, FILED, DISPATCHED, HANDLING, VERIFYING, PARKED, SUPERVISED)
TIERS = ("village", "town")


@dataclass(frozen=True)
class Case:
    """What the rules need to know of a case."""

    state: str
    tier: str  # who holds it now: the village (grid leader) or the town center
    grid_code: str | None
    category_self_handle: bool
    department_id: int | None = None
    reporter_id: int | None = None
    extension_pending: bool = False
    # what :func:`transition` needs besides: the clock, the category's time limit, the counters
    dispatched_at: datetime | None = None
    deadline: datetime | None = None
    time_limit: int | None = None
    time_unit: str | None = None
    return_count: int = 0
    rework_count: int = 0


@dataclass(frozen=True)
class Actor:
    id: int
    role: str
    scope_code: str
    department_id: int | None = None


@dataclass(frozen=True)
class Action:
    name: str
    label_zh: str
    label_en: str
    roles: frozenset[str]
    from_states: frozenset[str]
    to_state: str | None  # None: the state does not change
    tier: str | None = None  # the tier the case must be at, if any
    to_tier: str | None = None
    needs: frozenset[str] = field(default_factory=frozenset)  # note, photos, department, satisfaction
    starts_clock: bool = False  # the deadline is set when the case is dispatched
    counts: str | None = None  # the counter of the case it adds one to (回退, 返工 are indicators)
    extends_deadline: bool = False  # the deadline moves by the working days the department asked for


def _a(name, zh, en, roles, from_states, to_state, tier=None, to_tier=None, needs=(), starts_clock=False,
       counts=None, extends_deadline=False):
    return Action(name, zh, en, frozenset(roles), frozenset(from_states), to_state, tier, to_tier,
                  frozenset(needs), starts_clock, counts, extends_deadline)


TOWN = roles.roles_with("handle_cases")  # the town center's desk
ACTIONS: dict[str, Action] = {a.name: a for a in (
    # the grid worker
    _a("self_handle", "就地处置", "handle on the spot", ["worker"], [REPORTED], CLOSED, tier="village",
       needs=["note", "photos"]),
    _a("escalate", "上报镇综治中心", "escalate to the town", ["worker", "leader"], [REPORTED, HANDLING], REPORTED,
       tier="village", to_tier="town", needs=["note"]),
    # the grid leader (village)
    _a("village_handle", "村级处置", "handle in the village", ["leader"], [REPORTED], HANDLING, tier="village"),
    _a("village_done", "村级处置完毕", "village handling done", ["leader"], [HANDLING], VERIFYING, tier="village",
       needs=["note"]),
    # the town center
    _a("file", "受理立案", "accept and file", TOWN, [REPORTED], FILED, tier="town"),
    _a("void", "作废", "void", TOWN, [REPORTED, FILED], VOID, needs=["note"]),
    _a("dispatch", "派遣", "dispatch to a department", TOWN, [FILED], DISPATCHED, tier="town",
       needs=["department"], starts_clock=True),
    _a("supervise", "督办", "supervise", roles.roles_with("supervise_cases"), [DISPATCHED, HANDLING], SUPERVISED,
       tier="town", needs=["note"]),
    _a("park", "挂账", "park", TOWN, [FILED, DISPATCHED, HANDLING, SUPERVISED], PARKED, needs=["note"]),
    _a("unpark", "取消挂账", "take off the books", TOWN, [PARKED], FILED),
    _a("approve_extension", "同意延期", "approve the extension", TOWN, [HANDLING, SUPERVISED], None,
       extends_deadline=True),
    _a("refuse_extension", "不同意延期", "refuse the extension", TOWN, [HANDLING, SUPERVISED], None, needs=["note"]),
    # the department
    _a("accept", "接收", "accept", ["department"], [DISPATCHED], HANDLING),
    _a("return", "回退", "return as misrouted", ["department"], [DISPATCHED], FILED, needs=["note"],
       counts="return_count"),
    _a("request_extension", "申请延期", "ask for more time", ["department"], [HANDLING, SUPERVISED], None,
       needs=["note"]),
    _a("feedback", "处理反馈", "report back as handled", ["department"], [HANDLING, SUPERVISED], VERIFYING,
       needs=["note", "photos"]),
    # verification by the grid worker (结案核查)
    _a("verify_pass", "核查通过", "verified: fixed", ["worker"], [VERIFYING], CLOSED, needs=["photos"]),
    _a("verify_fail", "核查不通过(返工)", "verified: not fixed (rework)", ["worker"], [VERIFYING], HANDLING,
       needs=["note"], counts="rework_count"),
    # after closing
    _a("return_visit", "回访", "satisfaction return visit", roles.roles_with("return_visit"), [CLOSED], None,
       needs=["satisfaction"]),
)}


class TransitionError(Exception):
    """An action that cannot be taken. ``status`` 403: not this actor's; 422: not now."""

    def __init__(self, status: int, zh: str, en: str):
        super().__init__(en)
        self.status, self.zh, self.en = status, zh, en


def in_scope(actor: Actor, case: Case) -> bool:
    """Whether the case lies in the actor's territory (or, for a department, was sent to it)."""
    if roles.has_permission(actor.role, "see_all_areas"):
        return True
    if actor.role == "department":
        return actor.department_id is not None and actor.department_id == case.department_id
    if case.grid_code is None:
        return len(actor.scope_code) <= 9  # the town holds what lies outside every grid
    if len(actor.scope_code) == 15:
        return case.grid_code == actor.scope_code
    return case.grid_code.startswith(actor.scope_code)


def check(action_name: str, case: Case, actor: Actor, *, now: datetime | None = None,
          calendar: WorkCalendar | None = None) -> Action:
    """The action if this actor may take it on this case now; else :class:`TransitionError`.
    Given ``now`` and the ``calendar``, the time limits on an action are checked too (the
    department's return window)."""
    action = ACTIONS.get(action_name)
    if action is None:
        raise TransitionError(422, f"未知的操作 {action_name}", f"unknown action {action_name!r}")
    if actor.role not in action.roles:
        raise TransitionError(403, f"{roles.short_label(actor.role)}不能{action.label_zh}",
                              f"a {actor.role} cannot {action.label_en}")
    if not in_scope(actor, case):
        raise TransitionError(403, "该案件不在您的管辖范围", "this case is outside your scope")
    if case.state not in action.from_states:
        raise TransitionError(422, f"案件处于「{case.state}」, 不能{action.label_zh}",
                              f"a case in state {case.state} cannot be sent to {action.label_en}")
    if action.tier and case.tier != action.tier:
        where = "镇综治中心" if case.tier == "town" else "村(网格长)"
        raise TransitionError(422, f"案件现由{where}办理, 不能{action.label_zh}",
                              f"the case is held by the {case.tier}, not the {action.tier}")
    if action.name == "self_handle" and not case.category_self_handle:
        raise TransitionError(422, "该类别不允许网格员就地处置, 请上报", "this category cannot be handled on the spot")
    if action.name in ("approve_extension", "refuse_extension") and not case.extension_pending:
        raise TransitionError(422, "没有待审批的延期申请", "there is no extension request to decide")
    if action.name == "request_extension" and case.extension_pending:
        raise TransitionError(422, "已有待审批的延期申请", "an extension request is already pending")
    if action.name == "return" and now is not None and calendar is not None and case.dispatched_at \
            and now > return_deadline(case.dispatched_at, calendar):
        raise TransitionError(422, "派遣已超过 1 个工作日, 不能再回退; 请与镇综治中心联系",
                              "more than 1 working day since dispatch: it can no longer be returned")
    return action


def return_deadline(dispatched_at: datetime, calendar: WorkCalendar) -> datetime:
    """A department that is not responsible returns the case within 1 working day of dispatch
    (the Tianjin rule for 12345 orders, applied to every dispatched case)."""
    return calendar.add(dispatched_at, 1, "work_days")


def returnable_since(now: datetime, calendar: WorkCalendar) -> datetime:
    """The earliest dispatch that may still be returned at ``now``: ``now <=
    return_deadline(d)`` exactly when ``d >= returnable_since(now)`` (the window ends when the
    office closes on the first working day after the day of dispatch), so a query can test the
    window as ``dispatched_at >= returnable_since(now)``.

    >>> from workflow.clock import DEFAULT_CALENDAR as cal
    >>> monday_noon = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)
    >>> returnable_since(monday_noon, cal).isoformat()  # dispatched since Friday: still returnable
    '2026-11-27T00:00:00+08:00'
    """
    closes = WORK_PERIODS[-1][1]
    day = now.astimezone(SHANGHAI).date()
    while not calendar.is_workday(day) or datetime.combine(day, closes, SHANGHAI) < now:
        day += timedelta(days=1)  # the working day whose close is the first still to come
    day -= timedelta(days=1)
    while not calendar.is_workday(day):
        day -= timedelta(days=1)  # the working day before it
    return datetime.combine(day, time(0), SHANGHAI)


def allowed_actions(case: Case, actor: Actor, *, now: datetime | None = None,
                    calendar: WorkCalendar | None = None) -> list[str]:
    """The actions this actor may take on this case now, in table order; with ``now`` and the
    ``calendar`` the time limits too (what :func:`check` with them accepts)."""
    allowed = []
    for name, action in ACTIONS.items():
        if actor.role not in action.roles or case.state not in action.from_states:
            continue  # what check() refuses first, without building its reasons
        try:
            check(name, case, actor, now=now, calendar=calendar)
        except TransitionError:
            continue
        allowed.append(name)
    return allowed


def apply(case: Case, action: Action) -> Case:
    """The case after the action (state, tier, pending extension): the part of a transition that
    is pure. The caller checks the action first with :func:`check`."""
    pending = case.extension_pending
    if action.name == "request_extension":
        pending = True
    elif action.name in ("approve_extension", "refuse_extension"):
        pending = False
    return replace(
        case,
        state=action.to_state or case.state,
        tier=action.to_tier or case.tier,
        extension_pending=pending,
        department_id=None if action.name == "return" else case.department_id,
    )


@dataclass(frozen=True)
class Transition:
    """What an action does to a case: the case as the rules now see it, and the incident's
    columns that change (column name → new value)."""

    case: Case
    changes: dict


def transition(case: Case, action: Action, now: datetime, calendar: WorkCalendar, *,
               department_id: int | None = None, satisfaction: int | None = None,
               extension_days: int = 0) -> Transition:
    """The new state and the side effects of an action: the deadline clock starts at dispatch
    (to ``department_id``), a return (回退) and a failed verification (返工) are counted, an approved
    extension moves the deadline by the ``extension_days`` the department asked for, a return
    visit records the ``satisfaction``. The caller checks the action first with :func:`check`."""
    after = apply(case, action)
    changes: dict = {name: getattr(after, name) for name in ("state", "tier", "extension_pending", "department_id")
                     if getattr(after, name) != getattr(case, name)}
    if action.to_state == CLOSED:
        changes["closed_at"] = now
    if action.starts_clock:
        changes["department_id"] = department_id
        changes["dispatched_at"] = now
        changes["deadline"] = calendar.add(now, case.time_limit, case.time_unit)
    if action.counts:
        changes[action.counts] = getattr(case, action.counts) + 1
    if action.extends_deadline:
        changes["deadline"] = calendar.add(case.deadline or now, extension_days, "work_days")
    if "satisfaction" in action.needs:
        changes["satisfaction"] = satisfaction
    return Transition(replace(after, **{k: v for k, v in changes.items() if k in _CASE_FIELDS}), changes)


_CASE_FIELDS = {f.name for f in fields(Case)}

