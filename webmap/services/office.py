"""The centre's registers (办公室台账, seed 3-1): its certificates (事业单位法人证书 and others), its seals
with their use log (用印登记, append-only), its bank accounts and the legal-person registration
checklist (运行要件, :data:`workflow.office.CHECKLIST`), and the reminders of a certificate's expiry.

Read by ``read_office`` (the town's centre, its leaders, the administrator), written by
``manage_office`` (the centre: dispatchers, the administrator); everyone else gets 403. Every write
is audited in its transaction; a record's update carries the ``version`` it was read at (409 with
the record as it now is when stale).

A bank account's number is stored whole and always answered masked (``6222 **** **** 1234``);
:func:`account_number` gives it whole to ``manage_office`` only and writes ``view_account_number``
to the audit log, committed with the answer, as residents' phones are audited
(:func:`webmap.services.audit.personal_data_shown`). The audit log's own entries of an account keep
the number masked.

Reminders: :func:`run_reminders` (``wangge jobs run``, line ``office_reminders``) makes, once per
certificate, expiry date and stage, a reminder 60 and 30 calendar days before ``valid_to``
(:func:`workflow.office.reminder_stage`); a later stage closes the earlier one's. A reminder waits in
the 待办 of ``manage_office`` (:func:`inbox_rows`, :func:`inbox_items`) until acknowledged (知悉),
the certificate renewed (a new ``valid_to``) or cancelled.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import (
    Account,
    OfficeAccount,
    OfficeCertificate,
    OfficeChecklistItem,
    OfficeReminder,
    OfficeSeal,
    OfficeSealUse,
    Person,
)
from workflow import office as rules
from workflow import roles
from workflow.clock import SHANGHAI, format_iso

from . import uploads
from .audit import audit
from .errors import ConflictError, FieldError, ForbiddenError, InvalidInputError, NotFoundError

SHA256 = re.compile(r"[0-9a-f]{64}")
ATTACHMENTS = "/api/v1/attachments/"
MAX_USES = 500  # the use log answers the newest 500


class OfficeInputError(InvalidInputError):
    CODE = "OfficeRecordRejected"
    LEAD = ("台账未保存", "the register was not saved")


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)


def check_reader(user) -> None:
    if not roles.has_permission(user.role, "read_office"):
        raise ForbiddenError("办公室台账只有镇综治中心、镇领导和系统管理员可以查看",
                             "the centre's registers are read by the town's centre, its leaders and the administrator")


def check_manager(user) -> None:
    if not roles.has_permission(user.role, "manage_office"):
        raise ForbiddenError("只有镇综治中心 (调度员、管理员) 可以登记办公室台账",
                             "only the town's centre (dispatchers, the administrator) keeps the registers")


def may_manage(user) -> bool:
    return roles.has_permission(user.role, "manage_office")


# ------------------------------------------------------------------ parsing


class _Form:
    """The fields of a body, checked one by one; every refusal collected before anything is saved.
    ``partial``: an update, where a field left out keeps its value."""

    def __init__(self, body, partial: bool = False):
        if not isinstance(body, dict):
            raise OfficeInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")])
        self.body, self.partial, self.errors, self.values = body, partial, [], {}

    def given(self, key: str) -> bool:
        return not self.partial or key in self.body

    def refuse(self, key: str, zh: str, en: str) -> None:
        self.errors.append(FieldError(key, zh, en))

    def text(self, key: str, zh: str, limit: int, required: bool = True) -> None:
        if not self.given(key):
            return
        raw = self.body.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                self.refuse(key, f"请填写{zh}", f"{key} is required")
            else:
                self.values[key] = None
            return
        if not isinstance(raw, str) or len(raw.strip()) > limit:
            self.refuse(key, f"{zh}应为文字, 最多 {limit} 字", f"{key} is text of at most {limit} characters")
            return
        self.values[key] = raw.strip()

    def day(self, key: str, zh: str, required: bool = True, not_after: date | None = None) -> None:
        if not self.given(key):
            return
        raw = self.body.get(key)
        if raw in (None, ""):
            if required:
                self.refuse(key, f"请填写{zh}", f"{key} is required")
            else:
                self.values[key] = None
            return
        try:
            value = date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else None
        except ValueError:
            value = None
        if value is None:
            self.refuse(key, f"{zh}应为日期 YYYY-MM-DD", f"{key} must be a date YYYY-MM-DD")
        elif value.year < 1950 or value.year > 2200:
            self.refuse(key, f"{zh}不在合理范围内", f"{key} is out of range")
        elif not_after is not None and value > not_after:
            self.refuse(key, f"{zh}不能晚于今天", f"{key} cannot be in the future")
        else:
            self.values[key] = value

    def choice(self, key: str, zh: str, options: tuple[str, ...], default: str | None = None) -> None:
        if not self.given(key):
            return
        raw = self.body.get(key, default)
        if raw not in options:
            self.refuse(key, f"{zh}应为 " + "、".join(options), f"{key} is one of " + ", ".join(options))
        else:
            self.values[key] = raw

    def scans(self, db: Session, key: str = "scans") -> None:
        """A list of uploaded scans' ids (POST /api/v1/attachments), replacing the record's."""
        if not self.given(key):
            return
        raw = self.body.get(key)
        if raw is None:
            raw = []
        if not isinstance(raw, list) or len(raw) > rules.SCANS_MAX or not all(
                isinstance(s, str) and SHA256.fullmatch(s) for s in raw):
            self.refuse(key, f"扫描件应为已上传文件的编号列表, 最多 {rules.SCANS_MAX} 个",
                        f"{key} is a list of at most {rules.SCANS_MAX} uploaded scans' ids")
            return
        wanted = list(dict.fromkeys(raw))
        found = uploads.stored(db, wanted, photos_only=False)
        if len(found) < len(wanted):
            self.refuse(key, "扫描件未上传或已失效, 请重新上传", "a scan was not uploaded: upload it again")
            return
        self.values[key] = wanted

    def version(self) -> int | None:
        raw = self.body.get("version")
        if isinstance(raw, bool) or not isinstance(raw, int):
            self.refuse("version", "缺少版本号 (version), 请刷新后再改", "version (the one read) is required")
            return None
        return raw

    def done(self) -> dict:
        if self.errors:
            raise OfficeInputError(self.errors)
        return self.values


def _stale(current_version: int, given: int | None, current: dict) -> None:
    if given != current_version:
        raise ConflictError("台账已被他人修改, 请刷新后再改", "the record changed since you read it", current=current)


def _scans(ids) -> list[dict]:
    return [{"id": s, "url": ATTACHMENTS + s} for s in ids or []]


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _audited(record, keys: tuple[str, ...]) -> dict:
    out = {}
    for k in keys:
        v = getattr(record, k)
        out[k] = v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, list) else v
    return out


def _apply(record, values: dict) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(record, key) != value:
            setattr(record, key, value)
            changed = True
    return changed


def _names(db: Session, account_ids) -> dict[int, str]:
    """The name (else the username) of each account."""
    ids = {a for a in account_ids if a}
    if not ids:
        return {}
    rows = db.execute(select(Account.id, Account.username, Person.name).outerjoin(Person, Person.id == Account.person_id)
                      .where(Account.id.in_(ids))).all()
    return {r.id: r.name or r.username for r in rows}


def scan_visible(sha: str):
    """A SQL condition: the attachment ``sha`` is a scan of one of the registers (for
    :func:`webmap.services.attachments.load_photo`, to the readers of the registers)."""
    return or_(*(exists().where(model.scans.contains([sha]))
                 for model in (OfficeCertificate, OfficeAccount, OfficeChecklistItem)))


# ------------------------------------------------------------------ certificates

CERTIFICATE_AUDITED = ("name", "number", "issuer", "valid_from", "valid_to", "state", "scans", "note")


def _open_reminders(db: Session, certificate_ids) -> dict[int, OfficeReminder]:
    ids = list(certificate_ids)
    if not ids:
        return {}
    rows = db.execute(select(OfficeReminder).where(OfficeReminder.certificate_id.in_(ids), OfficeReminder.done_at.is_(None))
                      .order_by(OfficeReminder.days.desc())).scalars()
    return {r.certificate_id: r for r in rows}  # the latest stage of each (fewest days) wins


def _certificate_dict(c: OfficeCertificate, today: date, reminder: OfficeReminder | None) -> dict:
    left = rules.days_left(c.valid_to, today) if c.state == "在用" else None
    return {"id": c.id, "name": c.name, "number": c.number, "issuer": c.issuer, "valid_from": _iso(c.valid_from),
            "valid_to": _iso(c.valid_to), "state": c.state, "state_en": rules.STATES_EN[c.state],
            "days_left": left, "colour": rules.days_colour(left) if c.state == "在用" else "normal",
            "expired": left is not None and left < 0, "scans": _scans(c.scans), "note": c.note, "version": c.version,
            "reminder": None if reminder is None else {"id": reminder.id, "days": reminder.days,
                                                      "created_at": format_iso(reminder.created_at)},
            "created_at": format_iso(c.created_at), "updated_at": format_iso(c.updated_at)}


def _certificate_answer(db: Session, c: OfficeCertificate, now: datetime | None = None) -> dict:
    return _certificate_dict(c, _now(now).date(), _open_reminders(db, [c.id]).get(c.id))


def certificates(db: Session, user, now: datetime | None = None) -> dict:
    """Every certificate, those in use first, the soonest to expire first."""
    check_reader(user)
    today = _now(now).date()
    rows = db.execute(select(OfficeCertificate).order_by(OfficeCertificate.state != "在用",
                                                         OfficeCertificate.valid_to.asc().nulls_last(),
                                                         OfficeCertificate.id).limit(500)).scalars().all()
    reminders = _open_reminders(db, [c.id for c in rows])
    return {"items": [_certificate_dict(c, today, reminders.get(c.id)) for c in rows], "today": today.isoformat(),
            "names": list(rules.CERTIFICATE_NAMES), "states": list(rules.CERTIFICATE_STATES),
            "reminder_days": list(rules.REMINDER_DAYS), "day_kind": rules.REMINDER_DAY_KIND,
            "can_manage": may_manage(user)}


def _certificate_form(db: Session, body, partial: bool) -> tuple[dict, _Form]:
    form = _Form(body, partial)
    form.text("name", "证照名称", rules.NAME_MAX)
    form.text("number", "证照编号", rules.NUMBER_MAX)
    form.text("issuer", "发证机关", rules.ISSUER_MAX)
    form.day("valid_from", "有效期起")
    form.day("valid_to", "有效期至", required=False)
    if partial:
        form.choice("state", "状态", rules.CERTIFICATE_STATES)
    form.text("note", "备注", rules.NOTE_MAX, required=False)
    form.scans(db)
    return form.values, form


def _check_validity(values: dict, record: OfficeCertificate | None, form: _Form) -> None:
    start = values.get("valid_from", record.valid_from if record else None)
    end = values.get("valid_to", record.valid_to if record else None)
    if start and end and end <= start and not any(e.field in ("valid_from", "valid_to") for e in form.errors):
        form.refuse("valid_to", "有效期至应晚于有效期起", "valid_to must be after valid_from")


def add_certificate(db: Session, user, body, now: datetime | None = None) -> dict:
    """``{name, number, issuer, valid_from, valid_to?, note?, scans?}`` (no ``valid_to``: 长期有效). Commits."""
    check_manager(user)
    values, form = _certificate_form(db, body, partial=False)
    _check_validity(values, None, form)
    values = form.done()
    at = _now(now)
    record = OfficeCertificate(**values, state="在用", version=1, created_by=user.id, created_at=at, updated_at=at)
    db.add(record)
    db.flush()
    audit(db, user, "office_certificate_add", f"office_certificate:{record.id}", None,
          _audited(record, CERTIFICATE_AUDITED), at=at)
    db.commit()
    return _certificate_answer(db, record, at)


def _close_reminders(db: Session, certificate_id: int, reason: str, user, at: datetime, stages=None) -> int:
    query = select(OfficeReminder).where(OfficeReminder.certificate_id == certificate_id, OfficeReminder.done_at.is_(None))
    if stages is not None:
        query = query.where(OfficeReminder.days.in_(list(stages)))
    open_ = db.execute(query).scalars().all()
    for r in open_:
        r.done_at, r.done_by, r.done_reason = at, getattr(user, "id", None), reason
    return len(open_)


def change_certificate(db: Session, user, certificate_id: int, body, now: datetime | None = None) -> dict:
    """Change fields ``{…, version}``: a new ``valid_to`` is a renewal (换证) and closes the open
    reminders; ``state: 已注销`` cancels it (no more reminders). Commits."""
    check_manager(user)
    record = db.execute(select(OfficeCertificate).where(OfficeCertificate.id == certificate_id)
                        .with_for_update()).scalar_one_or_none()
    if record is None:
        raise NotFoundError("没有这个证照", "no such certificate")
    values, form = _certificate_form(db, body, partial=True)
    _check_validity(values, record, form)
    version = form.version()
    values = form.done()
    at = _now(now)
    _stale(record.version, version, _certificate_answer(db, record, at))
    before = _audited(record, CERTIFICATE_AUDITED)
    renewed = "valid_to" in values and values["valid_to"] != record.valid_to
    if not _apply(record, values):
        return _certificate_answer(db, record, at)
    record.version += 1
    record.updated_at = at
    if record.state != "在用":
        _close_reminders(db, record.id, "cancelled", user, at)
    elif renewed:
        _close_reminders(db, record.id, "renewed", user, at)
    audit(db, user, "office_certificate_change", f"office_certificate:{record.id}", before,
          _audited(record, CERTIFICATE_AUDITED), at=at)
    db.commit()
    return _certificate_answer(db, record, at)


# ------------------------------------------------------------------ seals and their use

SEAL_AUDITED = ("name", "keeper", "since", "state", "note")


def _seal_dict(s: OfficeSeal, uses: int, last: date | None) -> dict:
    return {"id": s.id, "name": s.name, "keeper": s.keeper, "since": _iso(s.since), "state": s.state,
            "state_en": rules.STATES_EN[s.state], "note": s.note, "version": s.version, "uses": uses,
            "last_use": _iso(last), "updated_at": format_iso(s.updated_at)}


def _use_counts(db: Session, seal_ids) -> dict[int, tuple[int, date | None]]:
    ids = list(seal_ids)
    if not ids:
        return {}
    rows = db.execute(select(OfficeSealUse.seal_id, func.count(), func.max(OfficeSealUse.day))
                      .where(OfficeSealUse.seal_id.in_(ids)).group_by(OfficeSealUse.seal_id)).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def _seal_answer(db: Session, s: OfficeSeal) -> dict:
    return _seal_dict(s, *_use_counts(db, [s.id]).get(s.id, (0, None)))


def seals(db: Session, user) -> dict:
    check_reader(user)
    rows = db.execute(select(OfficeSeal).order_by(OfficeSeal.state != "在用", OfficeSeal.id).limit(500)).scalars().all()
    counts = _use_counts(db, [s.id for s in rows])
    return {"items": [_seal_dict(s, *counts.get(s.id, (0, None))) for s in rows], "names": list(rules.SEAL_NAMES),
            "states": list(rules.SEAL_STATES), "can_manage": may_manage(user)}


def _seal_form(body, partial: bool, today: date) -> tuple[dict, _Form]:
    form = _Form(body, partial)
    form.text("name", "印章名称", rules.NAME_MAX)
    form.text("keeper", "保管人", rules.KEEPER_MAX)
    form.day("since", "启用日期", required=False, not_after=today)
    if partial:
        form.choice("state", "状态", rules.SEAL_STATES)
    form.text("note", "备注", rules.NOTE_MAX, required=False)
    return form.values, form


def add_seal(db: Session, user, body, now: datetime | None = None) -> dict:
    """``{name, keeper, since?, note?}``. Commits."""
    check_manager(user)
    at = _now(now)
    values, form = _seal_form(body, False, at.date())
    values = form.done()
    record = OfficeSeal(**values, state="在用", version=1, created_at=at, updated_at=at)
    db.add(record)
    db.flush()
    audit(db, user, "office_seal_add", f"office_seal:{record.id}", None, _audited(record, SEAL_AUDITED), at=at)
    db.commit()
    return _seal_answer(db, record)


def change_seal(db: Session, user, seal_id: int, body, now: datetime | None = None) -> dict:
    """Change fields ``{name?, keeper?, since?, state?, note?, version}`` (a new keeper: 移交). Commits."""
    check_manager(user)
    record = db.execute(select(OfficeSeal).where(OfficeSeal.id == seal_id).with_for_update()).scalar_one_or_none()
    if record is None:
        raise NotFoundError("没有这枚印章", "no such seal")
    at = _now(now)
    values, form = _seal_form(body, True, at.date())
    version = form.version()
    values = form.done()
    _stale(record.version, version, _seal_answer(db, record))
    before = _audited(record, SEAL_AUDITED)
    if not _apply(record, values):
        return _seal_answer(db, record)
    record.version += 1
    record.updated_at = at
    audit(db, user, "office_seal_change", f"office_seal:{record.id}", before, _audited(record, SEAL_AUDITED), at=at)
    db.commit()
    return _seal_answer(db, record)


def _use_dict(u: OfficeSealUse, names: dict[int, str]) -> dict:
    return {"id": u.id, "seal_id": u.seal_id, "day": _iso(u.day), "document": u.document, "copies": u.copies,
            "approver": u.approver, "note": u.note, "recorded_by": names.get(u.recorded_by),
            "recorded_at": format_iso(u.recorded_at)}


def _seal(db: Session, seal_id: int) -> OfficeSeal:
    seal = db.get(OfficeSeal, seal_id)
    if seal is None:
        raise NotFoundError("没有这枚印章", "no such seal")
    return seal


def seal_uses(db: Session, user, seal_id: int) -> dict:
    """The seal's use log, newest first (the newest :data:`MAX_USES`)."""
    check_reader(user)
    seal = _seal(db, seal_id)
    rows = db.execute(select(OfficeSealUse).where(OfficeSealUse.seal_id == seal_id)
                      .order_by(OfficeSealUse.day.desc(), OfficeSealUse.id.desc()).limit(MAX_USES)).scalars().all()
    names = _names(db, [u.recorded_by for u in rows])
    return {"seal": _seal_answer(db, seal), "items": [_use_dict(u, names) for u in rows]}


def add_seal_use(db: Session, user, seal_id: int, body, now: datetime | None = None) -> dict:
    """One use ``{day, document, copies?, approver, note?}`` of a seal in use: appended, never
    changed (the database refuses it). Commits."""
    check_manager(user)
    at = _now(now)
    seal = _seal(db, seal_id)
    form = _Form(body)
    form.day("day", "用印日期", not_after=at.date())
    form.text("document", "用印文件", rules.DOCUMENT_MAX)
    form.text("approver", "批准人", rules.KEEPER_MAX)
    form.text("note", "备注", rules.NOTE_MAX, required=False)
    copies = body.get("copies", 1) if isinstance(body, dict) else 1
    if isinstance(copies, str) and copies.isdigit():
        copies = int(copies)
    if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= 1000:
        form.refuse("copies", "份数应为 1–1000", "copies is 1 to 1000")
    if seal.state != "在用":
        form.refuse("seal", f"{seal.name}已停用, 不能再登记用印", f"the seal {seal.name} is retired")
    if seal.since and form.values.get("day") and form.values["day"] < seal.since:
        form.refuse("day", f"用印日期早于印章启用日期 {seal.since.isoformat()}", "the day is before the seal was in use")
    values = form.done()
    use = OfficeSealUse(seal_id=seal.id, copies=copies, recorded_by=user.id, recorded_at=at, **values)
    db.add(use)
    db.commit()
    return _use_dict(use, _names(db, [user.id]))


# ------------------------------------------------------------------ bank accounts

ACCOUNT_AUDITED = ("kind", "bank", "name", "opened_on", "closed_on", "approval", "scans", "note")


def _account_dict(a: OfficeAccount) -> dict:
    return {"id": a.id, "kind": a.kind, "kind_en": rules.ACCOUNT_KINDS_EN[a.kind], "bank": a.bank, "name": a.name,
            "number_masked": rules.mask_account(a.number), "opened_on": _iso(a.opened_on), "closed_on": _iso(a.closed_on),
            "open": a.closed_on is None, "approval": a.approval, "scans": _scans(a.scans), "note": a.note,
            "version": a.version, "updated_at": format_iso(a.updated_at)}


def _account_audited(a: OfficeAccount) -> dict:
    return {**_audited(a, ACCOUNT_AUDITED), "number": rules.mask_account(a.number)}  # never the whole number


def accounts(db: Session, user) -> dict:
    """The accounts, open ones first; every number masked."""
    check_reader(user)
    rows = db.execute(select(OfficeAccount).order_by(OfficeAccount.closed_on.is_not(None), OfficeAccount.opened_on,
                                                     OfficeAccount.id).limit(500)).scalars().all()
    return {"items": [_account_dict(a) for a in rows], "kinds": list(rules.ACCOUNT_KINDS),
            "can_manage": may_manage(user), "can_unmask": may_manage(user)}


def _account_form(db: Session, body, partial: bool, today: date) -> tuple[dict, _Form]:
    form = _Form(body, partial)
    form.choice("kind", "账户性质", rules.ACCOUNT_KINDS)
    form.text("bank", "开户银行", rules.NAME_MAX)
    form.text("name", "账户名称", rules.NAME_MAX)
    if form.given("number"):
        raw = form.body.get("number")
        digits = re.sub(r"[\s-]", "", raw) if isinstance(raw, str) else ""
        low, high = rules.ACCOUNT_DIGITS
        if not re.fullmatch(rf"[0-9]{{{low},{high}}}", digits):
            form.refuse("number", f"账号应为 {low}–{high} 位数字", f"the number is {low} to {high} digits")
        else:
            form.values["number"] = digits
    form.day("opened_on", "开户日期", not_after=today)
    form.day("closed_on", "销户日期", required=False, not_after=today)
    form.text("approval", "审批情况", rules.APPROVAL_MAX, required=False)
    form.text("note", "备注", rules.NOTE_MAX, required=False)
    form.scans(db)
    return form.values, form


def _check_account(db: Session, values: dict, record: OfficeAccount | None, form: _Form) -> None:
    opened = values.get("opened_on", record.opened_on if record else None)
    closed = values.get("closed_on", record.closed_on if record else None)
    if opened and closed and closed < opened:
        form.refuse("closed_on", "销户日期不能早于开户日期", "closed_on is before opened_on")
    number = values.get("number")
    if number:
        other = db.execute(select(OfficeAccount.id).where(OfficeAccount.number == number)).scalar()
        if other is not None and (record is None or other != record.id):
            form.refuse("number", "此账号已登记", "this account number is already registered")


def add_account(db: Session, user, body, now: datetime | None = None) -> dict:
    """``{kind, bank, name, number, opened_on, closed_on?, approval?, scans?, note?}``. Commits."""
    check_manager(user)
    at = _now(now)
    values, form = _account_form(db, body, False, at.date())
    _check_account(db, values, None, form)
    values = form.done()
    record = OfficeAccount(**values, version=1, created_at=at, updated_at=at)
    db.add(record)
    db.flush()
    audit(db, user, "office_account_add", f"office_account:{record.id}", None, _account_audited(record), at=at)
    db.commit()
    return _account_dict(record)


def change_account(db: Session, user, account_id: int, body, now: datetime | None = None) -> dict:
    """Change fields ``{…, version}`` (``closed_on``: 销户). Commits."""
    check_manager(user)
    record = db.execute(select(OfficeAccount).where(OfficeAccount.id == account_id).with_for_update()).scalar_one_or_none()
    if record is None:
        raise NotFoundError("没有这个银行账户", "no such bank account")
    at = _now(now)
    values, form = _account_form(db, body, True, at.date())
    _check_account(db, values, record, form)
    version = form.version()
    values = form.done()
    _stale(record.version, version, _account_dict(record))
    before = _account_audited(record)
    if not _apply(record, values):
        return _account_dict(record)
    record.version += 1
    record.updated_at = at
    audit(db, user, "office_account_change", f"office_account:{record.id}", before, _account_audited(record), at=at)
    db.commit()
    return _account_dict(record)


def account_number(db: Session, user, account_id: int, now: datetime | None = None) -> dict:
    """The whole number, for ``manage_office`` only; the showing is written to the audit log
    (``view_account_number``) and committed before the answer leaves."""
    check_reader(user)
    if not may_manage(user):
        raise ForbiddenError("完整账号只对镇综治中心 (调度员、管理员) 显示", "the whole number is shown to the town's centre only")
    record = db.get(OfficeAccount, account_id)
    if record is None:
        raise NotFoundError("没有这个银行账户", "no such bank account")
    audit(db, user, "view_account_number", f"office_account:{record.id}", None, {"ids": [record.id], "count": 1},
          at=_now(now))
    db.commit()
    return {"id": record.id, "number": record.number, "number_masked": rules.mask_account(record.number)}


# ------------------------------------------------------------------ the registration checklist


def _item_dict(item: rules.ChecklistItem, n: int, row: OfficeChecklistItem | None, names: dict[int, str]) -> dict:
    state = row.state if row else "未备"
    return {"code": item.code, "order": n, "zh": item.zh, "en": item.en, "state": state,
            "state_en": rules.CHECKLIST_STATES_EN[state], "day": _iso(row.day) if row else None,
            "note": row.note if row else None, "scans": _scans(row.scans if row else []),
            "version": row.version if row else 0, "updated_at": format_iso(row.updated_at) if row else None,
            "updated_by": names.get(row.updated_by) if row else None}


def checklist(db: Session, user) -> dict:
    """The eight documents of the seed in its order, each 未备 until recorded."""
    check_reader(user)
    rows = {r.code: r for r in db.execute(select(OfficeChecklistItem)).scalars()}
    names = _names(db, [r.updated_by for r in rows.values()])
    items = [_item_dict(item, n, rows.get(item.code), names) for n, item in enumerate(rules.CHECKLIST, start=1)]
    return {"items": items, "ready": sum(1 for i in items if i["state"] == "已备"), "total": len(items),
            "states": list(rules.CHECKLIST_STATES), "can_manage": may_manage(user)}


def _checklist_item(code: str) -> tuple[int, rules.ChecklistItem]:
    for n, item in enumerate(rules.CHECKLIST, start=1):
        if item.code == code:
            return n, item
    raise NotFoundError("法人登记要件中没有这一项", "no such item in the registration checklist")


def record_checklist(db: Session, user, code: str, body, now: datetime | None = None) -> dict:
    """``{state: 未备|已备, day?, note?, scans?, version}`` of one document (``day``: when it was
    readied, today when left out; version 0 for a document never recorded). Commits."""
    check_manager(user)
    n, item = _checklist_item(code)
    at = _now(now)
    row = db.execute(select(OfficeChecklistItem).where(OfficeChecklistItem.code == code).with_for_update()).scalar_one_or_none()
    form = _Form(body, partial=True)
    form.choice("state", "状态", rules.CHECKLIST_STATES)
    form.day("day", "备齐日期", required=False, not_after=at.date())
    form.text("note", "备注", rules.NOTE_MAX, required=False)
    form.scans(db)
    version = form.version()
    values = form.done()
    state = values.get("state", row.state if row else "未备")
    if state == "已备":
        values["day"] = values.get("day") or (row.day if row and row.day else at.date())
    else:
        values["day"] = None
    current = _item_dict(item, n, row, _names(db, [row.updated_by] if row else []))
    _stale(row.version if row else 0, version, current)
    before = None
    if row is None:
        row = OfficeChecklistItem(code=code, state="未备", scans=[], version=0)
        db.add(row)
    else:
        before = _audited(row, ("state", "day", "note", "scans"))
    if not _apply(row, values) and before is not None:
        return current
    row.version += 1
    row.updated_by, row.updated_at = user.id, at
    db.flush()
    audit(db, user, "office_checklist_change", f"office_checklist:{code}", before,
          _audited(row, ("state", "day", "note", "scans")), at=at)
    db.commit()
    return _item_dict(item, n, row, _names(db, [user.id]))


# ------------------------------------------------------------------ reminders of a certificate's expiry


def _end_of(valid_to: date) -> datetime:
    """The first moment a certificate valid to ``valid_to`` is no longer valid (the next day, 00:00
    in Asia/Shanghai)."""
    return datetime.combine(valid_to + timedelta(days=1), time.min, SHANGHAI)


def run_reminders(db: Session, now: datetime | None = None) -> int:
    """Make the reminders whose day has come (safe to run again: each once per certificate, expiry
    date and stage); a new stage closes the earlier stage's open reminder. Returns how many were
    made. Commits."""
    at = _now(now)
    today = at.date()
    first = max(rules.REMINDER_DAYS)
    due = db.execute(select(OfficeCertificate).where(OfficeCertificate.state == "在用",
                                                     OfficeCertificate.valid_to.is_not(None),
                                                     OfficeCertificate.valid_to <= today + timedelta(days=first))
                     .order_by(OfficeCertificate.id)).scalars().all()
    made = 0
    for c in due:
        stage = rules.reminder_stage(c.valid_to, today)
        if stage is None:
            continue
        done = db.execute(select(OfficeReminder.id).where(OfficeReminder.certificate_id == c.id,
                                                          OfficeReminder.valid_to == c.valid_to,
                                                          OfficeReminder.days <= stage)).first()
        if done is not None:  # this stage (or a later one) was made already
            continue
        inserted = db.execute(insert(OfficeReminder).values(
            certificate_id=c.id, valid_to=c.valid_to, days=stage, due_at=_end_of(c.valid_to), created_at=at)
            .on_conflict_do_nothing(constraint="uq_office_reminders_stage").returning(OfficeReminder.id)).scalar()
        if inserted is None:
            continue
        made += 1
        _close_reminders(db, c.id, "superseded", None, at, stages=[d for d in rules.REMINDER_DAYS if d > stage])
    db.commit()
    return made


def _reminder_rows(db: Session, ids) -> list[tuple[OfficeReminder, OfficeCertificate]]:
    return db.execute(select(OfficeReminder, OfficeCertificate)
                      .join(OfficeCertificate, OfficeCertificate.id == OfficeReminder.certificate_id)
                      .where(OfficeReminder.id.in_(list(ids)))).all()


def _reminder_dict(r: OfficeReminder, c: OfficeCertificate, today: date, names: dict[int, str]) -> dict:
    left = rules.days_left(r.valid_to, today)
    return {"id": r.id, "certificate": {"id": c.id, "name": c.name, "number": c.number, "valid_to": _iso(c.valid_to)},
            "valid_to": _iso(r.valid_to), "days": r.days, "days_left": left, "colour": rules.days_colour(left),
            "due_at": format_iso(r.due_at), "created_at": format_iso(r.created_at), "open": r.done_at is None,
            "done_at": format_iso(r.done_at), "done_by": names.get(r.done_by), "done_reason": r.done_reason,
            "done_reason_zh": rules.REMINDER_DONE_ZH.get(r.done_reason), "note": r.note,
            "page": f"/office?tab=certificates&certificate={c.id}"}


def reminders(db: Session, user, open_only: bool = False, now: datetime | None = None) -> dict:
    check_reader(user)
    query = select(OfficeReminder.id)
    if open_only:
        query = query.where(OfficeReminder.done_at.is_(None))
    ids = db.execute(query.order_by(OfficeReminder.due_at, OfficeReminder.id.desc()).limit(500)).scalars().all()
    rows = _reminder_rows(db, ids)
    names = _names(db, [r.done_by for r, _c in rows])
    today = _now(now).date()
    by_id = {r.id: _reminder_dict(r, c, today, names) for r, c in rows}
    return {"items": [by_id[i] for i in ids], "reminder_days": list(rules.REMINDER_DAYS),
            "day_kind": rules.REMINDER_DAY_KIND}


def reminder(db: Session, user, reminder_id: int, now: datetime | None = None) -> dict:
    check_reader(user)
    rows = _reminder_rows(db, [reminder_id])
    if not rows:
        raise NotFoundError("没有这条提醒", "no such reminder")
    r, c = rows[0]
    return _reminder_dict(r, c, _now(now).date(), _names(db, [r.done_by]))


def acknowledge(db: Session, user, reminder_id: int, body, now: datetime | None = None) -> dict:
    """知悉: the reminder is done (``{note?}``); one already done is a 409 with it as it is. Commits."""
    check_manager(user)
    at = _now(now)
    form = _Form(body if body is not None else {})
    form.text("note", "说明", rules.NOTE_MAX, required=False)
    values = form.done()
    row = db.execute(select(OfficeReminder).where(OfficeReminder.id == reminder_id).with_for_update()).scalar_one_or_none()
    if row is None:
        raise NotFoundError("没有这条提醒", "no such reminder")
    if row.done_at is not None:
        raise ConflictError("这条提醒已处理", "the reminder is done already", current=reminder(db, user, reminder_id, at))
    row.done_at, row.done_by, row.done_reason, row.note = at, user.id, "acknowledged", values.get("note")
    db.commit()
    return reminder(db, user, reminder_id, at)


# ------------------------------------------------------------------ 待办 (services/inbox.SOURCES)


def inbox_rows(user, now: datetime, calendar):
    """The open reminders, for the office (``manage_office``): late once the certificate expired."""
    if not may_manage(user):
        return None
    return (select(literal("office").label("kind"), OfficeReminder.id.label("id"),
                   (OfficeReminder.due_at <= now).label("late"), OfficeReminder.due_at.label("due"),
                   OfficeReminder.created_at.label("since"))
            .where(OfficeReminder.done_at.is_(None)))


ACKNOWLEDGE = {"name": "acknowledge", "label_zh": "知悉", "label_en": "acknowledge", "needs": []}


def inbox_items(db: Session, user, ids: list[int], now: datetime, calendar) -> dict:
    if not ids:
        return {}
    today = now.astimezone(SHANGHAI).date()
    out = {}
    for r, c in _reminder_rows(db, ids):
        left = rules.days_left(r.valid_to, today)
        expired = left < 0
        when = f"已过期 {-left} 天" if expired else f"剩 {left} 天"
        when_en = f"expired {-left} days ago" if expired else f"{left} days left"
        out[r.id] = {
            "kind": "office", "id": r.id, "number": c.number,
            "title": f"证照到期提醒 · {c.name} · {r.valid_to.isoformat()} 到期 ({when})",
            "title_en": f"certificate expiring · {c.name} · valid to {r.valid_to.isoformat()} ({when_en})",
            "state": "已过期" if expired else "即将到期", "state_en": "expired" if expired else "expiring",
            "deadline": format_iso(r.due_at),
            "deadline_status": "red" if expired else "yellow",  # a reminder is a warning until it expires
            "actions": [ACKNOWLEDGE] if may_manage(user) else [], "reported_at": format_iso(r.created_at),
            "supervised": False, "note": f"到期前 {r.days} 天提醒", "page": f"/office?tab=certificates&certificate={c.id}",
        }
    return out
