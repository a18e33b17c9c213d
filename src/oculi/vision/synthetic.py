"""Photos the project makes itself: a product pack with a real EAN-13 on a cluttered scene.

The demo, the tests and the benchmarks need camera frames without shipping anyone's photos; these
are drawn like a wearer would see a pack held in a shop (slightly turned, slightly out of focus,
with another product nearby), so the barcode path is exercised for real.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from oculi.errors import PerceptionError
from oculi.vision.gtin import is_valid_gtin

_L_CODES = ("0001101", "0011001", "0010011", "0111101", "0100011",
            "0110001", "0101111", "0111011", "0110111", "0001011")  # fmt: skip
_PARITY = ("LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
           "LGGLLG", "LGGGLG", "LGLGLL", "LGLGGL", "LGGLGL")  # fmt: skip


@dataclass(frozen=True)
class PackSpec:
    """What is printed on a pack."""

    gtin: str
    name: str
    brand: str
    colour: tuple[int, int, int] = (200, 40, 40)


def ean13_modules(gtin: str) -> str:
    """The 95 bar modules ('1' = dark) that encode a valid EAN-13."""
    if len(gtin) != 13 or not is_valid_gtin(gtin):
        raise PerceptionError(f"{gtin!r} is not a valid EAN-13")
    digits = [int(d) for d in gtin]
    parity = _PARITY[digits[0]]
    left = ""
    for digit, kind in zip(digits[1:7], parity, strict=True):
        code = _L_CODES[digit]
        left += code if kind == "L" else _complement(code)[::-1]
    right = "".join(_complement(_L_CODES[d]) for d in digits[7:])
    return "101" + left + "01010" + right + "101"


def _complement(code: str) -> str:
    return code.translate(str.maketrans("01", "10"))


def draw_ean13(gtin: str, module_px: int = 3, bar_height: int = 90) -> Image.Image:
    """An EAN-13 symbol with quiet zones and its digits printed underneath."""
    modules = ean13_modules(gtin)
    quiet = 11 * module_px
    width = len(modules) * module_px + 2 * quiet
    font = ImageFont.load_default(size=module_px * 7)
    text_h = module_px * 9
    img = Image.new("RGB", (width, bar_height + text_h + module_px * 4), "white")
    draw = ImageDraw.Draw(img)
    for i, bit in enumerate(modules):
        if bit == "1":
            x = quiet + i * module_px
            draw.rectangle(
                [x, module_px * 2, x + module_px - 1, module_px * 2 + bar_height], "black"
            )
    spaced = f"{gtin[0]}  {gtin[1:7]}  {gtin[7:]}"
    draw.text((width / 2, bar_height + module_px * 3), spaced, fill="black", font=font, anchor="ma")
    return img


def draw_pack(spec: PackSpec, width: int = 420, height: int = 520) -> Image.Image:
    """The front of a product pack: brand, name and a barcode on a white label."""
    pack = Image.new("RGBA", (width, height), (*spec.colour, 255))
    draw = ImageDraw.Draw(pack)
    draw.rectangle([0, 0, width - 1, height - 1], outline=(30, 30, 30, 255), width=4)
    draw.text((width / 2, 40), spec.brand.upper(), fill="white", anchor="ma",
              font=ImageFont.load_default(size=44))  # fmt: skip
    draw.text((width / 2, 110), spec.name, fill="white", anchor="ma",
              font=ImageFont.load_default(size=30))  # fmt: skip
    barcode = draw_ean13(spec.gtin)
    label = Image.new("RGBA", (barcode.width + 20, barcode.height + 20), "white")
    label.paste(barcode, (10, 10))
    pack.alpha_composite(label, ((width - label.width) // 2, height - label.height - 40))
    return pack


def render_pack_photo(
    spec: PackSpec,
    *,
    size: tuple[int, int] = (1280, 720),
    centre: tuple[float, float] = (0.55, 0.5),
    rotate_deg: float = 6.0,
    blur: float = 1.0,
    seed: int = 0,
    neighbour: PackSpec | None = None,
) -> Image.Image:
    """A camera-like photo of the pack at `centre` (fractions of the frame) on a busy scene.

    `neighbour` puts a second, smaller pack near the edge, as on a shop shelf, so that reading
    the code the wearer looks at (not just any code) is tested.
    """
    rng = random.Random(seed)
    photo = _clutter(size, rng)
    if neighbour is not None:
        other = draw_pack(neighbour).resize((300, 372))
        other = other.rotate(rng.uniform(-10, 10), expand=True, resample=Image.Resampling.BICUBIC)
        photo.alpha_composite(other, (rng.randint(10, 60), rng.randint(10, size[1] - other.height)))
    pack = draw_pack(spec).rotate(rotate_deg, expand=True, resample=Image.Resampling.BICUBIC)
    x = int(centre[0] * size[0] - pack.width / 2)
    y = int(centre[1] * size[1] - pack.height / 2)
    photo.alpha_composite(pack, (x, y))
    out = photo.convert("RGB")
    if blur > 0:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    return out


def _clutter(size: tuple[int, int], rng: random.Random) -> Image.Image:
    img = Image.new("RGBA", size, (rng.randint(90, 140), rng.randint(80, 120), 70, 255))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=22)
    for _ in range(40):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randint(30, 260), rng.randint(20, 180)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)
        if rng.random() < 0.5:
            draw.rectangle([x, y, x + w, y + h], fill=colour)
        else:
            draw.ellipse([x, y, x + w, y + h], fill=colour)
    for _ in range(12):
        words = rng.choice(["SALE", "2 for 1", "NEW", "fresh today", "organic", "-20%", "aisle 4"])
        draw.text((rng.randrange(size[0]), rng.randrange(size[1])), words, fill="black", font=font)
    return img


def to_jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def render_merchant_code_photo(
    payload: str,
    *,
    size: tuple[int, int] = (1280, 720),
    centre: tuple[float, float] = (0.5, 0.5),
    rotate_deg: float = 4.0,
    blur: float = 0.8,
    seed: int = 0,
    merchant: str = "",
) -> Image.Image:
    """A counter stand with the merchant's QR code, as the wearer sees it before paying."""
    rng = random.Random(seed)
    photo = _clutter(size, rng)
    qr = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode).to_image(scale=5)
    code = Image.fromarray(np.asarray(qr)).convert("RGBA")
    stand = Image.new("RGBA", (code.width + 60, code.height + 120), "white")
    stand.paste(code, (30, 30))
    ImageDraw.Draw(stand).text(
        (stand.width / 2, code.height + 50),
        merchant or "Scan to pay",
        fill="black",
        anchor="ma",
        font=ImageFont.load_default(size=26),
    )
    stand = stand.rotate(rotate_deg, expand=True, resample=Image.Resampling.BICUBIC)
    x = int(centre[0] * size[0] - stand.width / 2)
    y = int(centre[1] * size[1] - stand.height / 2)
    photo.alpha_composite(stand, (x, y))
    out = photo.convert("RGB")
    return out.filter(ImageFilter.GaussianBlur(blur)) if blur > 0 else out
