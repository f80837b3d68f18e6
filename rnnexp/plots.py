"""Pictures of a run's states, and of a sweep, as PNG files.

Matplotlib is imported inside the functions (a run with `plots.enabled=false`
never pays for it) and used through its object API with the Agg canvas, never
pyplot, so nothing global changes and a notebook's backend is left alone.

Plots are for reading at a glance, not for analysis (the .npy files are
exact): a figure shows at most `max_sequences` sequences side by side (fewer
when long, up to `MAX_COLUMNS` steps), `MAX_LINES` line traces and `MAX_TICKS`
step labels, and its size grows with the steps shown up to a bound. Time goes
mostly into axes and ticks, so a run gets one figure with two axes per kind of
state, whatever its batch size; a low dpi and light PNG compression do the rest.
"""

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

DPI = 80
MAX_TICKS = 40  # step labels per axis; beyond this every k-th step is labelled
MAX_COLUMNS = 450  # steps drawn side by side in one figure
MAX_LINES = 8  # units drawn as lines; the heatmap shows them all
PNG_OPTIONS = {"compress_level": 1}  # zlib level 1: several times faster than the default 6


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path: Path) -> Path:
    figure.savefig(path, dpi=DPI, pil_kwargs=PNG_OPTIONS)
    return path


def _layout(lengths: Sequence[int], max_sequences: int) -> List[int]:
    """Where each shown sequence starts on a shared x axis: sequences sit side
    by side, one empty step apart. Long sequences show fewer of them, so that
    the figure stays within MAX_COLUMNS steps."""
    starts, column = [], 0
    for n in lengths[:max_sequences]:
        if starts and column + int(n) > MAX_COLUMNS:
            break
        starts.append(column)
        column += int(n) + 1
    return starts


def state_figure(path: Path, sequences: Sequence[str], lengths: np.ndarray,
                 panels: Sequence[Tuple[str, np.ndarray]], max_sequences: int) -> Path:
    """One PNG of a run's states. For each (label, states (B, T, H)) panel, a
    heatmap (units x steps) over the shown sequences side by side, steps
    labelled with the input characters, and below it the same states as one
    line per unit. Padded steps (beyond `lengths`) are not drawn.

    All sequences share two axes per panel rather than two each: a figure's
    cost is mostly its axes and ticks.
    """
    starts = _layout(lengths, max_sequences)
    shown, units = len(starts), panels[0][1].shape[-1]
    columns = starts[-1] + int(lengths[shown - 1])
    heat_height = min(3.0, 1.0 + 0.02 * units)
    width = min(16.0, max(6.5, 3.0 + 0.15 * columns))  # inches; at most 16 * DPI pixels
    figure = _figure(width, height=0.4 + len(panels) * (heat_height + 2.0))
    height = figure.get_figheight()
    figure.subplots_adjust(left=0.09, right=0.88, bottom=0.2 / height, top=1 - 0.55 / height, hspace=0.45)
    ratios = [r for _ in panels for r in (heat_height, 1.4)]
    axes = figure.subplots(len(ratios), 1, sharex=True, gridspec_kw={"height_ratios": ratios})
    which = f"sequences 0-{shown - 1} side by side" if shown > 1 else "sequence 0"
    more = f" (of {len(sequences)})" if shown < len(sequences) else ""
    figure.suptitle(f"{units} units over time; {which}{more}", fontsize=9)
    chars = np.full(columns, "", dtype=object)
    for b, start in enumerate(starts):
        chars[start:start + int(lengths[b])] = list(sequences[b][: int(lengths[b])])
    for (label, states), heat, lines in zip(panels, axes[0::2], axes[1::2]):
        image, trace = np.full((units, columns), np.nan), np.full((columns, units), np.nan)
        for b, start in enumerate(starts):
            n = int(lengths[b])
            image[:, start:start + n] = states[b, :n].T
            trace[start:start + n] = states[b, :n]
        limit = float(np.nanmax(np.abs(image))) or 1.0
        heat.imshow(image, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        heat.set_title(f"{label}: colour blue {-limit:.3g}, white 0, red {limit:.3g}", fontsize=8, loc="left")
        heat.set_ylabel("unit", fontsize=8)
        heat.set_yticks(sorted({int(u) for u in np.linspace(0, units - 1, min(units, 5))}))
        lines.plot(np.arange(columns), trace[:, :MAX_LINES], marker="." if columns <= 60 else None)
        lines.set_ylim(-1.05 * limit, 1.05 * limit)
        lines.set_yticks([-limit, 0, limit], [f"{-limit:.2g}", "0", f"{limit:.2g}"])
    axes[1].legend([f"{u}" for u in range(min(units, MAX_LINES))], loc="upper left", bbox_to_anchor=(1.0, 1.05),
                   title="unit" if units <= MAX_LINES else f"first {MAX_LINES}", fontsize=7, title_fontsize=7,
                   frameon=False)
    every = max(1, -(-columns // MAX_TICKS))
    ticks = [c for c in range(0, columns, every) if chars[c]]
    axes[0].set_xticks(ticks, [chars[c] for c in ticks])
    axes[0].set_xlim(-0.5, columns - 0.5)
    for heat, lines in zip(axes[0::2], axes[1::2]):
        # the characters label each heatmap; the lines below it share its steps
        heat.tick_params(labelbottom=True, labelsize=8, length=2, pad=1)
        lines.tick_params(labelsize=7, length=2, pad=1)
        lines.xaxis.set_visible(False)  # an invisible axis makes no ticks, the costliest part
        lines.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def write_state_plots(folder: Path, sequences: Sequence[str], lengths: np.ndarray, outputs: np.ndarray,
                      cell_states: Optional[np.ndarray] = None, max_sequences: int = 4) -> List[Path]:
    """A run's plots (a writer for Tracker.write_and_log: plain values in):
    `states.png` in `folder`.

    Args:
        outputs: (B, T, H) hidden state after every step, as Keras returned it.
        cell_states: (B, T, H) LSTM cell state after every step, or None.
            Keras returns only the final c, so these come from the NumPy
            reference, which the run's checks match against Keras.
    """
    panels = [("hidden state h", outputs)]
    if cell_states is not None:
        panels.append(("LSTM cell state c (NumPy reference)", cell_states))
    return [state_figure(Path(folder) / "states.png", sequences, lengths, panels, max_sequences)]


def sweep_figure(path: Path, names: Sequence[str], norms: Sequence[float],
                 checks: Dict[str, Sequence[float]], tolerances: Dict[str, float]) -> Path:
    """One PNG across a sweep's points: the final-state norm per point (bars)
    and each check per point on a log scale with its tolerance (dashed).

    Args:
        names: the points' run names, in order; norms and each check's values
            line up with them (NaN where a point has no value).
    """
    count = len(names)
    figure = _figure(width=min(16.0, 7.0 + 0.35 * count), height=6.0)
    figure.subplots_adjust(left=0.1, right=0.77, bottom=0.22, top=0.94, hspace=0.12)
    top, bottom = figure.subplots(2, 1, sharex=True)
    x = np.arange(count)
    top.bar(x, np.asarray(norms, float), color="tab:blue")
    top.set_ylabel("mean ||h_T||", fontsize=9)
    top.set_title(f"sweep of {count} points: final-state norm and checks", fontsize=10)
    floor = 1e-12  # an exact 0 has no place on a log axis; it is drawn here
    for index, (check, values) in enumerate(sorted(checks.items())):
        color, shift = f"C{index + 1}", 0.15 * (index - (len(checks) - 1) / 2)  # side by side, not on top
        short = check.removeprefix("check.").removesuffix("_max_abs_err")
        bottom.plot(x + shift, np.maximum(np.asarray(values, float), floor), "o", color=color, label=short)
        if check in tolerances:
            bottom.axhline(tolerances[check], color=color, linestyle="--", linewidth=1)
    bottom.set_yscale("log")
    bottom.set_ylabel(f"max abs error (0 drawn at {floor:g})", fontsize=9)
    if checks:  # none when no point got as far as its checks
        bottom.legend(title="check.*_max_abs_err\n(dashed: tolerance)", fontsize=7, title_fontsize=7,
                      loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    every = max(1, -(-count // MAX_TICKS))
    bottom.set_xticks(x[::every], [name[:32] for name in names[::every]], rotation=35, ha="right", fontsize=7)
    for axis in (top, bottom):
        axis.grid(alpha=0.3)
    return _save(figure, path)
