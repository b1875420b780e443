"""The one look of every mlreport figure: palette, sizes, and shared helpers.

Analysis-specific charts live beside their analysis (``drift_plots``,
``volume_plots``, ``stress_plots``) and build on :func:`new_figure` and
:data:`PALETTE`, so that every report reads the same: ok bluish green,
warning orange, incident vermillion, reference grey, current blue (the
Okabe-Ito palette, told apart with every common colour-vision deficiency);
severity is also a marker shape (:data:`SEVERITY_MARKERS`) or a hatch
(:data:`SEVERITY_HATCHES`), never colour alone; axis labels carry units;
titles state the method and threshold.

Sizes are for the report column: ``width=8.0`` (the default) is the whole
column, about 1,050 px at a 1280 px window, shown at its natural size, and no
text is smaller than :data:`MIN_FONT_PT` (:data:`MIN_TEXT_PX` px as shown).
"""

from __future__ import annotations

import base64
import io
import textwrap
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, overload

import matplotlib.pyplot as plt
import numpy.typing as npt
from cycler import cycler
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.text import Text

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType
    from PIL import Image

__all__ = [
    "PALETTE", "SERIES", "SEVERITY_MARKERS", "SEVERITY_HATCHES", "new_figure", "severity_colour", "finish", "show",
    "empty_axes", "set_alt", "figure_alt", "png_bytes", "readable", "DPI", "COLUMN_PX", "MIN_FONT_PT", "MIN_TEXT_PX",
    "PNG_COLOURS",
]

# Okabe & Ito (2008), "Color Universal Design": distinct for protan, deutan and tritan vision.
PALETTE: dict[str, str] = {
    "ok": "#009E73",  # bluish green
    "warning": "#E69F00",  # orange
    "incident": "#D55E00",  # vermillion
    "failed": "#CC79A7",  # reddish purple
    "neutral": "#57606a",  # dark grey: text and guide lines
    "reference": "#999999",  # grey
    "current": "#0072B2",  # blue
}

#: Colours for series with no meaning beyond "another one" (features, segments): Okabe-Ito, the colours
#: that do not also mean a severity first, so a second line is not read as a warning.
SERIES: tuple[str, ...] = ("#0072B2", "#56B4E9", "#000000", "#CC79A7", "#009E73", "#E69F00", "#D55E00", "#F0E442")

# Status must read without colour too: markers (points) and hatches (bars and areas) differ by severity.
SEVERITY_MARKERS: dict[str, str] = {"ok": "o", "warning": "^", "incident": "X"}
SEVERITY_HATCHES: dict[str, str] = {"ok": "", "warning": "//", "incident": "xx"}

#: The report's content column at a 1280 px window (1,100 px body less its padding).
COLUMN_PX = 1050
#: A figure of the default width (8.0, "design inches") spans the column: figure sizes are scaled by
#: COLUMN_INCHES / 8.0, and fonts, in points, are not, so text keeps its size as the figure grows.
DPI = 110
COLUMN_INCHES = COLUMN_PX / DPI
_DESIGN_WIDTH = 8.0
_SCALE = COLUMN_INCHES / _DESIGN_WIDTH
#: Smallest text in a figure, in points: 8 pt at 110 dpi is 12.2 px on screen at natural size.
MIN_FONT_PT = 8.0
MIN_TEXT_PX = MIN_FONT_PT * DPI / 72
#: Colours kept in an embedded PNG (see :func:`png_bytes`).
PNG_COLOURS = 128
# zlib level of the embedded PNGs: 6 (zlib's default) took a fifth of the time of 9 (or PIL's
# optimize=True, the same) on the drift report's seven figures (10-15 KiB each), 17 ms against 94,
# for 11% more bytes. A PNG over _PNG_RECOMPRESS bytes at level 6 (dense, noisy charts) is
# compressed again at 9, where the bytes are worth the time.
_PNG_LEVEL = 6
_PNG_RECOMPRESS = 32_768
# White space kept around a figure's tight bounding box, in inches.
_PAD_INCHES = 0.05

_RC: dict[RcKeyType, Any] = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.prop_cycle": cycler(color=list(SERIES)),
}

# Alternative text set by the code that drew a figure (what it shows, in words), keyed weakly by figure.
_ALT: weakref.WeakKeyDictionary[Figure, str] = weakref.WeakKeyDictionary()


def severity_colour(severity: str) -> str:
    """Colour of a severity or status; neutral grey for anything else."""
    return PALETTE.get(severity, PALETTE["neutral"])


# A grid of axes is an object array; numpy's types cannot say its items are Axes, so they read as Any.
@overload
def new_figure(
    nrows: int = 1,
    ncols: int = 1,
    *,
    width: float = 8.0,
    height: float = 3.0,
    squeeze: Literal[False],
    **kwargs: Any,
) -> tuple[Figure, npt.NDArray[Any]]: ...


@overload
def new_figure(
    *, width: float = 8.0, height: float = 3.0, squeeze: Literal[True] = True, **kwargs: Any
) -> tuple[Figure, Axes]: ...


@overload
def new_figure(
    nrows: int = 1,
    ncols: int = 1,
    *,
    width: float = 8.0,
    height: float = 3.0,
    squeeze: bool = True,
    **kwargs: Any,
) -> tuple[Figure, Axes | npt.NDArray[Any]]: ...


def new_figure(
    nrows: int = 1,
    ncols: int = 1,
    *,
    width: float = 8.0,
    height: float = 3.0,
    squeeze: bool = True,
    **kwargs: Any,
) -> tuple[Figure, Axes | npt.NDArray[Any]]:
    """A figure in the house style, sized for the report column.

    ``width`` and ``height`` are in design inches: 8.0 wide is the whole
    report column (:data:`COLUMN_PX`), 4.0 half of it; both scale together so
    a figure keeps its shape. Returns the figure and, as
    :func:`matplotlib.pyplot.subplots` does, one
    :class:`~matplotlib.axes.Axes` for a single panel or a 2-d array of them
    with ``squeeze=False``; other ``kwargs`` (``sharex``...) go to ``subplots``.
    """
    size = (width * _SCALE, height * _SCALE)
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(nrows, ncols, figsize=size, dpi=DPI, squeeze=squeeze, **kwargs)
    for ax in fig.axes:
        ax.grid(True, alpha=0.3)
        ax.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)
    return fig, axes


def readable(fig: Figure, minimum: float = MIN_FONT_PT) -> Figure:
    """Raise every text of ``fig`` (titles, labels, tick labels, legends, annotations) to ``minimum`` points.

    Tick labels are made when drawn, so the axes' tick settings are raised
    too; larger text keeps its size. Returns the figure.
    """
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for which in ("major", "minor"):
                # The axis' first tick carries the label size every tick is made with: reading it does not
                # run the tick locator (get_major_ticks did, for every axis, twice per figure).
                ticks = axis.majorTicks if which == "major" else axis.minorTicks
                size = ticks[0].label1.get_fontsize()
                if isinstance(size, (int, float)) and size < minimum:
                    axis.set_tick_params(which=which, labelsize=minimum)
    for text in _texts(fig):
        size = text.get_fontsize()
        if isinstance(size, (int, float)) and size < minimum:
            text.set_fontsize(minimum)
    return fig


def _texts(artist: Artist) -> Iterator[Text]:
    """Every text under ``artist``: what ``findobj(Text)`` finds, without making an axis' ticks.

    ``findobj`` reads an axis' children, which makes a tick (five artists) for
    every location its locator gives: the first pass over a figure made all
    its ticks, and every pass walked them. An axis gives its label, its
    offset text and the labels of the ticks it has made so far; a tick made
    later copies the first tick's label, whose size :func:`readable` sets
    through the tick parameters.
    """
    for child in artist.get_children():
        if isinstance(child, Axis):
            yield child.label
            yield child.offsetText
            for tick in [*child.majorTicks, *child.minorTicks]:
                yield tick.label1
                yield tick.label2
            continue
        if isinstance(child, Text):
            yield child
        yield from _texts(child)


def _fill(text: Text, width_pt: float) -> None:
    """Wrap ``text`` onto lines that fit ``width_pt`` (about 0.6 em per character), keeping its own line breaks."""
    size = text.get_fontsize()
    if not isinstance(size, (int, float)) or not text.get_text():
        return
    chars = max(20, int(width_pt / (0.6 * size)))
    lines = text.get_text().split("\n")
    if max(len(line) for line in lines) > chars:
        text.set_text("\n".join(textwrap.fill(line, chars) for line in lines))


def _wrap_titles(fig: Figure) -> None:
    """Titles wrap to the figure's width (suptitle) or their panel's (axes titles).

    A title wider than its figure would widen the saved PNG past the column,
    and the browser would shrink all its text to fit.
    """
    suptitle = fig.get_suptitle()
    for text in _texts(fig) if suptitle else ():
        if text.axes is None and text.get_text() == suptitle:
            _fill(text, fig.get_figwidth() * 72)
    for ax in fig.axes:
        _fill(ax.title, ax.get_position().width * fig.get_figwidth() * 72)


def finish(fig: Figure, title: str | None = None, *, alt: str | None = None) -> Figure:
    """Readable text, tight layout and an optional suptitle; returns the figure for display.

    ``alt`` says in words what the figure shows (see :func:`set_alt`). The
    figure is closed in pyplot's registry so that notebooks display it once
    (as the cell's value) and long runs do not accumulate open figures.
    """
    if title:
        fig.suptitle(title, fontsize=11)
    if alt:
        set_alt(fig, alt)
    readable(fig)
    _wrap_titles(fig)
    fig.tight_layout()
    _close(fig)
    return fig


def _close(fig: Figure) -> None:
    """Close ``fig`` in pyplot's registry, keeping its canvas.

    pyplot swaps a closed figure's canvas for a bare ``FigureCanvasBase``;
    the Agg canvas kept holds the renderer that laid the figure out and
    its cache of every text's measured size, which :func:`png_bytes` would
    otherwise measure again with a new one (each text's layout is about a
    millisecond: a fifth of drawing a chart).
    """
    canvas = fig.canvas
    plt.close(fig)
    if fig.canvas is not canvas:
        fig.set_canvas(canvas)


def set_alt(fig: Figure, text: str) -> Figure:
    """Record the alternative text of ``fig``: what it shows and what it found, in words."""
    _ALT[fig] = " ".join(text.split())
    return fig


def _axis_words(ax: Axes) -> str:
    x, y = ax.get_xlabel().strip(), ax.get_ylabel().strip()
    parts = [f"{y} against {x}" if x and y else (y or x)]
    _handles, labels = ax.get_legend_handles_labels()
    shown = [label for label in labels if label and not label.startswith("_")]
    if shown:
        parts.append("series: " + ", ".join(dict.fromkeys(shown)))
    return "; ".join(p for p in parts if p)


def figure_alt(fig: Figure) -> str:
    """Alternative text for a figure: what it shows, in words.

    The text its code recorded (:func:`set_alt`, ``finish(alt=...)``) comes
    first; then the titles (which state the finding, method and threshold)
    and, per panel, what is plotted against what and the series. Never a bare
    "figure": an untitled, unlabelled chart says "chart without a title".
    """
    parts: list[str] = []
    recorded = _ALT.get(fig)
    if recorded:
        parts.append(recorded)
    if fig.get_suptitle():
        parts.append(" ".join(fig.get_suptitle().split()))
    panels = []
    for ax in fig.axes:
        title = " ".join(ax.get_title().split())
        words = _axis_words(ax)
        if title or words:
            panels.append(f"{title} ({words})" if title and words else title or words)
    shown = list(dict.fromkeys(panels))
    if len(shown) > 8:
        shown = [*shown[:8], f"and {len(shown) - 8} more panels"]
    parts.extend(shown)
    text = ". ".join(p.rstrip(".") for p in parts if p)
    return (f"Chart: {text}." if text else "Chart without a title or axis labels.")[:1500]


def _tight_rgb(fig: Figure) -> Image.Image | None:
    """The figure drawn once and cropped to its tight bounding box (0.05 in padding), as RGB.

    What ``savefig(bbox_inches="tight", pad_inches=0.05)`` writes, without its
    second pass: savefig lays the figure out once to find the box and draws it
    again shifted into it; this draws once and crops the box out of the
    canvas, same size in pixels, the drawing at most half a pixel off. None when
    the box reaches past the canvas (text outside the figure), where only a
    redraw shows it, or when the figure is not at the house resolution.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    if fig.dpi != DPI:
        return None
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.get_tightbbox(renderer)
    if box is None:
        return None
    box = box.padded(_PAD_INCHES)
    width, height = canvas.get_width_height(physical=True)
    x0, y0 = box.x0 * DPI, box.y0 * DPI
    # savefig's canvas: the box's size truncated to whole pixels (up within 1e-8, as
    # FigureCanvasBase.get_width_height), the drawing shifted by (-x0, -y0).
    w, h = int(box.width * DPI + 1e-8), int(box.height * DPI + 1e-8)
    left, top = round(x0), round(height - y0 - h)
    if left < 0 or top < 0 or left + w > width or top + h > height or w < 1 or h < 1:
        return None
    rgba = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    return rgba.crop((left, top, left + w, top + h)).convert("RGB")


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes at the house resolution, no text under :data:`MIN_FONT_PT`.

    Charts use a few flat colours and their anti-aliased edges, so the PNG is
    stored with a palette of at most :data:`PNG_COLOURS` colours: about a
    quarter of the bytes of full colour, with no visible change, which keeps a
    report of column-wide figures under a megabyte (zlib level 6, or 9 for a
    PNG over 32 KiB: on small charts 9 saved a tenth of the bytes for five
    times the time). The figure is drawn once
    and cropped to its tight box (:func:`_tight_rgb`); ``savefig`` with
    ``bbox_inches="tight"`` drew it twice and PNG-encoded it only for PIL to decode.
    """
    from PIL import Image

    readable(fig)
    image = _tight_rgb(fig)
    if image is None:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", pad_inches=_PAD_INCHES)
        buffer.seek(0)
        with Image.open(buffer) as saved:
            image = saved.convert("RGB")
    plt.close(fig)
    flat = image.quantize(colors=PNG_COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    packed = io.BytesIO()
    flat.save(packed, format="png", compress_level=_PNG_LEVEL)
    if packed.tell() > _PNG_RECOMPRESS:
        packed = io.BytesIO()
        flat.save(packed, format="png", compress_level=9)
    return packed.getvalue()


def show(fig: Figure, alt: str | None = None) -> None:
    """Display a figure as an embedded PNG with alternative text.

    Used instead of relying on the inline backend so that every report embeds
    the same small PNG and the HTML template can write ``alt`` on the image.
    """
    from IPython.display import display

    text = alt or figure_alt(fig)
    data = base64.b64encode(png_bytes(fig)).decode("ascii")
    display(
        {"image/png": data, "text/plain": text},
        raw=True,
        metadata={"image/png": {"alt": text}},
    )


def empty_axes(ax: Axes, text: str) -> None:
    """An axes with nothing to draw: no ticks, and ``text`` saying why, in the neutral colour."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes,
            color=PALETTE["neutral"])
    ax.set_xticks([])
    ax.set_yticks([])
