"""Pictures of the recurrence as a dynamical system: the gradient flow
through time (a run's `plots/gradients.png`, a sweep's `sweep_gradients.png`
with every point's curve) and a trained cell's fixed points among its
trajectories (`plots/fixed_points.png`). Norms span decades, so they are
drawn as log10 on a linear axis labelled per decade (a log-scale axis spends
most of a figure's time on its minor ticks). Plain values in, PNG files out.
"""

from pathlib import Path
from typing import List, Mapping, Sequence

import numpy as np

from rnnexp.core.dynamics.flow import GRAD_NORM  # noqa: F401  the metric the sweep's figure reads
from rnnexp.record.backdrop import Backdrop
from rnnexp.record.state_figure import FONT, WIDTH, kept_figure, new_figure, save

FLOOR = 1e-30  # a norm of exactly 0 is drawn here
MAX_CURVES = 8  # per-sequence curves a run's figure draws besides the mean


def decade_axis(axes, logs: np.ndarray, label: str) -> None:
    """Labels `axes`' y axis per decade of the log10 values drawn on it
    (about 8 labels), its x axis as k."""
    finite = logs[np.isfinite(logs)]
    low, high = (int(np.floor(finite.min())), int(np.ceil(finite.max()))) if finite.size else (-1, 1)
    high = max(high, low + 1)
    step = max(1, -(-(high - low) // 8))
    ticks = list(range(low, high + 1, step))
    axes.set_yticks(ticks, [f"1e{k}" for k in ticks], fontsize=FONT)
    axes.set_ylim(low - 0.2, high + 0.2)
    axes.set_ylabel(label, fontsize=FONT)
    axes.set_xlabel("k, steps back from the last", fontsize=FONT)
    axes.xaxis.get_major_locator().set_params(integer=True)  # k counts steps
    axes.tick_params(labelsize=FONT)
    axes.grid(alpha=0.3)


def _logs(values) -> np.ndarray:
    return np.log10(np.maximum(np.asarray(values, float), FLOOR))


NORM_LABEL = "||ds_T/ds_(T-k)||_F"


class GradientFigure:
    """The figure of a run's `gradients.png`, kept across a sweep's points
    (rnnexp.record.state_figure.kept_figure): its axes, lines and legend are
    made once, each plot sets every value-dependent property of them, and
    its x axis (k) and legend are drawn again only when k's limits change
    (rnnexp.record.backdrop)."""

    def __init__(self):
        self.figure = new_figure(width=WIDTH, height=4.5)
        self.axes = axes = self.figure.subplots()
        self.curves = [axes.plot([], [], color="0.6", linewidth=0.8)[0] for _ in range(MAX_CURVES)]
        (self.mean,) = axes.plot([], [], "o-", color="tab:blue", label="mean over sequences", markersize=3)
        axes.plot([], [], color="0.6", linewidth=0.8, label="one sequence")
        # right of the axes, where no curve goes: the same at every point, drawn once (rnnexp.record.backdrop)
        axes.legend(fontsize=FONT - 1, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        left, right = 0.1, 0.8
        self.figure.subplots_adjust(left=left, right=right, bottom=0.13, top=0.9)
        # placed by hand, the title and the y label spare matplotlib measuring the tick labels to place them
        self.title = axes.set_title("", fontsize=FONT + 2, y=1.0)
        axes.yaxis.set_label_coords(-0.6 / ((right - left) * WIDTH), 0.5)  # 0.6 in left: past "1e-30"
        self.backdrop = Backdrop(self.figure, [*self.curves, self.mean, self.title, axes.yaxis,
                                               *axes.spines.values()])

    def draw(self, path: Path, grad_norm: Sequence[float], norms: np.ndarray, title: str) -> Path:
        k = np.arange(1, len(grad_norm) + 1)
        rows = np.asarray(norms)[:MAX_CURVES]
        for index, curve in enumerate(self.curves):  # the unused ones empty: nothing drawn, no limits moved
            curve.set_data((k, _logs(rows[index])) if index < len(rows) else ([], []))
        mean = _logs(grad_norm)
        self.mean.set_data(k, mean)
        self.axes.relim()
        self.axes.autoscale_view()
        decade_axis(self.axes, np.concatenate([mean, _logs(rows).ravel()]), NORM_LABEL)
        self.title.set_text(f"gradient flow through time: {title}")
        return self.backdrop.save(path, self.axes.get_xlim())


def write_gradient_plot(folder: Path, grad_norm: Sequence[float], norms: np.ndarray, title: str) -> Path:
    """`gradients.png` in `folder`: the mean norm against k, and thin lines
    for the first MAX_CURVES sequences.

    Args:
        grad_norm: (T,) [k-1], the mean over sequences of ||ds_T/ds_(T-k)||_F.
        norms: (B, T) per sequence, NaN where k exceeds its length.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with kept_figure(("gradients",), GradientFigure) as figure:
        return figure.draw(folder / "gradients.png", grad_norm, norms, title)


def sweep_gradient_figure(path: Path, curves: Mapping[str, Sequence[float]]) -> Path:
    """Every sweep point's mean gradient norm against k on one figure.

    Args:
        curves: a point's name -> its dynamics.grad_norm values for k = 1, 2, ...
            A point is labelled with its name's swept values ("lstm" of "lstm (rnn=lstm)").
    """
    figure = new_figure(width=WIDTH, height=5.0)
    axes = figure.subplots()
    logs: List[np.ndarray] = []
    for index, (name, values) in enumerate(curves.items()):
        line = _logs(values)
        logs.append(line)
        axes.plot(np.arange(1, len(line) + 1), line, "o-", markersize=3, color=f"C{index % 10}",
                  label=name.split(" (")[0][:24])
    decade_axis(axes, np.concatenate(logs) if logs else np.zeros(0), f"mean {NORM_LABEL}")
    axes.set_title(f"gradient flow through time, {len(curves)} sweep points", fontsize=FONT + 2)
    if curves:
        axes.legend(fontsize=FONT - 1, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    figure.subplots_adjust(left=0.1, right=0.8, bottom=0.12, top=0.92)
    return save(figure, path)


def principal_axes(states: np.ndarray, count: int = 2):
    """(mean (S,), axes (count, S)): the visited states' first principal
    components (zero rows where the states have fewer dimensions)."""
    mean = states.mean(axis=0)
    _, _, rows = np.linalg.svd(states - mean, full_matrices=False)
    axes = np.zeros((count, states.shape[1]))
    axes[:min(count, len(rows))] = rows[:count]
    return mean, axes


def write_fixed_point_plot(folder: Path, trajectories: Sequence[np.ndarray], texts: Sequence[str],
                           points: Sequence[Mapping], title: str) -> Path:
    """`fixed_points.png` in `folder`: the training sequences' trajectories in
    the first two principal components of the states they visit, with the
    fixed points marked per token (filled: stable, hollow: unstable).

    Args:
        trajectories: per sequence its states s_0..s_T, (T + 1, S) each.
        texts: the sequences' inputs, for the legend.
        points: as in dynamics/fixed_points.json: token, state, stable.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mean, axes_pc = principal_axes(np.concatenate(list(trajectories)))
    figure = new_figure(width=WIDTH, height=6.0)
    axes = figure.subplots()
    for index, (path, text) in enumerate(zip(list(trajectories)[:MAX_CURVES], texts)):
        xy = (path - mean) @ axes_pc.T
        axes.plot(xy[:, 0], xy[:, 1], "-", color="0.4", linewidth=1, zorder=3)
        axes.plot(xy[:, 0], xy[:, 1], "^", color=f"C{index % 10}", markersize=6, zorder=4,
                  label=f"trajectory {text[:16]!r}")
        axes.plot(xy[:1, 0], xy[:1, 1], "s", color="k", markersize=6, zorder=5)
    tokens = list(dict.fromkeys(point["token"] for point in points))
    for index, token in enumerate(tokens):
        color = f"C{(index + 3) % 10}"
        for stable in (True, False):
            chosen = [point["state"] for point in points if point["token"] == token and point["stable"] == stable]
            if chosen:
                xy = (np.asarray(chosen) - mean) @ axes_pc.T
                axes.plot(xy[:, 0], xy[:, 1], "o", markersize=12, markeredgewidth=2, color=color, zorder=2,
                          markerfacecolor=color if stable else "none",
                          label=f"x={token!r} {'stable' if stable else 'unstable'}")
    axes.set_xlabel("PC 1 of the visited states", fontsize=FONT)
    axes.set_ylabel("PC 2", fontsize=FONT)
    axes.tick_params(labelsize=FONT)
    axes.grid(alpha=0.3)
    axes.set_title(f"fixed points and trajectories (square: s_0): {title}", fontsize=FONT + 2)
    axes.legend(fontsize=FONT - 2, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    figure.subplots_adjust(left=0.08, right=0.72, bottom=0.1, top=0.92)
    return save(figure, folder / "fixed_points.png")
