"""The rules of the centre's registers (seed 3-1: 证照、印章、银行账户), as data: the legal-person
registration checklist (运行要件), the kinds of certificates, seals and accounts the forms offer, the
states a record may be in, and when a certificate's expiry is reminded. The database's check
constraints list these tuples (``db/models.py``); the services read the rest here.

Reminders count **calendar days** (自然日): a certificate is valid to a calendar date, and "60 days
before it expires" is the date 60 days earlier whatever the weekends and holidays in between; the
working-day clock (DESIGN §3) is for handling limits, not for expiry.

>>> CHECKLIST_CODES[:2], len(CHECKLIST)
(('registration_form', 'representative_form'), 8)
>>> from datetime import date
>>> reminder_stage(date(2027, 3, 1), date(2026, 12, 30)), reminder_stage(date(2027, 3, 1), date(2026, 12, 31))
(None, 60)
>>> reminder_stage(date(2027, 3, 1), date(2027, 1, 30)), reminder_stage(date(2027, 3, 1), date(2027, 3, 20))
(30, 30)
>>> reminder_stage(None, date(2027, 1, 1)) is None
True
>>> mask_account("6222021234567890123"), mask_account("1234"), mask_account(None)
('6222 **** **** 0123', '****', None)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class ChecklistItem:
    """One document of the legal-person registration (事业单位法人设立登记)."""

    code: str
    zh: str
    en: str


# 运行要件 of the seed (3-1), in its order
CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem("registration_form", "事业单位法人设立登记表", "application form for registering a public institution"),
    ChecklistItem("representative_form", "法定代表人登记申请表", "application form for registering the legal representative"),
    ChecklistItem("charter", "章程草案", "draft charter"),
    ChecklistItem("funding_proof", "经费来源证明", "proof of the source of funding"),
    ChecklistItem("capital_proof", "开办资金确认证明", "confirmation of the start-up capital"),
    ChecklistItem("premises_proof", "房屋授权无偿使用证明", "authorisation to use the premises free of charge"),
    ChecklistItem("licence_pledge", "申办行政许可项目承诺书", "undertaking for the administrative licence applied for"),
    ChecklistItem("power_of_attorney", "委托书", "power of attorney"),
)
CHECKLIST_CODES = tuple(c.code for c in CHECKLIST)
CHECKLIST_STATES = ("未备", "已备")
CHECKLIST_STATES_EN = {"未备": "missing", "已备": "ready"}

# what the forms offer (a name is free text: another certificate or seal is typed)
CERTIFICATE_NAMES = ("事业单位法人证书", "统一社会信用代码证书", "机构编制证", "其他")
SEAL_NAMES = ("公章", "法定代表人名章", "财务专用章", "合同专用章", "其他")
# the kinds of a unit's bank accounts (人民币银行结算账户管理办法)
ACCOUNT_KINDS = ("基本存款账户", "一般存款账户", "专用存款账户", "临时存款账户")
ACCOUNT_KINDS_EN = {"基本存款账户": "basic deposit account", "一般存款账户": "general deposit account",
                    "专用存款账户": "special-purpose deposit account", "临时存款账户": "temporary deposit account"}

# a certificate or a seal in use, or no longer (注销 / 停用: kept in the register, no reminders)
CERTIFICATE_STATES = ("在用", "已注销")
SEAL_STATES = ("在用", "已停用")
STATES_EN = {"在用": "in use", "已注销": "cancelled", "已停用": "retired"}

# reminders before a certificate's valid_to, in calendar days, the earliest first; each once per
# certificate and expiry date. A later stage closes the earlier one's open reminder ("superseded").
REMINDER_DAYS = (60, 30)
REMINDER_DAY_KIND = "calendar"
# why a reminder is done: someone acknowledged it (知悉), the certificate was renewed (a new valid_to),
# a later reminder replaced it, the certificate was cancelled
REMINDER_DONE = ("acknowledged", "renewed", "superseded", "cancelled")
REMINDER_DONE_ZH = {"acknowledged": "已知悉", "renewed": "已换证", "superseded": "已有新提醒", "cancelled": "证照已注销"}
# the page's colours of the days left: red under 30, amber under 60
DAYS_RED, DAYS_AMBER = 30, 60

# lengths
NAME_MAX, NUMBER_MAX, ISSUER_MAX, KEEPER_MAX, DOCUMENT_MAX, NOTE_MAX, APPROVAL_MAX = 100, 100, 100, 50, 200, 500, 2000
ACCOUNT_DIGITS = (10, 32)  # a bank account number: digits only, stored without spaces
SCANS_MAX = 20  # scans of one record


def reminder_stage(valid_to: date | None, today: date) -> int | None:
    """The latest reminder stage (days before expiry) whose day has come by ``today``, or None: not
    yet (more than the first stage away) or no expiry (长期有效). An expired certificate is at the last
    stage."""
    if valid_to is None:
        return None
    reached = [d for d in REMINDER_DAYS if today >= valid_to - timedelta(days=d)]
    return min(reached) if reached else None


def days_left(valid_to: date | None, today: date) -> int | None:
    """Calendar days from ``today`` to the last valid day (0: expires today; negative: expired)."""
    return None if valid_to is None else (valid_to - today).days


def days_colour(left: int | None) -> str:
    """``red`` under :data:`DAYS_RED` days left (and expired), ``amber`` under :data:`DAYS_AMBER`, else
    ``normal``."""
    if left is None or left >= DAYS_AMBER:
        return "normal"
    return "red" if left < DAYS_RED else "amber"


def mask_account(number: str | None) -> str | None:
    """An account number as shown to those who do not need it: the first and last four digits,
    ``6222 **** **** 1234`` whatever its length (too short to keep any: all hidden)."""
    if not number:
        return number
    if len(number) < 10:
        return "*" * len(number)
    return f"{number[:4]} **** **** {number[-4:]}"
