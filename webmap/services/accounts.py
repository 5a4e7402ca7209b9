"""Accounts and sign-in."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from db.models import Account, Person
from workflow import roles


@dataclass(frozen=True)
class CurrentUser:
    """What the web layer knows of a signed-in account (Flask-Login's user protocol)."""

    id: int
    username: str
    role: str
    scope_code: str
    department_id: int | None
    display_name: str
    must_change_password: bool = False  # a one-time password: the pages ask for a new one first

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def role_label(self) -> tuple[str, str]:
        return roles.labels(self.role)

    def can(self, permission: str) -> bool:
        """Whether this account's role holds ``permission`` (see :mod:`workflow.roles`)."""
        return roles.has_permission(self.role, permission)


_ACCOUNT = select(
    Account.id, Account.username, Account.role, Account.scope_code, Account.department_id,
    Account.password_hash, Account.must_change_password, Person.name,
).outerjoin(Person, Account.person_id == Person.id)


def _to_user(row) -> CurrentUser:
    return CurrentUser(
        id=row.id,
        username=row.username,
        role=row.role,
        scope_code=row.scope_code,
        department_id=row.department_id,
        display_name=row.name or row.username,
        must_change_password=bool(row.must_change_password),
    )


def load_user(db: Session, account_id: int) -> CurrentUser | None:
    """The active account with this id (every authenticated request: plain columns, one query)."""
    row = db.execute(_ACCOUNT.where(Account.id == account_id, Account.active)).first()
    return _to_user(row) if row else None


def authenticate(db: Session, username: str, password: str) -> CurrentUser | None:
    """The account for these credentials, or None. Inactive accounts cannot sign in."""
    if not username or not password or len(username) > 64 or len(password) > 256:
        return None
    row = db.execute(_ACCOUNT.where(Account.username == username, Account.active)).first()
    if row is None or not check_password_hash(row.password_hash, password):
        return None
    return _to_user(row)


MIN_PASSWORD = 8


def password_problem(old: str, new: str, again: str) -> tuple[str, str] | None:
    """Why ``new`` cannot replace the one-time password ``old`` (zh, en), or None.

    >>> password_problem("x", "abc", "abc")[1]
    'at least 8 characters'
    >>> password_problem("Abcdefgh1", "Abcdefgh1", "Abcdefgh1")[1]
    'choose a password other than the one-time one'
    >>> password_problem("x", "long enough 1", "long enough 2")[1]
    'the two entries differ'
    >>> password_problem("x", "long enough 1", "long enough 1") is None
    True
    """
    if len(new) < MIN_PASSWORD:
        return f"至少 {MIN_PASSWORD} 个字符", f"at least {MIN_PASSWORD} characters"
    if new == old:
        return "请设置与一次性密码不同的新密码", "choose a password other than the one-time one"
    if new != again:
        return "两次输入不一致", "the two entries differ"
    return None


def set_own_password(db: Session, account_id: int, password: str) -> None:
    """The owner's own password replaces the one-time one; the flag is cleared. Commits."""
    account = db.get(Account, account_id)
    account.password_hash = generate_password_hash(password)
    account.must_change_password = False
    db.commit()


TOKEN_SALT = "wangge-api-token"
TOKEN_DAYS = 30


def issue_token(secret_key: str, user) -> str:
    """A bearer token signed with the app's secret, naming the account; valid :data:`TOKEN_DAYS`."""
    return URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT).dumps({"id": user.id})


def user_from_token(db: Session, secret_key: str, token: str) -> CurrentUser | None:
    """The account a bearer token names; None when it is forged, malformed or expired."""
    try:
        data = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT).loads(token, max_age=TOKEN_DAYS * 86400)
    except BadSignature:
        return None
    account_id = data.get("id") if isinstance(data, dict) else None
    if isinstance(account_id, bool) or not isinstance(account_id, int):
        return None
    return load_user(db, account_id)
