"""The one family of refusals the services raise: an HTTP status, a reason in Chinese and English,
and details (field errors, the current record …). One handler in ``webmap.errors`` answers them all;
no view translates an exception by hand. The pure layers (``spatial/``, ``workflow/``) keep their
own ``ValueError`` subclasses: the service that calls them converts them to this family.

- :class:`ServiceError` ``(status, zh, en, **details)``: the base; ``code`` from the status.
- :class:`BadRequestError` (400), :class:`NotFoundError` (404), :class:`ForbiddenError` (403).
- :class:`ConflictError` (409): a stale version, with ``current=`` the record as it now is.
- :class:`InvalidInputError` (422, or 400): input refused field by field (:class:`FieldError`);
  :class:`InvalidParametersError` (400) is the same for query parameters.

No Flask here: :meth:`ServiceError.body` is the JSON answer as a dict.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """Why one field was refused."""

    field: str
    zh: str
    en: str

    def as_dict(self) -> dict:
        return {"field": self.field, "zh": self.zh, "en": self.en}


class ServiceError(Exception):
    """A refused request: ``status`` 400/403/404/409/413/422, ``zh`` and ``en``, and ``details``
    added to the JSON answer. ``code`` names it in the answer: the class's ``CODE`` when it has
    one, else the status's name."""

    CODES = {400: "BadRequest", 403: "Forbidden", 404: "NotFound", 409: "Conflict"}
    CODE: str | None = None
    DESCRIBED = True  # the answer carries "description": "zh / en"

    def __init__(self, status: int, zh: str, en: str, **details):
        super().__init__(en)
        self.status, self.zh, self.en, self.details = status, zh, en, details

    @property
    def code(self) -> str:
        return self.CODE or self.CODES.get(self.status, "Unprocessable")

    def body(self) -> dict:
        """The JSON answer: ``code``, ``description``, ``message_zh``, ``message_en`` and the details."""
        head = {"code": self.code, "message_zh": self.zh, "message_en": self.en}
        if self.DESCRIBED:
            head["description"] = f"{self.zh} / {self.en}"
        return {**head, **self.details}


class _FixedStatus(ServiceError):
    status = 400

    def __init__(self, zh: str, en: str = "", **details):
        super().__init__(type(self).status, zh, en or zh, **details)


class BadRequestError(_FixedStatus):
    """A malformed request (400); ``param=`` names the parameter."""

    status, CODE = 400, "BadRequestError"


class NotFoundError(_FixedStatus):
    """Nothing there, or nothing the caller may see (404)."""

    status, CODE = 404, "NotFoundError"


class ForbiddenError(_FixedStatus):
    """Not for this account (403)."""

    status, CODE = 403, "ForbiddenError"


class ConflictError(ServiceError):
    """The record changed since the client read it (its ``version`` is stale): 409 with
    ``current``, the record as it now is."""

    CODE, DESCRIBED = "Conflict", False

    def __init__(self, zh: str, en: str, current):
        super().__init__(409, zh, en, current=current)

    @property
    def current(self):
        return self.details["current"]


class InvalidInputError(ServiceError):
    """Input that cannot be accepted; ``errors`` says why, field by field. Nothing was saved.

    The answer (422 unless ``status`` says otherwise) leads with the first reason and the count,
    ``"<lead>: <first> 等 N 处"`` / ``"<lead>: <field: reason; …>"``, and carries ``errors``, the
    list of ``{"field", "zh", "en"}``. ``LEAD`` (or ``lead=``) and ``CODE`` (or ``code=``) say
    what was refused; ``zh=``/``en=`` replace the headline. ``str()`` is every field's English
    reason."""

    CODE = "ReportRejected"
    LEAD = ("上报内容有误", "the report was not accepted")

    def __init__(self, errors: list[FieldError], *, lead: tuple[str, str] | None = None, status: int = 422,
                 code: str | None = None, zh: str | None = None, en: str | None = None):
        self.errors = list(errors)
        lead_zh, lead_en = lead or self.LEAD
        joined_en = "; ".join(f"{e.field}: {e.en}" for e in self.errors)
        super().__init__(status, zh if zh is not None else self._headline(lead_zh),
                         en if en is not None else f"{lead_en}: {joined_en}")
        self.args = (joined_en,)
        if code is not None:
            self.CODE = code

    def _headline(self, lead: str) -> str:
        if not self.errors:
            return lead
        first = self.errors[0]
        return f"{lead}: {first.zh}" + (f" 等 {len(self.errors)} 处" if len(self.errors) > 1 else "")

    def body(self) -> dict:
        return {**super().body(), "errors": [e.as_dict() for e in self.errors]}


class InvalidParametersError(InvalidInputError):
    """Query parameters that cannot be used (400): ``"<lead>: <field: reason; …>"`` in both
    languages, with ``errors``."""

    CODE = "BadRequestError"
    LEAD = ("参数有误", "bad parameters")

    def __init__(self, errors: list[FieldError], *, lead: tuple[str, str] | None = None):
        lead_zh, _ = lead or self.LEAD
        joined_zh = "; ".join(f"{e.field}: {e.zh}" for e in errors)
        super().__init__(errors, lead=lead, status=400, zh=f"{lead_zh}: {joined_zh}")


def refused(status: int, zh: str, en: str, code: str = "TransitionRefused") -> InvalidInputError:
    """A workflow action the rules refuse (403: not this actor's, 422: not now), as the answer
    the API gives it: the reason, and the same reason on the field ``action``."""
    return InvalidInputError([FieldError("action", zh, en)], status=status, code=code, zh=zh, en=en)
