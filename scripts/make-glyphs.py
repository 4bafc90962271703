#!/usr/bin/env python3
"""Makes the glyphs MapLibre needs to draw text (grid codes, names) from a Debian font, so that no glyph server
or CDN is needed: signed distance fields of each character at 24 px with a 3 px border, written as MapLibre's
glyph protobuf (one file per range of 256 code points) under OUT/<font name>/<start>-<end>.pbf.

    make-glyphs.py OUT [font.ttf …]      (default: DejaVu Sans from fonts-dejavu-core)

Ranges 0–255 and 256–511 (Latin, Latin-1, Latin Extended-A: Finnish, Swedish, Pinyin with tones need more).
DejaVu fonts are under a free licence (Bitstream Vera derivative; /usr/share/doc/fonts-dejavu-core/copyright)."""
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SIZE, BUFFER, RADIUS, CUTOFF = 24, 3, 8, 0.25


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field(number, wire, payload):
    return varint(number << 3 | wire) + payload


def uint(number, v):
    return field(number, 0, varint(v))


def sint(number, v):
    return field(number, 0, varint((v << 1) ^ (v >> 63)))


def blob(number, data):
    return field(number, 2, varint(len(data)) + data)


def sdf(alpha):
    """Signed distance field of an alpha bitmap (0–255), as MapLibre reads it: 255·(1 − cutoff) at the edge,
    falling by 255/radius per pixel outwards."""
    h, w = alpha.shape
    inside = alpha >= 128
    ys, xs = np.mgrid[0:h, 0:w]
    pts = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)
    ins, outs = pts[inside.ravel()], pts[~inside.ravel()]
    d = np.full(h * w, float(RADIUS))
    flat_in = inside.ravel()
    if len(ins) and len(outs):
        # Distance from each outside pixel to the nearest inside one, and the other way round.
        d_out = np.sqrt(((outs[:, None, :] - ins[None, :, :]) ** 2).sum(-1)).min(1)
        d_in = np.sqrt(((ins[:, None, :] - outs[None, :, :]) ** 2).sum(-1)).min(1)
        d[~flat_in] = d_out - 0.5
        d[flat_in] = -(d_in - 0.5)
    elif len(ins):
        d[:] = -RADIUS
    values = np.clip(np.round(255 - 255 * (d / RADIUS + CUTOFF)), 0, 255).astype(np.uint8)
    return values.tobytes()


def glyph(font, code):
    ch = chr(code)
    advance = round(font.getlength(ch))
    x0, y0, x1, y1 = font.getbbox(ch, anchor="ls")
    w, h = max(0, x1 - x0), max(0, y1 - y0)
    msg = uint(1, code)
    if w and h:
        img = Image.new("L", (w + 2 * BUFFER, h + 2 * BUFFER), 0)
        ImageDraw.Draw(img).text((BUFFER - x0, BUFFER - y0), ch, font=font, fill=255, anchor="ls")
        msg += blob(2, sdf(np.asarray(img)))
    # top: the glyph's top above the baseline, less the ascent MapLibre's layout assumes for 24 px glyphs.
    msg += uint(3, w) + uint(4, h) + sint(5, x0) + sint(6, -y0 - SIZE) + uint(7, advance)
    return msg


def main():
    out = sys.argv[1]
    fonts = sys.argv[2:] or ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"]
    for path in fonts:
        font = ImageFont.truetype(path, SIZE)
        family, style = font.getname()
        name = f"{family} {style}" if style != "Book" else family
        os.makedirs(os.path.join(out, name), exist_ok=True)
        for start in (0, 256):
            end = start + 255
            glyphs = b"".join(blob(3, glyph(font, c)) for c in range(max(start, 32), end + 1) if font.getmask(chr(c)).size != (0, 0) or chr(c) == " ")
            stack = blob(1, name.encode()) + blob(2, f"{start}-{end}".encode()) + glyphs
            with open(os.path.join(out, name, f"{start}-{end}.pbf"), "wb") as f:
                f.write(blob(1, stack))
        print(f"glyphs: {name}")


if __name__ == "__main__":
    main()
