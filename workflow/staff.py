"""The rules of managing the grid workers and the centre's staff (seed 7-2, 7-1, 5-1 ⑤), as data:
the kinds of items a monthly spot check samples, the steps of the discipline ladder, the grade
bands of an assessment and the kinds of employment of the centre's staff. The database's check
constraints list these tuples (``db/models.py``); the services read the rest of each rule here.

>>> DISCIPLINE_STEPS[0], DISCIPLINE_STEPS[-1]
('通报批评', '留用')
>>> GRADES
('优秀', '合格', '不合格')
"""

from __future__ import annotations

# 一月一抽查: what a sample is drawn from (a worker's reports, patrols and sign-ins of the month)
SPOT_ITEM_KINDS = ("report", "patrol", "sign_in")
SPOT_RESULTS = ("pass", "fail")
SPOT_STATES = ("待检查", "已完成")

# 执纪: 通报批评 → (not corrected) 诫勉谈话 → (not corrected) 建议辞退 → the town's decision
# (已辞退 or 留用); 已纠正 closes a case at any open step.
DISCIPLINE_STEPS = ("通报批评", "诫勉谈话", "建议辞退", "已辞退", "已纠正", "留用")
DISCIPLINE_OPEN = DISCIPLINE_STEPS[:3]

# 量化考核 and the annual assessment of the centre's staff: three grades (seed 7-2)
GRADES = ("优秀", "合格", "不合格")
GRADES_EN = {"优秀": "excellent", "合格": "pass", "不合格": "fail"}

# the annual decision an assessment grounds (续聘/辞退/奖惩)
DECISIONS = ("续聘", "辞退", "奖励", "惩处")

# the centre's own staff (seed 7-1): 事业编制 staff are assessed by the town's party committee and
# government every year
ESTABLISHMENTS = ("事业编制", "聘用", "借调", "其他")

# 一月一抽查: how many records of each kind a worker's monthly sample holds (fewer when the month has
# fewer), and which incidents count as the worker's own reports when the reporter's account is not
# stored (the phone's and the patrol's reports routed to the worker's grid)
SPOT_SAMPLE = {"report": 3, "patrol": 2, "sign_in": 2}
SPOT_REPORT_SOURCES = ("grid_worker", "patrol")
# 工作不力: a finished check whose share passed is below this opens a discipline case at 通报批评
SPOT_PASS_THRESHOLD = 0.6

# 执纪's clock: a step not corrected within DISCIPLINE_DAYS steps up (通报批评 → 诫勉谈话 → 建议辞退).
# The days are calendar days (自然日): the 10 days of a criticism run over weekends and holidays, as
# a notice's 10 days do; "working" counts the town's working days instead (holidays table).
DISCIPLINE_DAYS = 10
DISCIPLINE_DAY_KIND = "calendar"  # "calendar" | "working"
# the step the clock leads to from each open step; 建议辞退 waits for the town's decision
DISCIPLINE_NEXT = {"通报批评": "诫勉谈话", "诫勉谈话": "建议辞退"}
DISCIPLINE_STEPS_EN = {"通报批评": "public criticism", "诫勉谈话": "admonition talk", "建议辞退": "dismissal proposed",
                       "已辞退": "dismissed", "已纠正": "corrected", "留用": "kept on"}
# the centre's staff records (seed 7-1): a training's hours are 0 < h <= TRAINING_MAX_HOURS and its
# day not in the future; only APPRAISED staff get the annual grade, given by APPRAISER, one per year
# (recorded again, it replaces the grade, the old one kept in the audit log)
TRAINING_MAX_HOURS = 1000
COURSE_MAX = 200
CERTIFICATE_MAX = 100
POST_MAX = 50
# the posts the page offers when a member is added, the first by default (a post is free text, at
# most POST_MAX: a centre with another post types it under 其他岗位)
POSTS = ("综治中心调度员", "综治专干", "综治中心主任", "综治中心副主任", "信息系统管理员")
APPRAISED = "事业编制"
APPRAISER = "镇党委、镇政府"
ESTABLISHMENTS_EN = {"事业编制": "public institution staff", "聘用": "contracted", "借调": "seconded", "其他": "other"}
# who reads the centre's own staff: the town's desk and the district, not a village (it is the
# town centre's own staff), nor a worker
STAFF_READERS = ("dispatcher", "town_leader", "admin", "district")
