"""The comparison table, built from plain run dicts (no MLflow, no TensorFlow)."""

import json
import math

import pandas as pd
import pytest

from rnnexp.compare import parse_args
from rnnexp.record.comparison import compare_table, format_table, varying_params, write_sweep_summary
from conftest import png_size


def run(name, hidden_size, rnn, status="FINISHED", metrics=None, shapes=None, **extra_params):
    params = {"hidden_size": str(hidden_size), "rnn": rnn, "seed": "0", "data": "hello_batch", **extra_params}
    tags = {"rnnexp.role": "point"}
    if shapes is not None:
        tags["rnnexp.shapes"] = json.dumps(shapes)
    return {"run_id": f"id-{name}", "name": name, "status": status, "params": params, "tags": tags,
            "metrics": metrics if metrics is not None else {"check.reference_max_abs_err": 1e-7,
                                                            "check.api_parity_max_abs_err": 0.0,
                                                            "state_h_norm": 0.5}}


def shapes(hidden, lstm=False):
    out = {"inputs": [3, 5, 4], "outputs": [3, 5, hidden], "state_h": [3, hidden]}
    return {**out, "state_c": [3, hidden]} if lstm else out


RUNS = [
    run("a", 2, "simple_rnn", shapes=shapes(2)),
    run("b", 3, "simple_rnn", shapes=shapes(3)),
    run("c", 2, "lstm", status="FAILED", shapes=shapes(2, lstm=True),
        metrics={"check.reference_max_abs_err": 0.3, "state_h_norm": 0.25}),
]


def test_columns_are_name_id_varying_params_shapes_checks_other_metrics_status():
    table = compare_table(RUNS)
    assert list(table.columns) == [
        "name", "run_id", "hidden_size", "rnn", "shape.inputs", "shape.outputs", "shape.state_h", "shape.state_c",
        "check.api_parity_max_abs_err", "check.reference_max_abs_err", "state_h_norm", "status",
    ]
    assert table["name"].tolist() == ["a", "b", "c"]  # the given order
    assert table["hidden_size"].tolist() == ["2", "3", "2"]
    assert table["shape.outputs"].tolist() == ["3x5x2", "3x5x3", "3x5x2"]
    assert table["status"].tolist() == ["FINISHED", "FINISHED", "FAILED"]


def test_missing_values_are_empty():
    table = compare_table(RUNS)
    assert pd.isna(table.loc[0, "shape.state_c"]) and table.loc[2, "shape.state_c"] == "3x2"
    assert pd.isna(table.loc[2, "check.api_parity_max_abs_err"])
    assert table.loc[2, "check.reference_max_abs_err"] == 0.3


def test_varying_params_counts_a_missing_key_as_varying():
    runs = [run("a", 2, "gru"), run("b", 2, "gru", extra="x")]
    assert varying_params(runs) == ["extra"]
    assert varying_params(runs[:1]) == []


def test_a_run_without_shapes_tag_or_metrics_still_gets_a_row():
    table = compare_table([run("a", 2, "gru", metrics={}), run("b", 4, "gru", metrics={})])
    assert list(table.columns) == ["name", "run_id", "hidden_size", "status"]


def test_empty_and_formatted():
    assert compare_table([]).empty
    assert format_table(compare_table([])) == "(no runs)"
    text = format_table(compare_table(RUNS))
    assert text.splitlines()[0].split()[:4] == ["name", "run", "hidden_size", "rnn"]
    assert "1e-07" in text and "FAILED" in text and len(text.splitlines()) == 4
    wide = format_table(compare_table(RUNS), wide=True)
    assert wide.splitlines()[0].split()[:4] == ["name", "run_id", "hidden_size", "rnn"] and "state_h_norm" in wide


def test_the_narrow_view_fits_its_width_leaves_blank_what_does_not_apply_and_keeps_the_checks():
    long_runs = [run(f"{h},{rnn} (hidden_size={h},rnn={rnn},data=hello_batch)", h, rnn,
                     shapes=shapes(h, lstm=rnn == "lstm"), metrics={"check.reference_max_abs_err": 1e-7 * h,
                                                                    "check.api_parity_max_abs_err": 0.0,
                                                                    "check.last_output_state_max_abs_err": 0.0,
                                                                    "state_h_norm": 0.5, "train.seconds": 1.0})
                 for h in (2, 16, 256) for rnn in ("simple_rnn", "lstm", "gru")]
    table = compare_table(long_runs)
    wide = format_table(table, wide=True)
    assert max(map(len, wide.splitlines())) > 120  # what the narrow view has to fit
    for width in (120, 100):
        text = format_table(table, width=width)
        assert max(map(len, text.splitlines())) <= width, text
        header = text.splitlines()[0].split()
        assert {"ref", "parity", "last", "status"} <= set(header), header
        assert "hidden_size" not in header and "rnn" not in header  # already in every name
        assert "NaN" not in text and "nan" not in text
    narrow = format_table(table, width=120)
    assert "c" in narrow.splitlines()[0].split()  # the LSTM's cell state shape, blank for the others
    lstm_row = next(line for line in narrow.splitlines() if "lstm" in line and "256" in line)
    gru_row = next(line for line in narrow.splitlines() if "gru" in line and "256" in line)
    assert lstm_row.count("3x256") == 2 and gru_row.count("3x256") == 1


def test_sweep_summary_writes_the_table_and_the_plot(tmp_path):
    write_sweep_summary(tmp_path, RUNS)
    table = pd.read_csv(tmp_path / "compare.csv", dtype={"hidden_size": str})
    assert table["name"].tolist() == ["a", "b", "c"]
    assert table["hidden_size"].tolist() == ["2", "3", "2"]
    assert math.isclose(table.loc[2, "check.reference_max_abs_err"], 0.3)
    assert "<table" in (tmp_path / "compare.html").read_text()
    width, height = png_size(tmp_path / "sweep_summary.png")
    assert width >= 200 and height >= 150


def test_sweep_summary_without_plot(tmp_path):
    write_sweep_summary(tmp_path, RUNS, False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compare.csv", "compare.html"]


def test_sweep_and_all_exclude_each_other(capsys):
    assert parse_args([]).experiment == "rnnexp"
    assert parse_args(["--sweep", "abc", "--csv", "t.csv"]).sweep == "abc"
    with pytest.raises(SystemExit):
        parse_args(["--sweep", "abc", "--all"])
    assert "not allowed with argument" in capsys.readouterr().err
