"""What a person sees through the real CLI: a sweep's console (one line per
point, the table, the links), the job logs that keep it, and `console.tensors`;
read back with MlflowClient."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.slow


def test_a_six_point_sweep_prints_a_line_per_point_the_table_and_the_links(cli, store, tmp_path):
    proc = cli("hidden_size=range(1,7)", "-m")
    lines = proc.stdout.splitlines()
    assert len(lines) + len(proc.stderr.splitlines()) <= 40, proc.stdout + proc.stderr
    points = [line for line in lines if re.match(r"\[\d/6\] ", line)]
    assert len(points) == 6
    (parent,) = [r for r in store.search_runs(["1"]) if r.data.tags.get("rnnexp.role") == "sweep"]
    children = store.search_runs(["1"], filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    by_size = {run.data.params["hidden_size"]: run for run in children}
    for size in range(1, 7):
        run = by_size[str(size)]
        assert run.info.run_name == f"{size} (hidden_size={size})"
        (line,) = [line for line in points if line.startswith(f"[{size}/6] {size} (hidden_size={size}): ref ")]
        assert line.endswith(f"http://127.0.0.1:5000/#/experiments/1/runs/{run.info.run_id}"
                             "?workflowType=machine_learning")
    (compare,) = [line for line in lines if line.startswith("Compare the points: ")]
    path, _, query = urlsplit(compare.split(": ", 1)[1]).fragment.partition("?")
    linked = {key: json.loads(value[0]) for key, value in parse_qs(query).items()}
    assert path == "/compare-runs" and linked["experiments"] == ["1"]
    assert sorted(linked["runs"]) == sorted(run.info.run_id for run in children)
    assert "The runs table: http://127.0.0.1:5000/#/experiments/1?workflowType=machine_learning" in lines
    assert any("`mlflow ui` started in this folder" in line for line in lines)
    assert all(run.info.run_id[:8] in proc.stdout for run in children)  # the table's rows
    assert "outputs: shape" not in proc.stdout and "INFO mlflow" not in proc.stderr
    # Each job's log keeps what it showed: its point line.
    logs = sorted(tmp_path.glob("multirun/*/*/*/rnnexp.log"))
    assert len(logs) == 6
    for log in logs:
        text = log.read_text()
        assert "[rnnexp.console][INFO] - [" in text and "/#/experiments/1/runs/" in text


def test_console_tensors_asks_for_the_tensors_in_a_sweep_and_for_none_in_a_single_run(cli, tmp_path):
    sweep = cli("hidden_size=1,2", "console.tensors=true", "-m").stdout
    assert sweep.count("outputs: shape (3, 5, ") == 2 and "[2/2] 2 (hidden_size=2)" in sweep
    single = cli("console.tensors=false")
    assert "shapes: inputs (3, 5, 4), outputs (3, 5, 2), state_h (3, 2)" in single.stdout
    assert "outputs: shape" not in single.stdout and "check.reference_max_abs_err = " in single.stdout
    (log,) = tmp_path.glob("outputs/*/*/rnnexp.log")
    assert "Recorded run 'default'" in log.read_text()  # console.* does not change what a run computes


def test_console_tensors_false_still_shows_a_single_training_run(cli):
    out = cli("task=train", "data=hihello", "train.epochs=5", "console.tensors=false").stdout
    assert "rnnexp: training layer API" in out and "  epoch     5: " in out and "hihell -> " in out
    assert "accuracy" in out and "outputs: shape" not in out  # a training run never prints the tensors
