"""Tasks from the town's leadership and the centre (交办任务, seed 8-1: 完成镇党委、镇政府交办的其它工作) and
the information-collection rule (seed 7-2 §3), as data and small functions.

A task comes from a document or a meeting (运行要件: 镇下发文件或会议布置): a title, a body, the
document as attachments, a deadline on the working-day clock and its assignees (villages,
departments or sections, named grid workers), each of whom may have to report back (需反馈). Each
assignee acknowledges it (签收), reports progress (进展) and completes it (办结, text and
attachments); the issuer returns a completion (退回重办), presses an overdue assignee (督办) and
closes the task (关闭). The deadline job presses every overdue assignee once (超期自动督办).

The information-collection rule (任何单位或组织非经区网格中心批准，不得向专职网格员下达信息采集任务及相关指令):
a task of kind ``info_collection`` that reaches grid workers — naming them, or naming a village,
whose grid body would hand it to its workers — waits for the district grid centre's approval
(待区审批) and is seen by no assignee until then; from a body other than the district centre, the
town (镇领导, 镇综治中心) or a village's grid body (网格长) it is refused outright, with the seed's
words. The district's own task is approved as it is issued. The database holds the same rule
(migration 0018, ``wangge_task_info_rule``), so no path around the service can break it.

Nothing here knows about Flask or SQL.

>>> initial_state("general", "department", {"village"})
'进行中'
>>> initial_state("info_collection", "dispatcher", {"worker", "department"})
'待区审批'
>>> initial_state("info_collection", "district", {"village"}), initial_state("info_collection", "dispatcher", {"department"})
('进行中', '进行中')
>>> try:
...     initial_state("info_collection", "department", {"village"})
... except TaskRuleError as e:
...     print(e.status, e.zh == INFO_RULE_ZH)
403 True
>>> owes("已签收", report_back=False), owes("已签收", report_back=True), owes("已完成", report_back=True)
(False, True, False)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from workflow.clock import SHANGHAI, WORK_PERIODS, WorkCalendar

# the seed's words (seed 7-2 §3), quoted by every refusal of the rule
INFO_RULE_ZH = "任何单位或组织非经区网格中心批准，不得向专职网格员下达信息采集任务及相关指令"
INFO_RULE_EN = ("no unit or organisation may give grid workers an information-collection task or related "
                "instructions without the approval of the district grid centre")

# kinds of task
GENERAL, INFO = "general", "info_collection"
KINDS = {GENERAL: ("一般任务", "general task"), INFO: ("信息采集", "information collection")}

# where a task comes from (运行要件: 镇下发文件或会议布置)
SOURCES = {"document": ("镇下发文件", "a document of the town"), "meeting": ("会议布置", "a meeting"),
           "other": ("其他", "other")}

# kinds of assignee; those that reach grid workers for the information-collection rule (a village's
# grid body hands its tasks to its workers, so a village counts as reaching them)
WORKER, VILLAGE, DEPARTMENT = "worker", "village", "department"
ASSIGNEE_KINDS = {WORKER: ("网格员", "grid worker"), VILLAGE: ("村(社区)", "village"),
                  DEPARTMENT: ("部门(科室)", "department")}
REACH_WORKERS = frozenset({WORKER, VILLAGE})

# task states
PENDING = "待区审批"  # an information-collection task reaching workers: the district decides
OPEN = "进行中"
CLOSED = "已关闭"
REFUSED = "已拒绝"  # the district refused it
STATES = (PENDING, OPEN, CLOSED, REFUSED)
STATE_EN = {PENDING: "awaiting the district's approval", OPEN: "open", CLOSED: "closed", REFUSED: "refused"}
VISIBLE_TO_ASSIGNEES = (OPEN, CLOSED)  # a pending or refused task reaches no assignee

# an assignee's states
NEW = "待签收"
ACKNOWLEDGED = "已签收"
HANDLING = "办理中"  # progress reported
DONE = "已完成"
REDO = "退回重办"  # the issuer returned the completion
ASSIGNEE_STATES = (NEW, ACKNOWLEDGED, HANDLING, DONE, REDO)
ASSIGNEE_STATE_EN = {NEW: "to acknowledge", ACKNOWLEDGED: "acknowledged", HANDLING: "in progress", DONE: "completed",
                     REDO: "returned for rework"}
WORKING = (ACKNOWLEDGED, HANDLING, REDO)  # acknowledged, not completed

# who may issue, and to which kinds of assignee; departments only general tasks
ISSUERS = {
    "town_leader": frozenset(ASSIGNEE_KINDS), "dispatcher": frozenset(ASSIGNEE_KINDS),
    "district": frozenset(ASSIGNEE_KINDS), "admin": frozenset(ASSIGNEE_KINDS),
    "department": frozenset({VILLAGE, DEPARTMENT}),  # 职能部门: through the village, not to its workers
    "leader": frozenset({WORKER}),  # a village's grid body: its own workers
}
GENERAL_ONLY = frozenset({"department"})
# the bodies that may ask for an information-collection task reaching workers (with the district's
# approval); the district centre itself approves its own
INFO_BODIES = ("district", "town_leader", "dispatcher", "leader")
APPROVER = "district"

# the issuing body of a role: the accounts that read and act on a task as its issuer
TOWN_ROLES = ("dispatcher", "town_leader")

# limits
TITLE_MAX, BODY_MAX, NOTE_MAX, SOURCE_REF_MAX = 200, 5000, 2000, 200
MAX_ASSIGNEES, MAX_ATTACHMENTS = 200, 20
MAX_DAYS_AHEAD = 731  # a deadline at most two years away
MAX_WORK_DAYS = 250

ISSUER, ASSIGNEE, DISTRICT = "issuer", "assignee", "district"
ACTOR_ZH = {ISSUER: "交办单位", ASSIGNEE: "承办单位或网格员", DISTRICT: "区网格中心"}
ACTOR_EN = {ISSUER: "the issuer", ASSIGNEE: "an assignee", DISTRICT: "the district grid centre"}


@dataclass(frozen=True)
class Action:
    """One step: who takes it (``actor``), on a task in ``task_states``; an assignee's step from
    ``from_states`` to ``to_state`` (None: unchanged), a task's to ``task_to``. ``on_assignee``:
    the issuer names the assignee it concerns; ``needs_note``: a text is required;
    ``needs_overdue``: only past the deadline. What it records: ``sets``, the columns of the
    assignee (or, for a task's step, of the task) and what goes in them (``now``, ``note``,
    ``attachments``, ``actor``, ``none``), and ``counts``, a counter it adds one to."""

    name: str
    zh: str
    en: str
    actor: str
    task_states: tuple[str, ...] = (OPEN,)
    from_states: tuple[str, ...] = ()
    to_state: str | None = None
    task_to: str | None = None
    on_assignee: bool = False
    needs_note: bool = False
    needs_overdue: bool = False
    sets: tuple[tuple[str, str], ...] = ()
    counts: str | None = None

    @property
    def on_task(self) -> bool:
        """A step of the whole task (close, approve, refuse), not of one assignee."""
        return self.task_to is not None


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("acknowledge", "签收", "acknowledge", ASSIGNEE, from_states=(NEW,), to_state=ACKNOWLEDGED,
           sets=(("acknowledged_at", "now"),)),
    Action("progress", "报告进展", "report progress", ASSIGNEE, from_states=WORKING, to_state=HANDLING,
           needs_note=True, sets=(("progress_at", "now"), ("progress_note", "note"))),
    Action("complete", "办结反馈", "complete", ASSIGNEE, from_states=WORKING, to_state=DONE, needs_note=True,
           sets=(("completed_at", "now"), ("completion_note", "note"), ("completion_attachments", "attachments"))),
    Action("return", "退回重办", "return", ISSUER, from_states=(DONE,), to_state=REDO, on_assignee=True,
           needs_note=True, sets=(("completed_at", "none"),), counts="return_count"),
    Action("supervise", "督办", "supervise", ISSUER, from_states=(NEW, *WORKING), on_assignee=True, needs_overdue=True,
           sets=(("supervised_at", "now"),), counts="supervise_count"),
    Action("close", "关闭任务", "close", ISSUER, task_to=CLOSED, sets=(("closed_at", "now"),)),
    Action("approve", "批准", "approve", DISTRICT, task_states=(PENDING,), task_to=OPEN,
           sets=(("approved_at", "now"), ("approved_by", "actor"), ("opened_at", "now"))),
    Action("refuse", "不批准", "refuse", DISTRICT, task_states=(PENDING,), task_to=REFUSED, needs_note=True,
           sets=(("refusal", "note"),)),
)}
AUTO_SUPERVISE = "auto_supervise"  # the deadline job's event: 超期自动督办
EVENT_LABELS = {**{a.name: (a.zh, a.en) for a in ACTIONS.values()}, "create": ("交办", "issued"),
                AUTO_SUPERVISE: ("超期自动督办", "supervised automatically: overdue")}


class TaskRuleError(ValueError):
    """A step the rules refuse: ``status`` 403 (not this actor's) or 422 (not now), with reasons."""

    def __init__(self, status: int, zh: str, en: str, field: str = "action"):
        super().__init__(en)
        self.status, self.zh, self.en, self.field = status, zh, en, field


def reaches_workers(kinds: Iterable[str]) -> bool:
    """Whether assignees of these kinds reach grid workers (a worker, or a village's workers)."""
    return any(k in REACH_WORKERS for k in kinds)


def may_issue(role: str) -> bool:
    return role in ISSUERS


def initial_state(kind: str, issuer_role: str, assignee_kinds: Iterable[str]) -> str:
    """The state a new task starts in, or :class:`TaskRuleError` (403) when the issuer may not give
    it: the information-collection rule, and who may issue to whom."""
    kinds = set(assignee_kinds)
    if issuer_role not in ISSUERS:
        raise TaskRuleError(403, "此角色不能交办任务", "this role does not issue tasks", field="body")
    if kind == INFO and reaches_workers(kinds) and issuer_role not in INFO_BODIES:
        raise TaskRuleError(403, INFO_RULE_ZH, INFO_RULE_EN, field="kind")
    if kind != GENERAL and issuer_role in GENERAL_ONLY:
        raise TaskRuleError(403, "职能部门只能交办一般任务", "a department issues general tasks only", field="kind")
    refused = sorted(kinds - ISSUERS[issuer_role])
    if refused:
        allowed = "、".join(ASSIGNEE_KINDS[k][0] for k in ASSIGNEE_KINDS if k in ISSUERS[issuer_role])
        raise TaskRuleError(403, f"此角色只能向{allowed}交办任务", "this role issues tasks only to "
                            + ", ".join(ASSIGNEE_KINDS[k][1] for k in ASSIGNEE_KINDS if k in ISSUERS[issuer_role]),
                            field="assignees")
    if kind == INFO and reaches_workers(kinds) and issuer_role != APPROVER:
        return PENDING
    return OPEN


def owes(state: str, report_back: bool) -> bool:
    """Whether an assignee still owes the task something: its acknowledgement, and (when it must
    report back) its completion."""
    return state != DONE and (report_back or state == NEW)


def is_overdue(state: str, report_back: bool, task_state: str, deadline: datetime, now: datetime) -> bool:
    return task_state == OPEN and owes(state, report_back) and now > deadline


def check_actor(name: str, actors: set[str]) -> Action:
    """The action ``name`` if one of ``actors`` (what the user is to this task: ``issuer``,
    ``assignee``, ``district``) takes it; else :class:`TaskRuleError`, 422 for an unknown action,
    403 for the wrong actor."""
    action = ACTIONS.get(name)
    if action is None:
        raise TaskRuleError(422, "操作应为 " + "、".join(ACTIONS), "the action is one of " + ", ".join(ACTIONS))
    if action.actor not in actors:
        raise TaskRuleError(403, f"「{action.zh}」由{ACTOR_ZH[action.actor]}办理",
                            f"{action.en} is for {ACTOR_EN[action.actor]}")
    return action


def check(name: str, actors: set[str], task_state: str, assignee_state: str | None = None,
          overdue: bool = False) -> Action:
    """:func:`check_actor`, then whether the task and the assignee are where the action may be
    taken now (422 otherwise).

    >>> check("acknowledge", {ASSIGNEE}, OPEN, NEW).to_state
    '已签收'
    >>> for args in (("close", {ASSIGNEE}, OPEN), ("complete", {ASSIGNEE}, OPEN, NEW),
    ...              ("supervise", {ISSUER}, OPEN, NEW), ("approve", {DISTRICT}, OPEN)):
    ...     try:
    ...         check(*args)
    ...     except TaskRuleError as e:
    ...         print(e.status, e.zh)
    403 「关闭任务」由交办单位办理
    422 承办状态为「待签收」, 不能办结反馈
    422 尚未超期, 不能督办
    422 任务进行中, 不能批准
    """
    action = check_actor(name, actors)
    if task_state not in action.task_states:
        raise TaskRuleError(422, f"任务{task_state}, 不能{action.zh}", f"the task is {STATE_EN[task_state]}: no {action.en}")
    if action.from_states and assignee_state not in action.from_states:
        if assignee_state is None:
            raise TaskRuleError(422, "请指明承办对象 (assignee)", "name the assignee", field="assignee")
        raise TaskRuleError(422, f"承办状态为「{assignee_state}」, 不能{action.zh}",
                            f"the assignee is {ASSIGNEE_STATE_EN[assignee_state]}: no {action.en}")
    if action.needs_overdue and not overdue:
        raise TaskRuleError(422, "尚未超期, 不能督办", "not overdue: nothing to supervise")
    return action


def end_of_workday(day: date) -> datetime:
    """The end of office hours on ``day`` (Asia/Shanghai): a deadline given as a day."""
    return datetime.combine(day, WORK_PERIODS[-1][1], SHANGHAI)


def next_workday(day: date, calendar: WorkCalendar) -> date:
    """``day`` if it is a working day, else the first working day after it."""
    while not calendar.is_workday(day):
        day += timedelta(days=1)
    return day


def label(table: dict, key: str, lang: str = "zh") -> str:
    zh, en = table.get(key, (key, key))
    return en if lang == "en" else zh
