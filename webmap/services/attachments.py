"""Photos, stored once by content hash. The bytes decide the type, not the file name."""

from __future__ import annotations

import hashlib

from sqlalchemy import exists, select, text
from sqlalchemy.orm import Session

from db.models import Attachment, Incident, StaffTraining, Visit
from workflow import roles
from workflow.staff import STAFF_READERS

from . import office, scope
from .errors import FieldError, InvalidInputError
from .tasks import attachment_visible
from .visits import visible as visit_visible

MAX_BYTES = 10 * 1024 * 1024  # 10 MB per photo


class AttachmentError(InvalidInputError):
    """A photo refused (400 empty, 413 too large, 415 not an image), on the field ``file``."""

    CODE, DESCRIBED = "AttachmentError", False

    def __init__(self, status: int, zh: str, en: str):
        super().__init__([FieldError("file", zh, en)], status=status, zh=zh, en=en)


def sniff_image(data: bytes) -> str | None:
    """The image type from the first bytes, or None when they are not JPEG, PNG, WebP or HEIC.

    >>> sniff_image(b"\\xff\\xd8\\xff\\xe0" + b"0" * 8), sniff_image(b"%PDF-1.7"), sniff_image(b"")
    ('image/jpeg', None, None)
    """
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
        return "image/heic"
    return None


DOCUMENT_TYPES = ("application/pdf",)  # beyond the photos: a task's document, a register's scan


def sniff_document(data: bytes) -> str | None:
    """A document's type from its first bytes (a PDF, or a photo of the page), or None.

    >>> sniff_document(b"%PDF-1.7\\n"), sniff_document(b"\\x89PNG\\r\\n\\x1a\\n"), sniff_document(b"PK\\x03\\x04")
    ('application/pdf', 'image/png', None)
    """
    if data[:5] == b"%PDF-":
        return "application/pdf"
    return sniff_image(data)


# what each kind of upload accepts: its sniffer, and the refusals (zh, en) of a too large and a wrong file
KINDS = {
    "photo": (sniff_image, ("照片不能超过 10 MB", "a photo must be at most 10 MB"),
              ("只接受 JPEG、PNG、WebP 或 HEIC 照片(按文件内容判断)",
               "only JPEG, PNG, WebP or HEIC photos are accepted (judged by the bytes)")),
    "document": (sniff_document, ("文件不能超过 10 MB", "a file must be at most 10 MB"),
                 ("只接受 PDF 文件或 JPEG、PNG、WebP、HEIC 图片(按文件内容判断)",
                  "only PDF files or JPEG, PNG, WebP, HEIC images are accepted (judged by the bytes)")),
}


def check_upload(data: bytes, kind: str = "photo") -> str:
    """The file's type, or :class:`AttachmentError` when it is empty, over 10 MB or not of ``kind``
    (a photo; a document: a PDF or a photo)."""
    sniff, too_large, wrong = KINDS[kind]
    if not data:
        raise AttachmentError(400, "文件为空", "the file is empty")
    if len(data) > MAX_BYTES:
        raise AttachmentError(413, *too_large)
    mime = sniff(data)
    if mime is None:
        raise AttachmentError(415, *wrong)
    return mime


def check_photo(data: bytes) -> str:
    """The photo's type, or :class:`AttachmentError` when it is empty, over 10 MB or not an image."""
    return check_upload(data, "photo")


def photo_id(data: bytes) -> str:
    """A photo's id: the SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


def store_photo(db: Session, data: bytes, uploader_id: int | None, *, document: bool = False) -> dict:
    """Keep a photo, or with ``document`` a PDF or a photo (idempotent: the same bytes give the same
    id). Commits."""
    mime = check_upload(data, "document" if document else "photo")
    sha = photo_id(data)
    db.execute(
        text("INSERT INTO attachments (sha256, mime, size, data, uploaded_by) VALUES (:s, :m, :n, :d, :u) "
             "ON CONFLICT (sha256) DO NOTHING"),
        {"s": sha, "m": mime, "n": len(data), "d": data, "u": uploader_id},
    )
    db.commit()
    return {"id": sha, "mime": mime, "size": len(data)}


def load_photo(db: Session, user, sha: str) -> Attachment | None:
    """The photo if this user uploaded it, may see an incident or a visit (日走访) that shows it, or
    reads the centre's staff records and it is a training's scanned certificate, or reads the centre's
    registers (办公室台账) and it is one of their scans."""
    visible = (Attachment.uploaded_by == getattr(user, "id", None)) | exists().where(
        Incident.photos.contains([sha]), scope.incident_visible(user)) | exists().where(
        Visit.photos.contains([sha]), visit_visible(user))
    if getattr(user, "role", None) in STAFF_READERS:
        visible = visible | exists().where(StaffTraining.attachment == sha)
    if roles.has_permission(getattr(user, "role", None), "read_office"):  # a scan of the centre's registers
        visible = visible | office.scan_visible(sha)
    if getattr(user, "role", None):  # a task's document, a completion's photos (交办任务)
        visible = visible | attachment_visible(user, sha)
    return db.execute(select(Attachment).where(Attachment.sha256 == sha, visible)).scalar()
