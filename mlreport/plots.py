"""The one look of every mlreport figure: palette, sizes, and shared helpers.

Analysis-specific charts live beside their analysis (``drift_plots``,
``volume_plots``, ``stress_plots``) and build on :func:`new_figure` and
:data:`PALETTE`, so that every report reads the same: ok green, warning amber,
incident red, reference grey, current blue; axis labels carry units; titles
state the method and threshold.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any, Literal, overload

import matplotlib.pyplot as plt
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["PALETTE", "SEVERITY_MARKERS", "new_figure", "severity_colour", "finish", "show", "empty_axes"]

PALETTE: dict[str, str] = {
    "ok": "#1a7f37",
    "warning": "#9a6700",
    "incident": "#cf222e",
    "failed": "#6e2b8f",
    "neutral": "#57606a",
    "reference": "#8c959f",
    "current": "#0969da",
}

# Status must read without colour too: markers differ by severity.
SEVERITY_MARKERS: dict[str, str] = {"ok": "o", "warning": "^", "incident": "X"}

DPI = 90

_RC: dict[RcKeyType, float | bool] = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 8,
    "legend.frameon": False,
}


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
    """A figure in the house style (small: reports stay under a megabyte).

    Returns the figure and, as :func:`matplotlib.pyplot.subplots` does, one
    :class:`~matplotlib.axes.Axes` for a single panel or a 2-d array of them
    with ``squeeze=False``; other ``kwargs`` (``sharex``...) go to ``subplots``.
    """
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), dpi=DPI, squeeze=squeeze, **kwargs)
    for ax in fig.axes:
        ax.grid(True, alpha=0.3)
        ax.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)
    return fig, axes


def finish(fig: Figure, title: str | None = None) -> Figure:
    """Tight layout and an optional suptitle; returns the figure for display.

    The figure is closed in pyplot's registry so that notebooks display it once
    (as the cell's value) and long runs do not accumulate open figures.
    """
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig


def figure_alt(fig: Figure) -> str:
    """Alternative text for a figure: its suptitle, else its axes' titles."""
    if fig.get_suptitle():
        return fig.get_suptitle()
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    return "; ".join(titles) or "figure"


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes at the house resolution."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


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
