"""12345 hotline work orders (便民专线工单, seed 4-1) as data: states, actions, who may take them,
from which state, and the time limits of Tianjin municipal decree No. 39.

The seed's flow: the city/district platform dispatches an order (派单) → the town's 12345 desk
signs for it (签收) → a town leader writes an instruction (批示) → the desk assigns it to a
section (业务科室) that drafts the reply (书写答复意见) → the desk replies to the petitioner
online (线上答复信访人) → the district closes it (结案). Besides: the town returns an order that is
not its responsibility within 1 working day of dispatch (退回), the district dispatches a
returned order again (重新派发), a section returns an order that is not its own to the town within
1 working day of assignment, and the desk presses (督办) on an overdue order.

Nothing here knows about Flask or SQL: an order is a small record, an actor a role (and a
section), and :func:`check` / :func:`transition` say what an action may do and what it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from workflow import cases, deadlines, roles
from workflow.cases import TransitionError
from workflow.clock import DEFAULT_CALENDAR, SHANGHAI, WorkCalendar

__all__ = ["TransitionError"]  # the same refusal as the case workflow: 403 not yours, 422 not now

# States (工单状态)
PENDING = "待签收"  # dispatched by the platform; the acceptance clock runs
SIGNED = "已签收"  # the desk signed for it; waiting for a leader's instruction
INSTRUCTED = "已批示"  # a leader has written an instruction; waiting for assignment to a section
HANDLING = "办理中"  # a section is drafting the reply
DRAFTED = "待答复"  # the section's draft is in; the desk is to reply to the petitioner
REPLIED = "已答复"  # replied online; waiting for the district to close it
CLOSED = "已办结"
RETURNED = "已退回"  # not this town's: back with the district platform

STATES = (PENDING, SIGNED, INSTRUCTED, HANDLING, DRAFTED, REPLIED, CLOSED, RETURNED)
STATE_EN = {
    PENDING: "awaiting sign-for", SIGNED: "signed for", INSTRUCTED: "instructed", HANDLING: "with a section",
    DRAFTED: "reply drafted", REPLIED: "replied", CLOSED: "closed", RETURNED: "returned",
}
REPLY_OWED = (PENDING, SIGNED, INSTRUCTED, HANDLING, DRAFTED)  # the reply clock runs
DONE_STATES = (REPLIED, CLOSED, RETURNED)

# Urgency classes of decree No. 39 and their acceptance limits (amount, unit)
LIFE_PROPERTY, UTILITIES, NORMAL = "life_property", "utilities", "normal"
URGENCIES = {
    LIFE_PROPERTY: ("危及生命财产安全", "life or property threatened", (15, "minutes")),
    UTILITIES: ("水电气热", "water, electricity, gas or heating", (30, "minutes")),
    NORMAL: ("一般诉求", "other requests", (1, "work_days")),
}
URGENCY_ALIASES = {
    "life_property": LIFE_PROPERTY, "life": LIFE_PROPERTY, "紧急": LIFE_PROPERTY, "特急": LIFE_PROPERTY,
    "生命财产": LIFE_PROPERTY, "危及生命财产安全": LIFE_PROPERTY, "生命财产安全": LIFE_PROPERTY,
    "utilities": UTILITIES, "水电气热": UTILITIES, "水电气暖": UTILITIES, "供水": UTILITIES,
    "供电": UTILITIES, "燃气": UTILITIES, "供气": UTILITIES, "供热": UTILITIES, "供暖": UTILITIES,
    "normal": NORMAL, "一般": NORMAL, "一般诉求": NORMAL, "普通": NORMAL, "其他": NORMAL,
}
CHANNELS = {
    "phone": ("电话", "phone"), "web": ("网站", "web"), "wechat": ("微信", "WeChat"),
    "app": ("APP", "app"), "weibo": ("微博", "Weibo"), "email": ("电子邮件", "e-mail"),
    "other": ("其他", "other"),
}
CHANNEL_ALIASES = {
    **{code: code for code in CHANNELS},
    "电话": "phone", "热线": "phone", "12345": "phone", "网站": "web", "网络": "web", "网页": "web",
    "微信": "wechat", "小程序": "wechat", "客户端": "app", "微博": "weibo", "邮件": "email",
    "电子邮件": "email", "e-mail": "email", "其他": "other",
}
DEFAULT_REPLY_LIMIT = (5, "work_days")  # when the platform gives no reply deadline
RETURN_LIMIT = (1, "work_days")  # a unit that is not responsible returns the order within this
YELLOW_AT = 0.75  # share of the time used from which a running deadline shows yellow


@dataclass(frozen=True)
class Order:
    """What the rules need to know of an order."""

    state: str
    urgency: str
    dispatched_at: datetime
    accept_deadline: datetime
    reply_deadline: datetime
    department_id: int | None = None
    assigned_at: datetime | None = None
    signed_at: datetime | None = None
    replied_at: datetime | None = None
    returned_at: datetime | None = None
    draft: str | None = None
    return_count: int = 0
    supervise_count: int = 0


@dataclass(frozen=True)
class Actor:
    id: int | None
    role: str
    department_id: int | None = None


@dataclass(frozen=True)
class Action:
    name: str
    label_zh: str
    label_en: str
    roles: frozenset[str]
    from_states: frozenset[str]
    to_state: str | None  # None: the state does not change
    needs: frozenset[str] = field(default_factory=frozenset)  # text, department
    section_only: bool = False  # only the section the order is assigned to


def _a(name, zh, en, roles, from_states, to_state, needs=(), section_only=False):
    return Action(name, zh, en, frozenset(roles), frozenset(from_states), to_state, frozenset(needs),
                  section_only)


DESK = roles.roles_with("handle_hotline")  # the town center's 12345 desk
LEADERS = roles.roles_with("instruct_hotline")  # 镇领导: instructions are theirs alone
SECTION = roles.roles_with("answer_hotline")  # 业务科室 / 职能部门
DISTRICT = roles.roles_with("close_hotline")  # 区网格中心 / the district platform: the only ones who close
ACTIONS: dict[str, Action] = {a.name: a for a in (
    _a("sign", "签收", "sign for the order", DESK, [PENDING], SIGNED),
    _a("return_order", "退回(非本镇职责)", "return: not this town's responsibility", DESK,
       [PENDING, SIGNED, INSTRUCTED], RETURNED, needs=["text"]),
    _a("instruct", "领导批示", "write the leader's instruction", LEADERS, [SIGNED], INSTRUCTED, needs=["text"]),
    _a("assign", "转派业务科室", "assign to a section", DESK, [INSTRUCTED], HANDLING, needs=["department"]),
    _a("draft_reply", "书写答复意见", "draft the reply", SECTION, [HANDLING], DRAFTED, needs=["text"],
       section_only=True),
    _a("return_to_town", "退回镇综治中心(非本科室职责)", "return to the town: not this section's", SECTION,
       [HANDLING], INSTRUCTED, needs=["text"], section_only=True),
    _a("reply", "答复信访人", "reply to the petitioner online", DESK, [DRAFTED], REPLIED),
    _a("supervise", "督办", "press on an overdue order", DESK, [SIGNED, INSTRUCTED, HANDLING, DRAFTED], None,
       needs=["text"]),
    _a("close", "结案", "close the order", DISTRICT, [REPLIED], CLOSED),
    _a("redispatch", "重新派发", "dispatch the returned order again", DISTRICT, [RETURNED], PENDING),
)}

SECTION_ZH = "业务科室"  # a department, as the 12345 workflow names it


def _role_zh(role: str) -> str:
    return SECTION_ZH if role in SECTION else roles.short_label(role)


def urgency_code(value: str | None) -> str | None:
    """The urgency class for a platform's label; blank is ``normal``; None when unknown.

    >>> urgency_code("水电气热"), urgency_code(" Life_Property "), urgency_code(""), urgency_code("急")
    ('utilities', 'life_property', 'normal', None)
    """
    if value is None or not value.strip():
        return NORMAL
    return URGENCY_ALIASES.get(value.strip().lower())


def channel_code(value: str | None) -> str | None:
    """The channel code for a platform's label; blank is ``phone`` (the hotline); None when unknown.

    >>> channel_code("微信"), channel_code("APP"), channel_code(None), channel_code("传真")
    ('wechat', 'app', 'phone', None)
    """
    if value is None or not value.strip():
        return "phone"
    return CHANNEL_ALIASES.get(value.strip().lower())


def accept_deadline(dispatched_at: datetime, urgency: str, calendar: WorkCalendar) -> datetime:
    """When the town must have signed for the order (decree No. 39): 15 minutes when life or
    property is threatened, 30 minutes for water/electricity/gas/heating, otherwise by the end of
    the next working day.

    >>> from workflow.clock import DEFAULT_CALENDAR as cal
    >>> friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI)
    >>> accept_deadline(friday_evening, "life_property", cal).isoformat()
    '2026-11-27T18:15:00+08:00'
    >>> accept_deadline(friday_evening, "normal", cal).isoformat()
    '2026-11-30T17:30:00+08:00'
    """
    if urgency not in URGENCIES:
        raise ValueError(f"unknown urgency {urgency!r}")
    amount, unit = URGENCIES[urgency][2]
    if unit == "minutes":
        return dispatched_at.astimezone(SHANGHAI) + timedelta(minutes=amount)
    return calendar.add(dispatched_at, amount, unit)


def default_reply_deadline(dispatched_at: datetime, calendar: WorkCalendar) -> datetime:
    return calendar.add(dispatched_at, *DEFAULT_REPLY_LIMIT)


def return_deadline(since: datetime, calendar: WorkCalendar) -> datetime:
    """The last moment to return an order that is not one's own: 1 working day after ``since``
    (the dispatch for the town, the assignment for a section)."""
    return calendar.add(since, *RETURN_LIMIT)


def overdue(order: Order, now: datetime) -> bool:
    """Not signed for in time, or not replied to in time (and not yet done)."""
    if order.state == PENDING and now > order.accept_deadline:
        return True
    return order.state in REPLY_OWED and now > order.reply_deadline


def in_scope(actor: Actor, order: Order, action: Action) -> bool:
    if not action.section_only:
        return True
    return actor.department_id is not None and actor.department_id == order.department_id


def check(action_name: str, order: Order, actor: Actor, now: datetime, calendar: WorkCalendar) -> Action:
    """The action if this actor may take it on this order now; else :class:`TransitionError`."""
    action = ACTIONS.get(action_name)
    if action is None:
        raise TransitionError(422, f"未知的操作 {action_name}", f"unknown action {action_name!r}")
    if actor.role not in action.roles:
        raise TransitionError(403, f"{_role_zh(actor.role)}不能{action.label_zh}",
                              f"a {actor.role} cannot {action.label_en}")
    if not in_scope(actor, order, action):
        raise TransitionError(403, "该工单未转派给您的科室", "this order is not assigned to your section")
    if order.state not in action.from_states:
        raise TransitionError(422, f"工单处于「{order.state}」, 不能{action.label_zh}",
                              f"an order in state {order.state} cannot be sent to {action.label_en}")
    if action.name == "return_order" and now > return_deadline(order.dispatched_at, calendar):
        raise TransitionError(422, "派单已超过 1 个工作日, 不能再退回; 请按时办理",
                              "more than 1 working day since dispatch: the order can no longer be returned")
    if action.name == "return_to_town" and order.assigned_at is not None \
            and now > return_deadline(order.assigned_at, calendar):
        raise TransitionError(422, "转派已超过 1 个工作日, 不能再退回; 请与镇综治中心联系",
                              "more than 1 working day since assignment: it can no longer be returned")
    if action.name == "supervise" and not overdue(order, now):
        raise TransitionError(422, "工单未超期, 无需督办", "the order is not overdue: nothing to press on")
    return action


def allowed_actions(order: Order, actor: Actor, now: datetime, calendar: WorkCalendar) -> list[str]:
    """The actions this actor may take on this order now, in table order."""
    allowed = []
    for name in ACTIONS:
        try:
            check(name, order, actor, now, calendar)
        except TransitionError:
            continue
        allowed.append(name)
    return allowed


def transition(order: Order, action: Action, now: datetime, calendar: WorkCalendar, *,
               text: str | None = None, department_id: int | None = None) -> dict:
    """The fields of the order that the action changes (column name → new value): the part of
    a transition that is pure. The caller checks the action first with :func:`check`."""
    changes: dict = {}
    if action.to_state is not None:
        changes["state"] = action.to_state
    name = action.name
    if name == "sign":
        changes["signed_at"] = now
    elif name == "instruct":
        changes["instruction"] = text
    elif name == "assign":
        changes.update(department_id=department_id, assigned_at=now)
    elif name == "draft_reply":
        changes.update(draft=text, drafted_at=now)
    elif name == "return_to_town":
        changes.update(department_id=None, assigned_at=None)
    elif name == "reply":
        changes.update(reply=text or order.draft, replied_at=now)
    elif name == "close":
        changes["closed_at"] = now
    elif name == "return_order":
        changes.update(returned_at=now, return_count=order.return_count + 1)
    elif name == "redispatch":
        # the clocks start again: acceptance by urgency, and at least the default time to reply
        changes.update(
            dispatched_at=now, accept_deadline=accept_deadline(now, order.urgency, calendar),
            reply_deadline=max(order.reply_deadline, default_reply_deadline(now, calendar)),
            signed_at=None, instruction=None, returned_at=None,
        )
    elif name == "supervise":
        changes.update(supervised_at=now, supervise_count=order.supervise_count + 1)
    return changes


@dataclass(frozen=True)
class Clock:
    """A deadline as a desk sees it: ``normal``, ``yellow`` (≥ 75 % of the time used), ``red``
    (overdue), or ``done`` (``on_time`` says whether it was met) and ``stopped`` (returned).
    ``used`` is measured on the working clock (office hours of working days) unless the limit is
    in minutes (``working`` False: an urgent order's acceptance runs on the wall clock)."""

    deadline: datetime
    status: str
    used: float | None  # share of the time used, while it runs
    done_at: datetime | None = None
    on_time: bool | None = None
    working: bool = True

    def as_dict(self) -> dict:
        return {"deadline": self.deadline.astimezone(SHANGHAI).isoformat(), "status": self.status,
                "used": None if self.used is None else round(self.used, 3),
                "done_at": self.done_at.astimezone(SHANGHAI).isoformat() if self.done_at else None,
                "on_time": self.on_time, "working": self.working}


def clock(start: datetime, deadline: datetime, now: datetime, done_at: datetime | None = None,
          stopped: bool = False, *, calendar: WorkCalendar = DEFAULT_CALENDAR, working: bool = True) -> Clock:
    """The status of one deadline, the same rule as the cases' (``workflow/deadlines.py``): on
    the working clock a Friday evening, a weekend or a holiday uses up nothing.

    >>> t0 = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
    >>> end = t0 + timedelta(minutes=20)
    >>> [clock(t0, end, t0 + timedelta(minutes=m), working=False).status for m in (5, 15, 21)]
    ['normal', 'yellow', 'red']
    >>> clock(t0, end, t0 + timedelta(hours=1), done_at=t0 + timedelta(minutes=3)).on_time
    True
    """
    if done_at is not None:
        return Clock(deadline, "done", None, done_at, done_at <= deadline, working)
    if stopped:
        return Clock(deadline, "stopped", None, working=working)
    st = deadlines.status(start, deadline, now, calendar=calendar, working=working, yellow_share=YELLOW_AT)
    return Clock(deadline, st.status, st.share_used, working=working)


def accept_on_working_clock(urgency: str) -> bool:
    """An acceptance limit in working days runs on the working clock; 15 or 30 minutes do not."""
    return URGENCIES[urgency][2][1] in deadlines.WORKING_UNITS


def clocks(order: Order, now: datetime, calendar: WorkCalendar = DEFAULT_CALENDAR) -> dict[str, Clock]:
    """The acceptance (签收) and reply (答复) deadlines of an order, as they stand now. The reply
    limit is in working days (decree No. 39), so it always runs on the working clock."""
    returned = order.state == RETURNED
    return {
        "accept": clock(order.dispatched_at, order.accept_deadline, now, order.signed_at, stopped=returned,
                        calendar=calendar, working=accept_on_working_clock(order.urgency)),
        "reply": clock(order.dispatched_at, order.reply_deadline, now, order.replied_at, stopped=returned,
                       calendar=calendar, working=True),
    }


# ---------------------------------------------------------------- the linked case

# The case an order with a location opened (source hotline_12345) is settled when the order is
# closed (结案): the district's close ends the matter, so a case nobody works on as a case any more
# is closed by the system event 'hotline_closed'. A case that a department or the village is
# handling, or that waits for its on-site verification, is left to its own workflow.
CASE_CLOSED_BY_ORDER = deadlines.HOTLINE_CLOSED  # a system event of case_events, labelled there
SETTLES_FROM = (cases.REPORTED, cases.FILED)  # waiting for a tier to take it up: nobody handles it


@dataclass(frozen=True)
class Settlement:
    """What closing an order does to its linked case: ``close`` it (to ``cases.CLOSED``), or not,
    and why, in both languages."""

    close: bool
    zh: str
    en: str

    def as_dict(self) -> dict:
        return {"closed": self.close, "message_zh": self.zh, "message_en": self.en}


def settle_case(case_no: str, case_state: str) -> Settlement:
    """What becomes of the linked case ``case_no`` (in ``case_state``) when its order is closed.

    >>> settle_case("WG1", "待受理").close, settle_case("WG1", "处理中").zh
    (True, '关联案件 WG1 仍在「处理中」, 由承办单位按案件流程办结, 未随工单结案')
    """
    if case_state in SETTLES_FROM:
        return Settlement(True, f"关联案件 {case_no} 已随工单结案", f"the linked case {case_no} is closed with the order")
    if case_state in (cases.CLOSED, cases.VOID):
        return Settlement(False, f"关联案件 {case_no} 已是「{case_state}」, 无需处理",
                          f"the linked case {case_no} is already {case_state}: nothing to do")
    return Settlement(False, f"关联案件 {case_no} 仍在「{case_state}」, 由承办单位按案件流程办结, 未随工单结案",
                      f"the linked case {case_no} is still {case_state}: it is finished by its own workflow, "
                      "not closed with the order")
