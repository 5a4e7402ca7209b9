"""Accounts and sign-in."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

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
    Account.password_hash, Person.name,
).outerjoin(Person, Account.person_id == Person.id)


def _to_user(row) -> CurrentUser:
    return CurrentUser(
        id=row.id,
        username=row.username,
        role=row.role,
        scope_code=row.scope_code,
        department_id=row.department_id,
        display_name=row.name or row.username,
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
