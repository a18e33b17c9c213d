"""Generated frames that are hard to read: turned, small or faint codes, shelf tags, pack text.

They exercise what a single zxing pass or a plain OCR call misses, for the tests and the
benchmarks, without shipping anyone's photos. Every frame is deterministic for its seed.
"""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from oculi.vision.synthetic import _clutter, draw_ean13

CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
LATIN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=16)
def label_font(size: int, cjk: bool = False) -> Font | None:
    """A bold Latin face (with €), or a CJK face; None when no CJK font is installed."""
    for name in CJK_FONTS if cjk else LATIN_FONTS:
        if Path(name).exists():
            return ImageFont.truetype(name, size)
    return None if cjk else ImageFont.load_default(size=size)


def hard_barcode_frame(
    gtin: str,
    *,
    rotate_deg: float = 0.0,
    module_px: int = 3,
    contrast: float = 1.0,
    blur: float = 0.8,
    centre: tuple[float, float] = (0.5, 0.5),
    size: tuple[int, int] = (1280, 720),
    seed: int = 0,
) -> Image.Image:
    """A 720p frame with one EAN-13 label on a busy scene.

    `contrast` 1.0 prints black on white; 0.25 prints grey on light grey, as a faded or
    glossy label under shop lights looks to a small camera.
    """
    rng = random.Random(seed)
    photo = _clutter(size, rng)
    code = draw_ean13(gtin, module_px=module_px, bar_height=max(30, module_px * 30)).convert("L")
    low = round(255 * (1 - contrast) * 0.6 + 40 * (1 - contrast))
    high = 255 - round(255 * (1 - contrast) * 0.25)
    code = code.point(lambda v: low + (high - low) * v // 255)
    pad = Image.new("L", (code.width + 8 * module_px, code.height + 8 * module_px), high)
    pad.paste(code, (4 * module_px, 4 * module_px))
    label = pad.convert("RGBA").rotate(
        rotate_deg, expand=True, resample=Image.Resampling.BICUBIC, fillcolor=(0, 0, 0, 0)
    )
    x = int(centre[0] * size[0] - label.width / 2)
    y = int(centre[1] * size[1] - label.height / 2)
    photo.alpha_composite(label, (x, y))
    out = photo.convert("RGB")
    return out.filter(ImageFilter.GaussianBlur(blur)) if blur > 0 else out


def price_tag(
    lines: list[str],
    *,
    cjk: bool = False,
    size: int = 40,
    colour: tuple[int, int, int] = (255, 235, 60),
) -> Image.Image:
    """A shelf label: lines of text in dark ink on a coloured card."""
    font = label_font(size, cjk)
    if font is None:
        raise FileNotFoundError("no CJK font installed (Debian: fonts-wqy-microhei)")
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    boxes = [probe.textbbox((0, 0), line, font=font) for line in lines]
    width = round(max(b[2] - b[0] for b in boxes)) + size
    height = round(sum(b[3] - b[1] for b in boxes)) + size * len(lines)
    tag = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(tag)
    y = size // 2
    for line, box in zip(lines, boxes, strict=True):
        draw.text((size // 2, y - box[1]), line, fill=(20, 20, 20), font=font)
        y += round(box[3] - box[1]) + size
    return tag


def text_frame(
    blocks: list[Image.Image],
    *,
    size: tuple[int, int] = (1280, 720),
    seed: int = 0,
    blur: float = 0.6,
) -> Image.Image:
    """A frame with the given labels stacked around the centre on a plain shelf background."""
    rng = random.Random(seed)
    frame = Image.new("RGB", size, (rng.randint(150, 190), rng.randint(140, 170), 120))
    total = sum(b.height for b in blocks) + 20 * (len(blocks) - 1)
    y = max((size[1] - total) // 2, 0)
    for block in blocks:
        frame.paste(block, ((size[0] - block.width) // 2 + rng.randint(-20, 20), y))
        y += block.height + 20
    return frame.filter(ImageFilter.GaussianBlur(blur)) if blur > 0 else frame


def pack_front(
    brand: str,
    name: str,
    quantity: str = "",
    *,
    colour: tuple[int, int, int] = (200, 40, 40),
    cjk: bool = False,
) -> Image.Image:
    """The front of a pack with no barcode in sight: brand large, name, size small."""
    sizes = ((brand, 46), (name, 34), (quantity, 26))
    fonts = [(text, label_font(size, cjk)) for text, size in sizes if text]
    if any(font is None for _, font in fonts):
        raise FileNotFoundError("no CJK font installed (Debian: fonts-wqy-microhei)")
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    boxes = [probe.textbbox((0, 0), text, font=font) for text, font in fonts]
    width = round(max(b[2] - b[0] for b in boxes)) + 80
    height = round(sum(b[3] - b[1] for b in boxes)) + 40 * (len(fonts) + 1)
    pack = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(pack)
    draw.rectangle([0, 0, width - 1, height - 1], outline=(30, 30, 30), width=4)
    y = 40
    for (text, font), box in zip(fonts, boxes, strict=True):
        draw.text((width / 2, y - box[1]), text, fill="white", font=font, anchor="ma")
        y += round(box[3] - box[1]) + 40
    return pack


def shelf_frame(
    blocks: list[Image.Image],
    *,
    size: tuple[int, int] = (1280, 720),
    seed: int = 0,
    blur: float = 0.8,
) -> Image.Image:
    """The given packs and tags side by side around the centre of a busy shelf scene."""
    rng = random.Random(seed)
    photo = _clutter(size, rng)
    total = sum(b.width for b in blocks) + 30 * (len(blocks) - 1)
    x = max((size[0] - total) // 2, 0)
    for block in blocks:
        y = (size[1] - block.height) // 2 + rng.randint(-20, 20)
        photo.alpha_composite(block.convert("RGBA"), (x, max(y, 0)))
        x += block.width + 30
    out = photo.convert("RGB")
    return out.filter(ImageFilter.GaussianBlur(blur)) if blur > 0 else out
