"""The optional image of an information delivery (issue 17 item 1): checked by decoding it, re-encoded.

Why decode and re-encode rather than pass the upload on: a file that only claims to be a JPEG, a GIF, a corrupt
file or a decompression bomb is refused before anything is stored, and the copy LINE fetches carries no EXIF (a
photo's GPS position, the camera, the author) or other metadata. LINE's limits for an image message: JPEG or PNG,
at most 10 MB for originalContentUrl and 1 MB for previewImageUrl, both https. The bytes are never logged.
"""

from __future__ import annotations

import base64
import binascii
import io
import secrets
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.domain.broadcasts import BroadcastError
from handoff.store.models_broadcasts import Broadcast, BroadcastImage

MAX_BYTES = 10 * 1024 * 1024  # LINE: originalContentUrl at most 10 MB
MAX_SIDE = 4096  # pixels per side; more is refused before decoding (LINE shows nothing larger anyway)
PREVIEW_SIDE = 240
MAX_PREVIEW = 1024 * 1024  # LINE: previewImageUrl at most 1 MB
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
MEDIA_PATH = "/about/media/"  # published on the public name by nginx (GET only)
TOO_BIG = "画像が大きすぎます。10MBまでのJPEGかPNGにしてください。"


@dataclass(frozen=True)
class PreparedImage:
    content_type: str
    data: bytes
    preview: bytes
    width: int
    height: int

    @property
    def extension(self) -> str:
        return "png" if self.content_type == "image/png" else "jpg"


def _refuse(message: str) -> BroadcastError:
    return BroadcastError("image", message)


def _decode_base64(raw: Any) -> bytes:
    """The upload's bytes from base64, with or without a `data:image/…;base64,` prefix (the page's FileReader)."""
    if not isinstance(raw, str) or not raw:
        raise _refuse("画像はbase64の文字列で送ってください。")
    if raw.startswith("data:"):
        raw = raw.partition(",")[2]
    if len(raw) > (MAX_BYTES * 4) // 3 + 8:
        raise _refuse(TOO_BIG)
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise _refuse("画像のデータが読めません。JPEGかPNGのファイルを選んでください。") from None
    if len(data) > MAX_BYTES:
        raise _refuse(TOO_BIG)
    return data


def _clean(image: Image.Image, fmt: str) -> Image.Image:
    """The pixels only, turned as the camera meant (EXIF orientation), in a mode the format keeps."""
    image = ImageOps.exif_transpose(image) or image
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    mode = "RGBA" if fmt == "PNG" and has_alpha else ("L" if image.mode in ("L", "1") else "RGB")
    converted = image.convert(mode)
    return Image.frombytes(mode, converted.size, converted.tobytes())  # a new image: no info, no EXIF


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=90, optimize=True)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _preview(image: Image.Image) -> bytes:
    small = image.copy()
    small.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    if small.mode == "RGBA":
        flat = Image.new("RGB", small.size, "white")
        flat.paste(small, mask=small.getchannel("A"))
        small = flat
    out = io.BytesIO()
    small.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def prepare(raw: Any) -> PreparedImage | None:
    """None when the request has no image; else the re-encoded image and its preview, or BroadcastError."""
    if raw is None or raw == "":
        return None
    data = _decode_base64(raw)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data), formats=("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"))
            fmt = opened.format or ""
            if fmt not in FORMATS:
                raise _refuse("送れる画像はJPEGかPNGだけです。")
            width, height = opened.size
            if width > MAX_SIDE or height > MAX_SIDE:
                raise _refuse(f"画像の大きさは縦横{MAX_SIDE}ピクセルまでです（この画像は{width}×{height}）。")
            opened.load()
            clean = _clean(opened, fmt)
    except BroadcastError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse("画像として読めないファイルです。JPEGかPNGのファイルを選んでください。") from None
    except (OSError, ValueError, SyntaxError):
        raise _refuse("画像ファイルが壊れているようです。別のファイルを選んでください。") from None
    encoded = _encode(clean, fmt)
    if len(encoded) > MAX_BYTES:
        raise _refuse(TOO_BIG)
    preview = _preview(clean)
    if len(preview) > MAX_PREVIEW:  # 240×240 at quality 85 is far under; kept as LINE's rule
        raise _refuse("プレビュー画像が作れませんでした。別のファイルを選んでください。")
    return PreparedImage(FORMATS[fmt], encoded, preview, clean.width, clean.height)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def urls(public_url: str, token: str, extension: str, *, real_line: bool) -> tuple[str, str]:
    """originalContentUrl and previewImageUrl on the public name; with real LINE it must be https (LINE's rule)."""
    base = public_url.rstrip("/")
    if real_line and not base.startswith("https://"):
        raise _refuse("画像を送るには公開URL（YCC_SECURE_CHAT_URL）がhttpsである必要があります。"
                      "LINEはhttpsの画像しか表示しません。")
    return f"{base}{MEDIA_PATH}{token}.{extension}", f"{base}{MEDIA_PATH}{token}-preview.jpg"


async def attach(session: AsyncSession, broadcast: Broadcast, image: PreparedImage, token: str,
                 urls: tuple[str, str]) -> BroadcastImage:
    """Store the image with its delivery (the same transaction: both or neither)."""
    row = BroadcastImage(broadcast_id=broadcast.id, token=token, content_type=image.content_type, data=image.data,
                         preview=image.preview, width=image.width, height=image.height, original_url=urls[0],
                         preview_url=urls[1], created_at=broadcast.created_at)
    session.add(row)
    await session.flush()
    return row


async def urls_of(session: AsyncSession, broadcast_id: int) -> tuple[str, str] | None:
    """The image's two URLs (never its bytes), or None for a text-only delivery."""
    row = (await session.execute(select(BroadcastImage.original_url, BroadcastImage.preview_url)
                                 .where(BroadcastImage.broadcast_id == broadcast_id))).first()
    return (row[0], row[1]) if row else None


async def served(session: AsyncSession, name: str) -> tuple[str, bytes] | None:
    """Content type and bytes for `/about/media/<name>`: `<token>.<ext>` or `<token>-preview.jpg`."""
    stem, dot, ext = name.rpartition(".")
    preview = stem.endswith("-preview")
    token = stem.removesuffix("-preview")
    if not dot or not token or len(token) > 64:
        return None
    row = await session.scalar(select(BroadcastImage).where(BroadcastImage.token == token))
    if row is None:
        return None
    if preview:
        return ("image/jpeg", row.preview) if ext == "jpg" else None
    expected = "png" if row.content_type == "image/png" else "jpg"
    return (row.content_type, row.data) if ext == expected else None
