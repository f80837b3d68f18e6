"""The comparison of a set of runs: a table with one row per run (name and
id, the params that vary across the runs, the tensor shapes, the `check.*`
metrics, then any other metric, the status), for `python -m rnnexp.compare`
and a sweep's parent run (`write_sweep_summary`: compare.csv, compare.html and
sweep_summary.png). Plain: run dicts in (as rnnexp.tracking.queries gives
them), a pandas DataFrame or files out.
"""

import json
from pathlib import Path
from typing import Dict, List, Mapping, Sequence

from rnnexp.core.checks import TOLERANCES
from rnnexp.record.console import shortened
from rnnexp.tracking.tags import GENERATED_TAG, SHAPES_TAG

SHAPE_ORDER = ("inputs", "outputs", "state_h", "state_c")


def varying_params(runs: Sequence[Mapping]) -> List[str]:
    """The param keys whose value is not the same in every run (a key some
    runs lack counts as varying), sorted."""
    keys = sorted({key for run in runs for key in run["params"]})
    return [key for key in keys if len({run["params"].get(key) for run in runs}) > 1]


def shape_cells(run: Mapping) -> Dict[str, str]:
    """{"shape.inputs": "3x5x4", ...} from the run's shapes tag; {} without one."""
    try:
        shapes = json.loads(run["tags"].get(SHAPES_TAG, "{}"))
    except ValueError:
        return {}
    return {f"shape.{name}": "x".join(str(d) for d in shapes[name]) for name in SHAPE_ORDER if name in shapes}


def compare_table(runs: Sequence[Mapping]):
    """A pandas DataFrame with one row per run, in the given order.

    Args:
        runs: dicts with keys run_id, name, status, params, metrics, tags (as
            rnnexp.tracking.queries returns them).

    Returns:
        Columns name, run_id, the varying params, shape.*, check.*, the other
        metrics, `generated` (the text, if any run generated), status. A
        value a run lacks is empty (NaN). `attrs["params"]` names the param columns.
    """
    import pandas as pd

    params = varying_params(runs)
    shapes = [column for column in (f"shape.{n}" for n in SHAPE_ORDER)
              if any(column in shape_cells(run) for run in runs)]
    metrics = sorted({key for run in runs for key in run["metrics"]}, key=lambda k: (not k.startswith("check."), k))
    generated = ["generated"] if any(GENERATED_TAG in run["tags"] for run in runs) else []  # the text per point
    columns = ["name", "run_id", *params, *shapes, *metrics, *generated, "status"]
    rows = []
    for run in runs:
        row = {"name": run["name"], "run_id": run["run_id"], "status": run["status"]}
        if GENERATED_TAG in run["tags"]:
            row["generated"] = run["tags"][GENERATED_TAG]
        row.update({key: run["params"][key] for key in params if key in run["params"]})
        row.update(shape_cells(run))
        row.update(run["metrics"])
        rows.append(row)
    table = pd.DataFrame(rows, columns=columns)
    table.attrs["params"] = params  # which columns are params, for narrow_table
    return table


# The narrow view's short headers.
SHORT_NAMES = {"run_id": "run", "shape.inputs": "inputs", "shape.outputs": "outputs", "shape.state_h": "h",
               "shape.state_c": "c", "check.reference_max_abs_err": "ref", "check.api_parity_max_abs_err": "parity",
               "check.last_output_state_max_abs_err": "last", "check.dynamics_max_rel_err": "dyn",
               "train.final_accuracy": "accuracy"}
NARROW_EXTRAS = ("train.final_accuracy", "generated")  # shown after the checks when the runs have them
# Dropped from the narrow view, in this order, while it is wider than asked.
DROP_ORDER = ("shape.inputs", "shape.outputs", "shape.state_h", "shape.state_c", "run_id")
MAX_NAME = 40  # characters of a run's name in the narrow view
MAX_GENERATED = 24  # and of a generated text


def narrow_table(table, width: int):
    """The columns of `compare_table`'s table that say most, under short
    headers, within `width` characters where it can be done: the name (cut
    to MAX_NAME), the run id's first 8 characters, the varying params not
    already in every run's name, the shapes that vary, the checks, a training
    run's accuracy, the status."""
    if table.empty:
        return table
    names = table["name"].astype(str)
    params = [key for key in table.attrs.get("params", []) if not all(f"{key}=" in name for name in names)]
    shapes = [column for column in (f"shape.{n}" for n in SHAPE_ORDER)
              if column in table and table[column].nunique(dropna=False) > 1]
    checks = [column for column in table.columns if column.startswith("check.")]
    extras = [column for column in NARROW_EXTRAS if column in table]
    view = table[["name", "run_id", *params, *shapes, *checks, *extras, "status"]].copy()
    view["run_id"] = view["run_id"].astype(str).str[:8]
    if "generated" in view:
        view["generated"] = [shortened(text, MAX_GENERATED) if isinstance(text, str) else text
                             for text in view["generated"]]
    cut = [shortened(name, MAX_NAME) for name in names]
    view["name"] = [name.ljust(max(map(len, cut))) for name in cut]  # shown left-aligned
    view = view.rename(columns=SHORT_NAMES)
    for column in DROP_ORDER:
        if _text_width(view) <= width:
            break
        view = view.drop(columns=[SHORT_NAMES[column]], errors="ignore")
    return view


def _render(table) -> str:
    return table.to_string(index=False, na_rep="", float_format=lambda value: f"{value:.3g}")


def _text_width(table) -> int:
    return max(len(line) for line in _render(table).splitlines())


def format_table(table, width: int = 120, wide: bool = False) -> str:
    """The table as text for the console, 3 significant digits, blank where
    a column does not apply: the narrow view within `width` characters
    (`narrow_table`), or every column if `wide`."""
    if table.empty:
        return "(no runs)"
    return _render(table if wide else narrow_table(table, width))


def write_sweep_summary(folder: Path, runs: List[Dict], plot: bool = True) -> None:
    """A sweep parent's files, into `folder`: compare.csv and compare.html
    (the table) and, if `plot`, sweep_summary.png (the final-state norm and
    each check per point)."""
    folder = Path(folder)
    table = compare_table(runs)
    table.to_csv(folder / "compare.csv", index=False)
    (folder / "compare.html").write_text(table.to_html(index=False, float_format=lambda v: f"{v:.3g}", na_rep=""))
    if plot:
        from rnnexp.record.plots import sweep_figure

        norms = table["state_h_norm"].tolist() if "state_h_norm" in table else [float("nan")] * len(table)
        checks = {name: table[name].tolist() for name in table.columns if name.startswith("check.")}
        sweep_figure(folder / "sweep_summary.png", table["name"].tolist(), norms, checks, TOLERANCES)
