"""Draw the integration's brand images: custom_components/one_nce/brand/*.png.

Home Assistant 2026.3 and later show the images in a custom integration's
`brand/` folder (icons on integration cards, the logo on the integration's
page); older releases show a placeholder. The design is our own, not 1NCE's
logo: the icon is a SIM card with a chip, the logo the same card beside a
text-message bubble. Each comes in a light variant and a `dark_` one for
dark themes, at 1x and `@2x`:

    icon.png       256 x 256     icon@2x.png       512 x 512
    logo.png       512 x 256     logo@2x.png      1024 x 512
    dark_icon.png, dark_icon@2x.png, dark_logo.png, dark_logo@2x.png alike

(the sizes of Home Assistant's brands repository: icons square, 256 and 512;
logos landscape, shortest side 128 to 256 and, at @2x, 256 to 512.)

    python3 scripts/make_brand.py    # rewrites all eight files (about a minute)

Only the standard library is used (the PNG is written with zlib), so this
runs with any Python 3.13+, and the same code always gives the same bytes.
Shapes are signed distance functions; a pixel's coverage is its distance to
the edge clamped to one pixel, which anti-aliases the edges without
supersampling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import math
from pathlib import Path
import struct
import zlib

BRAND = Path(__file__).resolve().parent.parent / "custom_components/one_nce/brand"

type RGB = tuple[int, int, int]
type Pixel = Callable[[float, float], tuple[float, float, float, float]]


@dataclass(frozen=True)
class Palette:
    """The colours of one variant."""

    card: RGB
    chip: RGB
    bubble: RGB
    dots: RGB


# Light themes: a teal card with a near-white chip, a slate bubble.
LIGHT = Palette(
    card=(15, 140, 126), chip=(245, 247, 250), bubble=(52, 64, 76), dots=(245, 247, 250)
)
# Dark themes: a brighter teal and a light bubble, details cut in dark grey.
DARK = Palette(
    card=(56, 196, 178), chip=(28, 32, 36), bubble=(232, 236, 240), dots=(28, 32, 36)
)


def _rounded_box(
    px: float, py: float, box: tuple[float, float, float, float], radius: float
) -> float:
    """Distance from a point to a rounded rectangle (negative inside)."""
    left, top, right, bottom = box
    cx, cy = (left + right) / 2, (top + bottom) / 2
    hx, hy = (right - left) / 2 - radius, (bottom - top) / 2 - radius
    qx, qy = abs(px - cx) - hx, abs(py - cy) - hy
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - radius


def _triangle(
    px: float,
    py: float,
    corners: tuple[tuple[float, float], tuple[float, float], tuple[float, float]],
) -> float:
    """Distance from a point to a triangle (negative inside)."""
    nearest = math.inf
    inside = True
    for (ax, ay), (bx, by) in zip(corners, (*corners[1:], corners[0]), strict=True):
        ex, ey = bx - ax, by - ay
        vx, vy = px - ax, py - ay
        t = min(max((vx * ex + vy * ey) / (ex * ex + ey * ey), 0.0), 1.0)
        nearest = min(nearest, math.hypot(vx - ex * t, vy - ey * t))
        # Clockwise corners on screen (y down): inside is right of every edge.
        inside = inside and ex * vy - ey * vx >= 0
    return -nearest if inside else nearest


def _card(px: float, py: float, size: float) -> float:
    """Measure to the SIM card: a rounded portrait rectangle, top right cut off."""
    left, top, right, bottom = 0.1 * size, 0.02 * size, 0.9 * size, 0.98 * size
    body = _rounded_box(px, py, (left, top, right, bottom), 0.07 * size)
    # The cut: a 45-degree line from `corner` left of the top right corner to
    # `corner` below it; the distance is positive beyond it.
    corner = 0.26 * size
    cut = (px - py - (right - corner - top)) / math.sqrt(2)
    return max(body, cut)


def _chip(px: float, py: float, size: float) -> float:
    """Measure to the chip: a rounded rectangle in the card's lower half."""
    box = (0.28 * size, 0.44 * size, 0.72 * size, 0.8 * size)
    return _rounded_box(px, py, box, 0.06 * size)


def _contacts(px: float, py: float, size: float) -> float:
    """Measure to the lines between the chip's contacts: one across, two down."""
    half = 0.014 * size
    across = abs(py - 0.62 * size) - half
    down = min(abs(px - 0.42 * size), abs(px - 0.58 * size)) - half
    return min(across, down)


def _coverage(distance: float) -> float:
    """How much of a pixel a shape covers, from its distance to the edge."""
    return min(max(0.5 - distance, 0.0), 1.0)


def _mix(base: RGB, top: RGB, amount: float) -> tuple[float, float, float]:
    r, g, b = (c * (1 - amount) + t * amount for c, t in zip(base, top, strict=True))
    return r, g, b


def _sim(
    px: float, py: float, size: float, palette: Palette
) -> tuple[float, float, float, float]:
    """Paint the SIM card in a `size` square: colour, and the share of the pixel."""
    card = _coverage(_card(px, py, size))
    chip = _coverage(_chip(px, py, size)) * (1.0 - _coverage(_contacts(px, py, size)))
    r, g, b = _mix(palette.card, palette.chip, chip)
    return r, g, b, card


def icon(size: int, palette: Palette) -> Pixel:
    """Draw the icon: the SIM card filling a square."""

    def pixel(px: float, py: float) -> tuple[float, float, float, float]:
        return _sim(px, py, size, palette)

    return pixel


def logo(height: int, palette: Palette) -> Pixel:
    """Draw the logo, twice as wide as high: the SIM card, then a message bubble."""
    h = float(height)
    # The card's square starts a little left of the image: its own margin.
    shift = 0.08 * h
    bubble_box = (0.94 * h, 0.1 * h, 1.98 * h, 0.64 * h)
    tail = ((1.04 * h, 0.56 * h), (1.3 * h, 0.56 * h), (0.98 * h, 0.86 * h))
    dot_y, dot_r = 0.37 * h, 0.062 * h
    dot_xs = tuple(1.46 * h + step * 0.24 * h for step in (-1, 0, 1))

    def pixel(px: float, py: float) -> tuple[float, float, float, float]:
        if px < 0.9 * h:
            return _sim(px + shift, py, h, palette)
        body = min(_rounded_box(px, py, bubble_box, 0.12 * h), _triangle(px, py, tail))
        dots = min(math.hypot(px - x, py - dot_y) - dot_r for x in dot_xs)
        r, g, b = _mix(palette.bubble, palette.dots, _coverage(dots))
        return r, g, b, _coverage(body)

    return pixel


def render(width: int, height: int, pixel: Pixel) -> bytes:
    """Return the image as RGBA rows, each behind PNG's filter byte 0."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            r, g, b, a = pixel(x + 0.5, y + 0.5)
            rows.extend((round(r), round(g), round(b), round(255 * a)))
    return bytes(rows)


def png(width: int, height: int, pixel: Pixel) -> bytes:
    """Encode an image as an 8-bit RGBA PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(render(width, height, pixel), 9))
        + chunk(b"IEND", b"")
    )


def images() -> dict[str, tuple[int, int, Pixel]]:
    """Every file: its name, width, height and what it shows."""
    result: dict[str, tuple[int, int, Pixel]] = {}
    for prefix, palette in (("", LIGHT), ("dark_", DARK)):
        for suffix, scale in (("", 1), ("@2x", 2)):
            side = 256 * scale
            result[f"{prefix}icon{suffix}.png"] = (side, side, icon(side, palette))
            result[f"{prefix}logo{suffix}.png"] = (2 * side, side, logo(side, palette))
    return result


def main() -> None:
    """Write all eight files."""
    BRAND.mkdir(parents=True, exist_ok=True)
    for name, (width, height, pixel) in images().items():
        (BRAND / name).write_bytes(png(width, height, pixel))
        print(
            f"wrote {(BRAND / name).relative_to(BRAND.parent.parent.parent)} ({width} x {height})"
        )


if __name__ == "__main__":
    main()
