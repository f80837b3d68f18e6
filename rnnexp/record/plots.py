"""Pictures of a run's states, and of a sweep, as PNG files.

Matplotlib is imported inside the functions (a run with `plots.enabled=false`
never pays for it) and used through its object API with the Agg canvas, never
pyplot, so nothing global changes and a notebook's backend is left alone.

Plots are for reading at a glance, not for analysis (the .npy files are
exact): a figure shows at most `max_sequences` sequences side by side (fewer
when long, up to `MAX_COLUMNS` steps), `MAX_LINES` line traces and `MAX_TICKS`
step labels, and its size grows with the steps shown up to a bound. Time goes
mostly into axes and ticks, so a run gets one figure with two axes per kind of
state, whatever its batch size, drawn on a figure kept from an earlier run of
the same layout (rnnexp.record.state_figure); light PNG compression does the rest.
Sizes and fonts suit MLflow's artifact viewer (about 1000 px wide).
"""

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from rnnexp.core.cells import DIRECTIONS
from rnnexp.frozen_imports import collector_paused
from rnnexp.record.state_figure import DPI, FONT, MAX_LINES, MAX_TICKS, WIDTH, draw_states, new_figure, save  # noqa: F401

MAX_COLUMNS = 450  # steps drawn side by side in one figure
SWEEP_TICKS = 32  # point labels on a sweep's summary; beyond this every k-th point is labelled


def warm_up() -> None:
    """Loads what a process's first plot would otherwise load (matplotlib,
    its Agg canvas, a font): about a second, for a process with time to spare
    before its plots are due (the tracking worker, while TensorFlow loads in the CLI)."""
    import io

    with collector_paused():  # see rnnexp.frozen_imports
        figure = new_figure(1.0, 1.0)
        figure.text(0.5, 0.5, "0")
        figure.savefig(io.BytesIO(), format="png")


def warm_ups(plots_enabled: bool) -> tuple:
    """What a recorder's worker may load early for the pictures to come (see
    rnnexp.tracking.recorders.open_recorder): `warm_up`, when plots are on."""
    return (warm_up,) if plots_enabled else ()


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
    cost is mostly its axes and ticks (rnnexp.record.state_figure keeps them).
    """
    starts = _layout(lengths, max_sequences)
    shown, units = len(starts), panels[0][1].shape[-1]
    columns = starts[-1] + int(lengths[shown - 1])
    which = f"sequences 0-{shown - 1} side by side" if shown > 1 else "sequence 0"
    more = f" (of {len(sequences)})" if shown < len(sequences) else ""
    chars = np.full(columns, "", dtype=object)
    for b, start in enumerate(starts):
        chars[start:start + int(lengths[b])] = list(sequences[b][: int(lengths[b])])
    images = []
    for label, states in panels:
        image = np.full((units, columns), np.nan)  # NaN: not drawn
        for b, start in enumerate(starts):
            image[:, start:start + int(lengths[b])] = states[b, :int(lengths[b])].T
        images.append((label, image))
    return draw_states(path, f"{units} units over time; {which}{more}", chars, images)


def write_state_plots(folder: Path, sequences: Sequence[str], lengths: np.ndarray, outputs: np.ndarray,
                      cell_states: Optional[np.ndarray] = None, max_sequences: int = 4) -> List[Path]:
    """A run's plots (drawn where the run is recorded: plain values in):
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


def write_stack_plots(folder: Path, sequences: Sequence[str], lengths: np.ndarray, hidden_states: np.ndarray,
                      cell_states: Optional[np.ndarray], max_sequences: int, directions: int) -> List[Path]:
    """A stack's plots: `states_layer{l}_{forward|backward}.png` in `folder`,
    one per layer and direction, each as `write_state_plots` draws one layer.

    Args:
        hidden_states: (L*D, B, T, H) h after every step, layer by layer,
            forward before backward, in time order: Keras's outputs for the
            top layer, the NumPy reference's below it (Keras returns only the top's).
        cell_states: the same of an LSTM's c, or None.
        directions: D, 1 or 2.
    """
    paths = []
    for index, states in enumerate(hidden_states):
        level, direction = index // directions, DIRECTIONS[index % directions]
        where = f"layer {level} {direction}"
        source = "" if index >= len(hidden_states) - directions else " (NumPy reference)"
        panels = [(f"{where}: hidden state h{source}", states)]
        if cell_states is not None:
            panels.append((f"{where}: LSTM cell state c (NumPy reference)", cell_states[index]))
        path = Path(folder) / f"states_layer{level}_{direction}.png"
        paths.append(state_figure(path, sequences, lengths, panels, max_sequences))
    return paths


def sweep_figure(path: Path, names: Sequence[str], norms: Sequence[float],
                 checks: Dict[str, Sequence[float]], tolerances: Dict[str, float]) -> Path:
    """One PNG across a sweep's points: the final-state norm per point (bars)
    and each check per point on a decade (log10) axis with its tolerance (dashed).

    Args:
        names: the points' run names, in order; norms and each check's values
            line up with them (NaN where a point has no value). A point is
            labelled with its name's swept values ("8,lstm" of "8,lstm (...)").
    """
    count = len(names)
    labels = [name.split(" (")[0][:24] for name in names]
    upright = max(map(len, labels), default=0) <= 4  # labels that fit side by side unrotated
    figure = new_figure(width=WIDTH, height=6.5)
    figure.subplots_adjust(left=0.1, right=0.8, bottom=0.12 if upright else 0.25, top=0.93, hspace=0.12)
    top, bottom = figure.subplots(2, 1, sharex=True)
    x = np.arange(count)
    top.bar(x, np.asarray(norms, float), color="tab:blue")
    top.set_ylabel("mean ||h_T||", fontsize=FONT)
    top.tick_params(labelsize=FONT)
    top.set_title(f"sweep of {count} points: final-state norm and checks", fontsize=FONT + 2)
    # Errors span decades, so the axis is log10 of them, drawn on a linear
    # axis with a label per decade: a log-scale axis spends most of this
    # figure's time on its minor ticks and math-text labels.
    floor = 1e-12  # an exact 0 has no place on a log axis; it is drawn here
    decades = []
    for index, (check, values) in enumerate(sorted(checks.items())):
        color, shift = f"C{index + 1}", 0.15 * (index - (len(checks) - 1) / 2)  # side by side, not on top
        name = check.removeprefix("check.").removesuffix("_max_abs_err")
        logs = np.log10(np.maximum(np.asarray(values, float), floor))
        bottom.plot(x + shift, logs, "o", color=color, label=name)
        decades.extend(logs[np.isfinite(logs)])
        if check in tolerances:
            tolerance = np.log10(max(float(tolerances[check]), floor))
            bottom.axhline(tolerance, color=color, linestyle="--", linewidth=1)
            decades.append(tolerance)
    low, high = (int(np.floor(min(decades))), int(np.ceil(max(decades)))) if decades else (-12, 0)
    step = max(1, -(-(high - low) // 8))  # at most about 8 labels
    ticks = list(range(low, high + 1, step))
    bottom.set_yticks(ticks, [f"1e{k}" for k in ticks], fontsize=FONT)
    bottom.set_ylim(low - 0.3, high + 0.3)
    bottom.set_ylabel(f"max abs error (0 drawn at {floor:g})", fontsize=FONT)
    if checks:  # none when no point got as far as its checks
        bottom.legend(title="check.*_max_abs_err\n(dashed: tolerance)", fontsize=FONT - 1, title_fontsize=FONT - 1,
                      loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    every = max(1, -(-count // SWEEP_TICKS))
    bottom.set_xticks(x[::every], labels[::every], rotation=0 if upright else (90 if count > 16 else 35),
                      ha="center" if upright or count > 16 else "right", fontsize=FONT - 1)
    top.xaxis.set_visible(False)  # the names label the lower axes; ticks are this figure's costliest part
    top.grid(axis="y", alpha=0.3)
    bottom.grid(alpha=0.3)
    return save(figure, path)
