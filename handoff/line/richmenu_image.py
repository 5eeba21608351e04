"""The rich menu's images, drawn by the project with Pillow from data/richmenu.yml (issue 17 item 2).

Our own image rather than a designer's file: the labels are the file's labels and the tap areas the same boxes, so
a label changed in the file cannot end up over the wrong button. The images are committed beside the file
(data/richmenu/<variant>.png), so deploying needs no font; `ycc richmenu build` draws them again after a change, with
a Japanese font found on the machine (Noto Sans CJK on Debian: `apt-get install fonts-noto-cjk`) or `--font`.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from handoff.line.richmenu import RichMenuError, Variant

FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/noto/NotoSansCJK-Bold.ttc"),
    Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
)
MAX_BYTES = 1024 * 1024  # LINE takes at most 1 MB


def find_font(given: Path | None = None) -> Path:
    for path in ((given,) if given else FONTS):
        if path and path.exists():
            return path
    raise RichMenuError("no Japanese font found for the rich menu image: install fonts-noto-cjk "
                        "(apt-get install fonts-noto-cjk) or pass --font /path/to/font.ttf")


def draw(variant: Variant, font_path: Path) -> bytes:
    """One PNG of the menu's size: a coloured tile per button with its label centred, white gaps between tiles."""
    image = Image.new("RGB", (variant.width, variant.height), "#ffffff")
    pen = ImageDraw.Draw(image)
    gap = 12
    for button in variant.buttons:
        x, y, w, h = button.box
        pen.rounded_rectangle((x + gap, y + gap, x + w - gap, y + h - gap), radius=36, fill=variant.colour)
        size = 118
        while size > 40:
            font = ImageFont.truetype(str(font_path), size, index=0)
            left, _top, right, _bottom = pen.multiline_textbbox((0, 0), button.label, font=font, spacing=24)
            if right - left <= w - 6 * gap:
                break
            size -= 6
        pen.multiline_text((x + w / 2, y + h / 2), button.label, font=font, fill="#ffffff", anchor="mm",
                           align="center", spacing=24)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    data = out.getvalue()
    if len(data) > MAX_BYTES:
        raise RichMenuError(f"the {variant.key} image is {len(data)} bytes; LINE takes at most {MAX_BYTES}")
    return data
