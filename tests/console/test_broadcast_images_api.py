"""情報配信 with one image (issue 17 item 1) through the console's API against a real gateway, its worker and the
fake LINE: the multicast carries the text and an image message, the gateway serves the image and its preview at an
unguessable public path, re-encoded without EXIF; bad files are refused with a Japanese reason and nothing stored."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
from PIL import Image

from handoff.domain import broadcast_images
from handoff.domain.broadcasts import BroadcastError
from tests.console.conftest import Gateway, wait_for
from tests.console.test_broadcasts_api import friends_in

TEXT = "冬休みのお知らせです。画像もご覧ください。https://example.jp/yc"


def jpeg_with_exif(size: tuple[int, int] = (800, 600)) -> bytes:
    image = Image.new("RGB", size, (40, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"  # Make
    exif[0x013B] = "Taro Yamada"  # Artist
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_a_delivery_with_an_image_sends_text_and_image_and_the_gateway_serves_it_without_exif(
    gateway: Gateway,
) -> None:
    gw = gateway
    users = friends_in(gw, "七尾市", 2)
    sv = gw.login(gw.add_user("supervisor"))
    upload = jpeg_with_exif()
    assert Image.open(io.BytesIO(upload)).getexif()  # the upload has EXIF
    made = sv.post("/api/broadcasts", {"text": TEXT, "segment": {"municipality": ["七尾市"]},
                                       "image": "data:image/jpeg;base64," + b64(upload)})
    assert made.status_code == 201, made.text
    done = wait_for(lambda: (b := sv.get(f"/api/broadcasts/{made.json()['id']}").json())["status"] == "sent" and b)
    assert done["sent"] == 2 and done["image"]["url"].endswith(".jpg")
    for user in users:
        data = httpx.get(f"{gw.url}/simulator/line/_fake/users/{user}/messages", timeout=5).json()
        sent = [m["message"] for m in data["messages"] if m["via"] == "multicast"]
        assert [m["type"] for m in sent] == ["text", "image"] and sent[0]["text"] == TEXT
        assert sent[1]["originalContentUrl"] == done["image"]["url"]
        assert sent[1]["previewImageUrl"] == done["image"]["preview_url"]
    url, preview_url = done["image"]["url"], done["image"]["preview_url"]
    assert "/about/media/" in url and len(url.rsplit("/", 1)[1]) >= 32 + len(".jpg")
    served = httpx.get(url, timeout=5)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(served.content))
    image.load()
    assert image.format == "JPEG" and image.size == (800, 600)
    assert not image.getexif() and "exif" not in image.info and b"SecretCamera" not in served.content
    preview = httpx.get(preview_url, timeout=5)
    small = Image.open(io.BytesIO(preview.content))
    assert small.format == "JPEG" and max(small.size) <= 240 and len(preview.content) <= 1024 * 1024
    assert httpx.get(url.rsplit("/", 1)[0] + "/unknown-token.jpg", timeout=5).status_code == 404
    assert httpx.get(url.removesuffix(".jpg") + ".png", timeout=5).status_code == 404


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("L", size).save(out, "PNG")
    return out.getvalue()


def test_bad_images_are_refused_with_a_reason_and_nothing_is_stored(gateway_sqlite: Gateway) -> None:
    gw = gateway_sqlite
    friends_in(gw, "羽咋市", 1)
    admin = gw.login(gw.add_user("admin"))
    before = [gw.rows(f"SELECT count(*) AS n FROM {table}")[0]["n"] for table in ("broadcasts", "broadcast_images")]
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    cases = {
        "送れる画像はJPEGかPNGだけです": b64(gif.getvalue()),
        "画像として読めないファイル": b64("これは画像ではありません".encode()),
        "壊れているよう": b64(jpeg_with_exif()[:2000]),
        "縦横4096ピクセルまで": b64(_png((5000, 20))),
        "画像のデータが読めません": "%%% not base64 %%%",
        "10MBまで": "A" * (14 * 1024 * 1024 - 1024 * 1024 // 2),
        "大きすぎます": "A" * (15 * 1024 * 1024),  # over the route's body limit itself
    }
    for reason, image in cases.items():
        refused = admin.post("/api/broadcasts", {"text": TEXT, "segment": {"municipality": ["羽咋市"]},
                                                 "image": image})
        assert refused.status_code == 400, (reason, refused.status_code)
        assert reason in refused.json()["message"] and "image" in refused.json()["fields"], reason
    after = [gw.rows(f"SELECT count(*) AS n FROM {table}")[0]["n"] for table in ("broadcasts", "broadcast_images")]
    assert after == before


def test_with_real_line_an_http_public_url_is_refused_with_the_reason() -> None:
    with pytest.raises(BroadcastError, match="httpsである必要があります"):
        broadcast_images.urls("http://line.ycc.example.jp", "t" * 32, "jpg", real_line=True)
    original, preview = broadcast_images.urls("https://line.ycc.example.jp/", "t" * 32, "png", real_line=True)
    assert (original, preview) == ("https://line.ycc.example.jp/about/media/" + "t" * 32 + ".png",
                                   "https://line.ycc.example.jp/about/media/" + "t" * 32 + "-preview.jpg")
