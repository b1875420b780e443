"""The figure defaults: column-wide, readable text, a colour-blind-safe palette, severity beyond colour, alt text."""

from __future__ import annotations

import io
import re

import matplotlib
import pytest
from PIL import Image

from mlreport import plots

# Okabe & Ito (2008), "Color Universal Design", the eight colours (hex as published).
OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}


def _png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_default_figure_spans_the_report_column():
    fig, ax = plots.new_figure()
    ax.plot([0, 1, 2], [1, 3, 2])
    ax.set_xlabel("day")
    ax.set_ylabel("decisions")
    width, height = _png_size(plots.png_bytes(plots.finish(fig)))
    # The body is 1,100 px with 24 px padding each side: the column is 1,052 px at a 1280 px window.
    assert 0.9 * plots.COLUMN_PX <= width <= 1052, width
    assert height < width
    half, _ = _png_size(plots.png_bytes(plots.finish(plots.new_figure(width=4.0)[0])))
    assert 0.4 * plots.COLUMN_PX <= half <= 0.6 * plots.COLUMN_PX, half


def test_no_text_is_smaller_than_eleven_pixels_as_shown():
    assert plots.MIN_TEXT_PX >= 11  # 8 pt at 110 dpi, shown at natural size in the column
    fig, ax = plots.new_figure()
    ax.plot(range(5), range(5))
    ax.set_xticks(range(5))
    ax.set_xticklabels(list("abcde"), fontsize=5)
    ax.set_title("tiny", fontsize=6)
    ax.annotate("note", (1, 1), fontsize=4)
    ax.legend(["line"], fontsize=5)
    plots.finish(fig)
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
    assert sizes and min(sizes) >= plots.MIN_FONT_PT, sorted(sizes)[:5]
    # larger text keeps its size
    fig, ax = plots.new_figure()
    ax.set_title("big", fontsize=14)
    plots.readable(fig)
    assert ax.title.get_fontsize() == 14


def test_palette_is_okabe_ito_and_severity_has_shapes_and_hatches():
    severities = ("ok", "warning", "incident", "failed")
    assert {plots.PALETTE[s].upper() for s in (*severities, "current")} <= OKABE_ITO
    assert len({plots.PALETTE[s] for s in severities}) == 4
    assert set(plots.SERIES) <= OKABE_ITO
    assert len(set(plots.SEVERITY_MARKERS.values())) == 3 and len(set(plots.SEVERITY_HATCHES.values())) == 3
    _fig, ax = plots.new_figure()
    colours = [line.get_color().upper() for line in (ax.plot([0, 1])[0] for _ in range(3))]
    assert colours == [c.upper() for c in plots.SERIES[:3]]  # the default cycle is the palette too


def test_png_is_small_and_palette_coded():
    fig, axes = plots.new_figure(3, 1, height=7, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.plot(range(300), [((j * 37 + i) % 101) / 10 for j in range(300)])
        ax.fill_between(range(300), 2, 8, alpha=0.25)
    data = plots.png_bytes(plots.finish(fig, "three panels"))
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "P" and len(image.getcolors(256) or []) <= plots.PNG_COLOURS
    assert len(data) < 120_000, len(data)


def test_alt_text_says_what_is_shown():
    fig, ax = plots.new_figure()
    ax.plot([1, 2], [3, 4], label="approve rate")
    ax.set_xlabel("day")
    ax.set_ylabel("approve rate (%)")
    plots.finish(fig, "Approve rate per day, 3 σ limits", alt="Approve rate up 8.2 pp since 2026-02-19")
    alt = plots.figure_alt(fig)
    assert alt.startswith("Chart: Approve rate up 8.2 pp since 2026-02-19.")
    assert "Approve rate per day, 3 σ limits" in alt and "approve rate (%) against day" in alt
    assert "series: approve rate" in alt
    bare, _ = plots.new_figure()
    assert plots.figure_alt(bare) == "Chart without a title or axis labels."


@pytest.mark.parametrize("text", ["<b>x</b>", "a\n  b"])
def test_alt_text_is_one_line_and_kept_as_given(text: str):
    fig, _ = plots.new_figure()
    plots.set_alt(fig, text)
    assert plots.figure_alt(fig) == "Chart: " + re.sub(r"\s+", " ", text) + "."


def test_a_long_title_wraps_instead_of_widening_the_figure_past_the_column():
    fig, ax = plots.new_figure()
    ax.barh(["a", "b"], [1, 2])
    ax.set_title("panel title that goes on " * 8)
    title = "Segment contributions to the change in the approve rate (shift-share: mix + within); " * 2
    width, _ = _png_size(plots.png_bytes(plots.finish(fig, title)))
    assert width <= 1052, width
    assert "\n" in fig.get_suptitle() and "\n" in ax.get_title()
    assert plots.figure_alt(fig).startswith("Chart: " + " ".join(title.split()))  # alt text on one line


def _savefig_tight(fig) -> Image.Image:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=plots.DPI, bbox_inches="tight", pad_inches=0.05)
    buffer.seek(0)
    with Image.open(buffer) as image:
        return image.convert("RGB")


def _pixels(image: Image.Image) -> bytes:
    return image.tobytes()  # RGB, three bytes a pixel


@pytest.mark.parametrize("width", [8.0, 5.3, 4.0])
def test_png_is_savefigs_tight_crop_drawn_once(width: float):
    """The one-draw crop has savefig(bbox_inches="tight")'s size, and its pixels (hatch phase aside)."""
    fig, axes = plots.new_figure(1, 2, width=width, height=2.7, squeeze=False)
    axes[0, 0].plot([0, 1, 2], [3, 1, 2], label="series")
    axes[0, 0].set_ylabel("rate (%)")
    axes[0, 0].legend()
    axes[0, 1].barh(["a", "bb", "ccc"], [1.5, 2.25, 0.5])
    axes[0, 1].set_xlabel("count")
    plots.finish(fig, "Two panels, a legend and bars")
    plots.readable(fig)
    expected = _savefig_tight(fig)
    cropped = plots._tight_rgb(fig)
    assert cropped is not None and cropped.size == expected.size
    ours, theirs = _pixels(cropped), _pixels(expected)
    differ = sum(ours[i:i + 3] != theirs[i:i + 3] for i in range(0, len(theirs), 3))
    assert differ / (expected.size[0] * expected.size[1]) < 0.001, differ
    with Image.open(io.BytesIO(plots.png_bytes(fig))) as image:
        assert image.size == expected.size


def test_text_outside_the_figure_falls_back_to_savefig():
    fig, ax = plots.new_figure()
    ax.plot([0, 1], [0, 1])
    ax.text(1.3, 0.5, "a note to the right of the figure", transform=ax.transAxes)
    plots.readable(fig)
    assert plots._tight_rgb(fig) is None  # the crop cannot show what lies past the canvas
    expected = _savefig_tight(fig)
    with Image.open(io.BytesIO(plots.png_bytes(fig))) as image:
        assert image.size == expected.size and image.size[0] > fig.get_figwidth() * plots.DPI


def test_a_finished_figure_leaves_pyplot_but_keeps_the_renderer_that_measured_its_text(monkeypatch):
    """finish() closes the figure in pyplot; png_bytes then draws with the renderer tight_layout measured with.

    pyplot gives a closed figure a bare canvas; a new Agg canvas would measure every text again. The PNG is the
    same either way: a figure drawn on a fresh canvas (the old path) gives the same bytes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
    from matplotlib.font_manager import FontProperties

    def chart() -> matplotlib.figure.Figure:
        fig, ax = plots.new_figure()
        ax.plot([0, 1, 2], [1, 3, 2], label="current")
        ax.set_xlabel("day")
        ax.set_ylabel("decisions")
        ax.legend()
        return plots.finish(fig, "Decisions per day")

    fig = chart()
    assert not plt.fignum_exists(fig.number) and isinstance(fig.canvas, FigureCanvasAgg)
    measured: list[str] = []
    original = RendererAgg.get_text_width_height_descent

    def counting(
        self: RendererAgg, text: str, prop: FontProperties, ismath: bool | str
    ) -> tuple[float, float, float]:
        measured.append(text)
        return original(self, text, prop, ismath)

    monkeypatch.setattr(RendererAgg, "get_text_width_height_descent", counting)
    kept = plots.png_bytes(fig)
    assert measured == []  # every text was measured by tight_layout, on this canvas's renderer
    fresh = chart()
    FigureCanvasAgg(fresh)  # what pyplot's close left before: a canvas with no renderer yet
    assert plots.png_bytes(fresh) == kept and measured
