"""Draw the integration's brand icon: custom_components/one_nce/brand/icon*.png.

Home Assistant (2026.x and later) shows the images in a custom integration's
`brand/` folder on its integration cards; without them it shows a placeholder.
The design is our own, not 1NCE's logo: a SIM card with a chip, in teal, on a
transparent background.

    python3 scripts/make_brand.py    # rewrites both files

Only the standard library is used (the PNG is written with zlib), so this
runs with any Python 3.13+, and the same code always gives the same bytes.
Shapes are signed distance functions; a pixel's coverage is its distance to
the edge clamped to one pixel, which anti-aliases the edges without
supersampling.
"""

from __future__ import annotations

import math
from pathlib import Path
import struct
import zlib

BRAND = Path(__file__).resolve().parent.parent / "custom_components/one_nce/brand"
# Home Assistant's brand images: icon.png 256 x 256, icon@2x.png 512 x 512.
SIZES = {"icon.png": 256, "icon@2x.png": 512}

CARD = (15, 140, 126)  # teal
CHIP = (245, 247, 250)  # near-white


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


def render(size: int) -> bytes:
    """Return the icon as RGBA rows, each behind PNG's filter byte 0."""
    rows = bytearray()
    for y in range(size):
        rows.append(0)
        for x in range(size):
            px, py = x + 0.5, y + 0.5
            card = _coverage(_card(px, py, size))
            chip = _coverage(_chip(px, py, size)) * (
                1.0 - _coverage(_contacts(px, py, size))
            )
            rgb = (
                round(c * (1 - chip) + w * chip)
                for c, w in zip(CARD, CHIP, strict=True)
            )
            rows.extend((*rgb, round(255 * card)))
    return bytes(rows)


def png(size: int) -> bytes:
    """Encode the icon as an 8-bit RGBA PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(render(size), 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    """Write both sizes."""
    BRAND.mkdir(parents=True, exist_ok=True)
    for name, size in SIZES.items():
        (BRAND / name).write_bytes(png(size))
        print(
            f"wrote {(BRAND / name).relative_to(BRAND.parent.parent.parent)} ({size} x {size})"
        )


if __name__ == "__main__":
    main()
