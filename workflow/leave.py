"""The rules of a grid worker's leave (请假/销假, seed 7-2), as data: the kinds, who approves how many
working days, the states, which states excuse the days, and what an excused day is worth against the
40-hour week.

>>> approver(2), approver(3), approver(4)
('leader', 'leader', 'town')
>>> required_hours(0), required_hours(2), required_hours(7)
(40, 24, 0)
"""

from __future__ import annotations

LEADER_DAYS = 3  # up to 3 working days: the village's leader (网格长); longer: the town's centre
KINDS = {"事假": "personal", "病假": "sick", "年假": "annual", "婚假": "marriage", "产假": "maternity",
         "丧假": "bereavement", "其他": "other"}
PENDING, APPROVED, REFUSED, CANCELLED, BACK = "待审批", "已批准", "已拒绝", "已撤销", "已销假"
STATES = (PENDING, APPROVED, REFUSED, CANCELLED, BACK)
STATE_EN = {PENDING: "pending", APPROVED: "approved", REFUSED: "refused", CANCELLED: "cancelled", BACK: "back at work"}
EXCUSED = (APPROVED, BACK)  # a working day of a leave in these states is excused in attendance
TOWN = "town"  # the approver_role of a long leave: the town's centre (dispatchers, the administrator)

WEEK_HOURS = 40  # 每周在岗不少于 40 小时 (seed 7-2)
HOURS_PER_DAY = 8  # an excused working day lowers the week's 40 hours by this much


def approver(days: int) -> str:
    """Who decides a leave of ``days`` working days: ``leader`` or ``town``."""
    return "leader" if days <= LEADER_DAYS else TOWN


def required_hours(excused_days: int) -> int:
    """The hours a week asks of a worker with ``excused_days`` working days on approved leave."""
    return max(0, WEEK_HOURS - HOURS_PER_DAY * excused_days)
