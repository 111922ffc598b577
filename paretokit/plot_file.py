"""Writing a figure to its file, small enough to commit: PNG as a palette image.

A figure of lines and markers on white has a few colours plus the anti-aliased shades between
them; matplotlib writes it as 8-bit RGBA (4 bytes a pixel, ~9,000 distinct colours in the
toy's paths figure). :func:`save_figure` renders the PNG at the requested dpi as matplotlib
does, lays it on white (the figure's own background, so nothing changes), and stores it with a
palette of the 256 colours that median-cut quantization (Heckbert 1982, Pillow's
``Image.quantize``) picks for it, without dithering, PNG-optimized: about a third of the bytes
(the toy study's figure: 517 KB → 183 KB) for a mean change of 0.1 of 255 per pixel and channel.
SVG and PDF are written by matplotlib unchanged.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from matplotlib.figure import Figure

PALETTE_COLOURS = 256


def save_figure(fig: Figure, out: str | Path, dpi: int) -> Path:
    """Write ``fig`` to ``out`` (format from the extension; PNG as a palette image, see the
    module docstring), through a temporary file in the same folder then a rename."""
    from PIL import Image  # matplotlib's own dependency, imported only when a PNG is written

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        if out.suffix.lower() != ".png":
            fig.savefig(tmp, dpi=dpi, format=out.suffix.lower().lstrip("."))
        else:
            buffer = io.BytesIO()
            fig.savefig(buffer, dpi=dpi, format="png")
            rgba = Image.open(buffer).convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            palette = flat.quantize(
                PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
            )
            palette.save(tmp, format="png", optimize=True, dpi=(dpi, dpi))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
