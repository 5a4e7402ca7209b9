"""The refusal the services raise: an HTTP status, a reason in Chinese and English, and details
(field, codes, problems, the current record …). One handler in ``webmap.errors`` answers it."""

from __future__ import annotations


class ServiceError(Exception):
    """A refused request: ``status`` 400/403/404/409/413/422, ``zh`` and ``en``, and ``details``
    added to the JSON answer."""

    CODES = {400: "BadRequest", 403: "Forbidden", 404: "NotFound", 409: "Conflict"}

    def __init__(self, status: int, zh: str, en: str, **details):
        super().__init__(en)
        self.status, self.zh, self.en, self.details = status, zh, en, details

    @property
    def code(self) -> str:
        return self.CODES.get(self.status, "Unprocessable")
