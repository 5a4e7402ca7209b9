"""Sign-in and sign-out pages; Flask-Login with a session cookie, or HTTP Basic for tools (QGIS)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from webmap import database
from webmap.services import accounts

bp = Blueprint("auth", __name__, url_prefix="/auth")
login_manager = LoginManager()


class PasswordForm(FlaskForm):
    current = PasswordField("一次性密码", validators=[DataRequired(), Length(max=256)])
    new = PasswordField("新密码", validators=[DataRequired(), Length(max=256)])
    again = PasswordField("再次输入新密码", validators=[DataRequired(), Length(max=256)])


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=256)])
    device = HiddenField()  # "phone" when the login page was read on a narrow screen (common.js)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.before_request(_header_auth)
    app.before_request(_ask_for_own_password)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    app.register_blueprint(bp)


@login_manager.user_loader
def _load(user_id: str):
    if not (user_id.isascii() and user_id.isdigit()):
        return None
    return accounts.load_user(database.session(), int(user_id))


def issue_token(user) -> str:
    """A signed bearer token for phones and scripts (``Authorization: Bearer …``)."""
    return accounts.issue_token(current_app.config["SECRET_KEY"], user)


def _user_from_header(auth):
    if auth.type == "bearer" and auth.token:
        return accounts.user_from_token(database.session(), current_app.config["SECRET_KEY"], auth.token)
    if auth.type == "basic":
        return accounts.authenticate(database.session(), auth.username or "", auth.password or "")
    return None


def _header_auth():
    """``Authorization: Bearer`` tokens (phones, scripts) and HTTP Basic (desktop GIS reading the OGC
    API). When the header is there it alone decides who the request is: a cookie beside it is
    ignored, and a bad header is anonymous. Neither rides on a cookie, so neither needs CSRF."""
    auth = request.authorization
    if auth is None:
        return
    user = _user_from_header(auth)
    g._login_user = user if user is not None else login_manager.anonymous_user()
    if user is not None:
        g.auth_via = auth.type


@login_manager.unauthorized_handler
def _unauthorized():
    from flask import abort

    if request.path.startswith(("/api/", "/ogc")):
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


# Where each role's day starts (the page after login when no other page was asked for). Paths, not
# endpoints: /m/cases is the phone's page of cases.
LANDING = {
    "worker": "/m/cases", "leader": "/inbox", "department": "/inbox", "dispatcher": "/dispatch",
    "town_leader": "/inbox", "district": "/inbox", "planner": "/planner", "analyst": "/analysis",
    "admin": "/dispatch",
}
# on a phone, where it differs: the village leader works the village's cases on the phone's page
LANDING_PHONE = {"leader": "/m/cases"}


def landing(user, device: str | None = None) -> str:
    """The page where ``user``'s day starts (on a phone when ``device`` is "phone"); the town map
    for a role without one."""
    role = getattr(user, "role", None)
    return (device == "phone" and LANDING_PHONE.get(role)) or LANDING.get(role, "/")


def _safe_next(target: str | None, user, device: str | None = None) -> str:
    """``next`` when it is a page of this site other than the bare root (which every sign-in from the
    front door asks for), else the role's landing page on this device."""
    if not target or target in ("/", "/?"):
        return landing(user, device)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return landing(user, device)
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = accounts.authenticate(database.session(), form.username.data, form.password.data)
        if user is not None:
            login_user(user, remember=True)
            target = _safe_next(request.args.get("next"), user, form.device.data)
            if user.must_change_password:
                return redirect(url_for("auth.password", next=target))
            return redirect(target)
        flash(_("用户名或密码错误"), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


# what a signed-in account with a one-time password may still reach before choosing its own
OPEN_WITH_ONE_TIME_PASSWORD = ("auth.password", "auth.logout", "static")


def _ask_for_own_password():
    """Pages signed in by cookie with a one-time password (``wangge town init``) lead to the page
    that asks for a new one; the JSON API and the bearer and basic logins of tools are left alone."""
    if request.endpoint in OPEN_WITH_ONE_TIME_PASSWORD or request.path.startswith(("/api/", "/ogc")):
        return None
    if g.get("auth_via") is not None or not current_user.is_authenticated:
        return None
    if getattr(current_user, "must_change_password", False):
        return redirect(url_for("auth.password", next=request.full_path.rstrip("?")))
    return None


@bp.route("/password", methods=["GET", "POST"])
def password():
    """首次登录修改密码 / choose one's own password in place of the one-time one."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        db = database.session()
        if accounts.authenticate(db, current_user.username, form.current.data) is None:
            flash(_("一次性密码不正确"), "error")
            status = 400
        elif (problem := accounts.password_problem(form.current.data, form.new.data, form.again.data)) is not None:
            flash(problem[1] if g.get("lang") == "en" else problem[0], "error")
            status = 400
        else:
            accounts.set_own_password(db, current_user.id, form.new.data)
            return redirect(_safe_next(request.args.get("next"), current_user))
    elif request.method == "POST":
        status = 400
    return render_template("auth/password.html", form=form, minimum=accounts.MIN_PASSWORD), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


def csrf_for_cookie_sessions():
    """``before_request`` of the JSON APIs: writes authenticated by the session cookie carry the
    page's CSRF token in ``X-CSRFToken``; bearer and basic requests carry no cookie and need none."""
    from flask_wtf.csrf import CSRFError, validate_csrf
    from wtforms import ValidationError

    from webmap.services.errors import BadRequestError

    if request.method in ("GET", "HEAD", "OPTIONS") or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if request.endpoint == "api.login":  # JSON only: a cross-site form cannot send it
        return
    if current_user.is_authenticated and g.get("auth_via") is None:
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except (ValidationError, CSRFError) as exc:
            raise BadRequestError("缺少或无效的 CSRF 令牌 (X-CSRFToken)", "missing or invalid CSRF token (X-CSRFToken)",
                                  param="X-CSRFToken") from exc
