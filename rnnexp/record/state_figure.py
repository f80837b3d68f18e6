"""The picture of a run's states, drawn on a figure kept from the run before
(`kept_figure`, which rnnexp.record.dynamics_plots's gradient figure uses too).

Building a figure's axes and ticks costs most of a new figure's plot, and
its text most of a draw. A sweep plots one run per point, its points mostly
alike in layout, so figures are kept by layout (number of panels, steps
shown, unit-count band); each plot sets every value-dependent property of the
kept one, and draws again only what can change from one point to the next
over kept pixels of the rest (its step labels, its legend:
rnnexp.record.backdrop). What a kept figure draws is what a new one would
(tests/test_plots.py compares the pixels).

Matplotlib's object API with the Agg canvas, never pyplot: nothing global
changes and a notebook's backend is left alone.
"""

import math
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, List, Sequence, Tuple

import numpy as np

from rnnexp.record.backdrop import PNG_OPTIONS, Backdrop

# Sized for where plots are looked at: MLflow's artifact viewer shows a PNG at
# its pixel size in a pane about 1000 px wide, so a figure is WIDTH inches at
# DPI (1000 px) and its text 10-12 pt (14-17 px).
DPI = 100
WIDTH = 10.0  # inches
FONT = 10  # points: tick labels, legends; titles a little larger
MAX_TICKS = 40  # step labels per axis; beyond this every k-th step is labelled
MAX_LINES = 8  # units drawn as lines; the heatmap shows them all
KEPT_FIGURES = 4  # layouts kept per process (a few MB of canvas each)


def new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def save(figure, path: Path) -> Path:
    figure.savefig(path, dpi=DPI, pil_kwargs=PNG_OPTIONS)
    return path


def heat_height(units: int) -> float:
    """A heatmap's height in inches: a quarter inch more per 16 units, in
    steps, so that runs of nearby sizes share a layout."""
    return min(3.0, 1.0 + 0.25 * math.ceil(units / 16))


class StateFigure:
    """A figure with, per panel, a heatmap axes (units x steps) and below it a
    line axes (one line per unit, the first MAX_LINES); the steps of the
    shown sequences sit side by side on a shared x axis of `columns` steps."""

    def __init__(self, panel_count: int, columns: int, heat: float):
        self.columns = columns
        width = WIDTH
        height = 0.5 + panel_count * (heat + 2.2)
        self.figure = new_figure(width, height)
        left, right = 0.09, 0.88  # of the figure's width; the legend sits right of the axes
        self.figure.subplots_adjust(left=left, right=right, bottom=0.25 / height, top=1 - 0.7 / height, hspace=0.5)
        ratios = [r for _ in range(panel_count) for r in (heat, 1.4)]
        axes = self.figure.subplots(len(ratios), 1, sharex=True, gridspec_kw={"height_ratios": ratios})
        self.heats, self.line_axes = list(axes[0::2]), list(axes[1::2])
        x, blank = np.arange(columns), np.full((1, columns), np.nan)
        self.images = [heat.imshow(blank, aspect="auto", cmap="RdBu_r", interpolation="nearest")
                       for heat in self.heats]
        self.lines = [axis.plot(x, np.full((columns, MAX_LINES), np.nan), marker="." if columns <= 60 else None)
                      for axis in self.line_axes]
        self.legend_key = None
        for heat, lines in zip(self.heats, self.line_axes):
            heat.set_ylabel("unit", fontsize=FONT)
            # the characters label each heatmap; the lines below it share its steps
            heat.tick_params(labelbottom=True, labelsize=FONT, length=2, pad=1)
            lines.tick_params(labelsize=FONT - 1, length=2, pad=1)
            lines.xaxis.set_visible(False)  # an invisible axis makes no ticks, the costliest part
            lines.grid(axis="y", alpha=0.3)
            # Placed by hand, the axis labels spare matplotlib measuring every tick label to place them
            heat.yaxis.set_label_coords(-0.45 / ((right - left) * width), 0.5)  # 0.45 in left: past 3-digit units
            for axis in (heat.xaxis, lines.yaxis):  # no label text: only the measuring goes
                axis.set_label_coords(0.5, 0.0)
        # what differs between two points of a layout; the step labels (heat.xaxis) and the legend are keyed
        self.title = self.figure.suptitle("", fontsize=FONT + 2)
        changing = [self.title, *self.images, *(line for lines in self.lines for line in lines)]
        changing += [heat.set_title("", loc="left", y=1.0) for heat in self.heats]  # the Text each draw sets
        for axes in (*self.heats, *self.line_axes):
            changing += [axes.yaxis, *axes.spines.values()]  # spines: over the image and lines, as drawn
        self.backdrop = Backdrop(self.figure, changing)

    def draw(self, path: Path, title: str, chars: np.ndarray,
             panels: Sequence[Tuple[str, np.ndarray]]) -> Path:
        """Draws `panels` [(label, image (units, columns))], NaN where nothing
        is drawn, under `title`, the steps labelled with `chars` (columns,)."""
        self.title.set_text(title)
        units = panels[0][1].shape[0]
        for (label, image), heat, axis, lines in zip(panels, self.heats, self.line_axes, self.lines):
            limit = float(np.nanmax(np.abs(image))) or 1.0
            picture = heat.images[0]
            picture.set_data(image)
            picture.set_extent((-0.5, self.columns - 0.5, units - 0.5, -0.5))  # imshow's own, for this shape
            picture.set_clim(-limit, limit)
            heat.set_xlim(-0.5, self.columns - 0.5)
            heat.set_ylim(units - 0.5, -0.5)
            # y=1.0: where matplotlib would put it (no ticks on top), but without measuring the axes
            heat.set_title(f"{label}: colour blue {-limit:.3g}, white 0, red {limit:.3g}", fontsize=FONT + 1,
                           loc="left", y=1.0)
            heat.set_yticks(sorted({int(u) for u in np.linspace(0, units - 1, min(units, 5))}))
            for unit, line in enumerate(lines):
                line.set_visible(unit < units)
                if unit < units:
                    line.set_ydata(image[unit])
            axis.set_ylim(-1.05 * limit, 1.05 * limit)
            axis.set_yticks([-limit, 0, limit], [f"{-limit:.2g}", "0", f"{limit:.2g}"])
        self._legend(min(units, MAX_LINES), "unit" if units <= MAX_LINES else f"first {MAX_LINES}")
        every = max(1, -(-self.columns // MAX_TICKS))
        ticks = [c for c in range(0, self.columns, every) if chars[c]]
        labels = [chars[c] for c in ticks]
        self.heats[0].set_xticks(ticks, labels)
        return self.backdrop.save(path, (tuple(ticks), tuple(labels), self.legend_key))

    def _legend(self, count: int, title: str) -> None:
        if self.legend_key == (count, title):
            return
        axis = self.line_axes[0]
        if axis.get_legend() is not None:
            axis.get_legend().remove()
        axis.legend(self.lines[0][:count], [f"{u}" for u in range(count)], loc="upper left",
                    bbox_to_anchor=(1.0, 1.05), title=title, fontsize=FONT - 1, title_fontsize=FONT - 1, frameon=False)
        self.legend_key = (count, title)


_kept: "OrderedDict[tuple, object]" = OrderedDict()  # a StateFigure, or dynamics_plots' GradientFigure
_lock = threading.Lock()  # a kept figure is drawn by one thread at a time


@contextmanager
def kept_figure(key: tuple, make: Callable[[], object]):
    """The figure kept for layout `key` (made by `make()` if new), held for
    one thread while the `with` block draws on it; beyond KEPT_FIGURES
    layouts the least recently used one is dropped."""
    with _lock:
        figure = _kept.pop(key, None) or make()
        _kept[key] = figure
        while len(_kept) > KEPT_FIGURES:
            _kept.popitem(last=False)
        yield figure


def draw_states(path: Path, title: str, chars: np.ndarray, panels: Sequence[Tuple[str, np.ndarray]]) -> Path:
    """Draws `panels` (see StateFigure.draw) on the figure kept for their layout."""
    key = (len(panels), len(chars), heat_height(panels[0][1].shape[0]))
    with kept_figure(key, lambda: StateFigure(*key)) as figure:
        return figure.draw(path, title, chars, panels)


def forget_figures() -> List[tuple]:
    """Drops the kept figures; returns the layouts that were kept."""
    with _lock:
        keys = list(_kept)
        _kept.clear()
    return keys
