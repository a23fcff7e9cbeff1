"""Images in the terminal: each cell shows two pixels with '▀' (top: foreground, bottom: background).

Decoding uses Pillow when it is installed (any format it reads); otherwise a small PNG decoder built on
zlib and struct handles the common non-interlaced 8-bit greyscale/RGB/RGBA/palette PNGs. Anything else
returns None and the preview falls back to size and path.
"""

from __future__ import annotations

import struct
import zlib
from io import BytesIO

from rich.style import Style
from rich.text import Text

Pixels = list[list[tuple[int, int, int]]]  # rows of RGB


def decode_image(data: bytes, max_width: int, max_height: int) -> Pixels | None:
    """RGB pixel rows scaled to fit max_width x max_height (aspect kept), or None when not decodable."""
    try:
        from PIL import Image
    except ImportError:
        return _scale(_decode_png(data), max_width, max_height)
    try:
        with Image.open(BytesIO(data)) as image:
            image.thumbnail((max_width, max_height))
            rgb = image.convert("RGB")
            width, height = rgb.size
            data = rgb.tobytes()
    except Exception:  # noqa: BLE001 - truncated or unknown image: no preview, never a crash
        return None
    return [
        [(data[i], data[i + 1], data[i + 2]) for i in range(row * width * 3, (row + 1) * width * 3, 3)]
        for row in range(height)
    ]


def halfblock_text(pixels: Pixels) -> Text:
    """Rich Text of the pixels, two pixel rows per line."""
    text = Text()
    for top in range(0, len(pixels), 2):
        upper = pixels[top]
        lower = pixels[top + 1] if top + 1 < len(pixels) else None
        for column, (r, g, b) in enumerate(upper):
            bgcolor = None
            if lower is not None:
                br, bg, bb = lower[column]
                bgcolor = f"rgb({br},{bg},{bb})"
            style = Style(color=f"rgb({r},{g},{b})", bgcolor=bgcolor)
            text.append("▀", style=style)
        text.append("\n")
    return text


def _scale(pixels: Pixels | None, max_width: int, max_height: int) -> Pixels | None:
    """Nearest-neighbour downscale to fit the box."""
    if not pixels:
        return None
    height, width = len(pixels), len(pixels[0])
    factor = max(width / max_width, height / max_height, 1.0)
    new_width, new_height = max(1, int(width / factor)), max(1, int(height / factor))
    return [[pixels[int(y * factor)][int(x * factor)] for x in range(new_width)] for y in range(new_height)]


def _decode_png(data: bytes) -> Pixels | None:
    """Decode a non-interlaced 8-bit PNG (grey, grey+alpha, RGB, RGBA, palette) without Pillow."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    position, idat, palette = 8, bytearray(), b""
    width = height = bit_depth = color_type = interlace = 0
    try:
        while position + 8 <= len(data):
            length, kind = struct.unpack(">I4s", data[position : position + 8])
            chunk = data[position + 8 : position + 8 + length]
            position += 12 + length
            if kind == b"IHDR":
                width, height, bit_depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            elif kind == b"PLTE":
                palette = chunk
            elif kind == b"IDAT":
                idat += chunk
            elif kind == b"IEND":
                break
        if bit_depth != 8 or interlace or not width or not height or width * height > 4_000_000:
            return None
        channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
        raw = zlib.decompress(bytes(idat))
    except (KeyError, struct.error, zlib.error):
        return None
    stride = width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        if start + 1 + stride > len(raw):
            return None
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(kind, line, previous, channels)
        rows.append(line)
        previous = line
    pixels: Pixels = []
    for line in rows:
        if color_type == 2 or color_type == 6:
            pixels.append([(line[i], line[i + 1], line[i + 2]) for i in range(0, stride, channels)])
        elif color_type == 3:
            pixels.append([tuple(palette[3 * v : 3 * v + 3]) for v in line])  # type: ignore[misc]
        else:
            pixels.append([(line[i], line[i], line[i]) for i in range(0, stride, channels)])
    return pixels


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> None:
    """Undo one PNG scanline filter in place."""
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
        elif kind == 4:
            upper_left = previous[i - bpp] if i >= bpp else 0
            estimate = left + up - upper_left
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - upper_left)
            predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
            line[i] = (line[i] + predictor) & 0xFF
