"""Issue 3's acceptance, end to end: a real CLI sweep in a scratch folder, read
back with MlflowClient, then `python -m rnnexp.compare` in the same folder."""

import os
import struct
import subprocess
import sys

import pandas as pd
import pytest

from rnnexp import compare

pytestmark = pytest.mark.slow


def png_size(path):
    with open(path, "rb") as handle:
        header = handle.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", header[16:24])


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """One sweep for the module: 4 points, recorded in a fresh folder's default store."""
    from mlflow.tracking import MlflowClient

    from conftest import run_cli  # tests/ is on sys.path (pytest prepends a conftest's folder)

    folder = tmp_path_factory.mktemp("sweep")
    run_cli(["hidden_size=2,3", "rnn=simple_rnn,gru", "-m"], cwd=folder)
    client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("rnnexp")
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("rnnexp.role") == "sweep"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    return folder, client, parent, children


def test_four_runs_pass_the_checks_and_have_plots(sweep, tmp_path):
    folder, client, parent, children = sweep
    points = sorted((r.data.params["hidden_size"], r.data.params["rnn"]) for r in children)
    assert points == [("2", "gru"), ("2", "simple_rnn"), ("3", "gru"), ("3", "simple_rnn")]
    for run in children:
        assert run.info.status == "FINISHED"
        metrics = run.data.metrics
        assert 0 <= metrics["check.reference_max_abs_err"] <= 1e-5
        assert 0 <= metrics["check.api_parity_max_abs_err"] <= 1e-6
        assert 0 <= metrics["check.last_output_state_max_abs_err"] <= 1e-6
        local = client.download_artifacts(run.info.run_id, "plots", str(tmp_path / run.info.run_id))
        pngs = [name for name in os.listdir(local) if name.endswith(".png")]
        assert pngs, f"no PNG under plots/ of {run.info.run_name}"
        width, height = png_size(os.path.join(local, pngs[0]))
        assert width >= 200 and height >= 150


def test_the_parent_holds_the_table_and_the_summary_plot(sweep, tmp_path):
    folder, client, parent, children = sweep
    assert parent.info.status == "FINISHED"
    local = client.download_artifacts(parent.info.run_id, "", str(tmp_path))
    table = pd.read_csv(os.path.join(local, "compare.csv"))
    assert sorted(table["run_id"]) == sorted(r.info.run_id for r in children)
    assert {"hidden_size", "rnn", "shape.outputs", "check.reference_max_abs_err", "status"} <= set(table.columns)
    assert set(table["status"]) == {"FINISHED"}
    width, height = png_size(os.path.join(local, "sweep_summary.png"))
    assert width >= 200 and height >= 150


def test_compare_lists_the_latest_sweep(sweep):
    folder, client, parent, children = sweep
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["COLUMNS"] = "120"
    proc = subprocess.run([sys.executable, "-m", "rnnexp.compare", "--csv", "table.csv"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(map(len, lines)) <= 120, proc.stdout
    assert lines[0].startswith("4 runs of sweep") and parent.info.run_id in proc.stdout
    (header,) = [line.split() for line in lines if line.split()[:2] == ["name", "run"]]
    assert {"ref", "parity", "last", "status"} <= set(header) and "run_id" not in header
    for run in children:
        (row,) = [line for line in lines if run.info.run_id[:8] in line]
        assert run.data.params["rnn"] in row and row.rstrip().endswith("FINISHED")
    assert len(pd.read_csv(folder / "table.csv")) == 4  # every column
    wide = subprocess.run([sys.executable, "-m", "rnnexp.compare", "--wide"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600).stdout
    (header,) = [line.split() for line in wide.splitlines() if line.split()[:2] == ["name", "run_id"]]
    assert "hidden_size" in header and "rnn" in header and "state_h_norm" in header
    assert all(run.info.run_id in wide for run in children)


def test_compare_all_sweep_and_errors(sweep, monkeypatch, capsys):
    folder, client, parent, children = sweep
    monkeypatch.chdir(folder)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert compare.main(["--all"]) == 0
    out = capsys.readouterr().out
    assert "4 runs of experiment 'rnnexp'" in out and parent.info.run_id not in out
    assert compare.main(["--sweep", parent.info.run_id]) == 0
    assert "4 runs" in capsys.readouterr().out
    table = compare.runs_table()  # the latest sweep, as a DataFrame
    assert sorted(table["run_id"]) == sorted(run.info.run_id for run in children)
    assert {"hidden_size", "rnn", "check.reference_max_abs_err", "status"} <= set(table.columns)
    assert len(compare.runs_table(all_runs=True)) == 4
    assert compare.main(["--sweep", children[0].info.run_id]) == 2
    assert "is not a sweep's parent run" in capsys.readouterr().err
    assert compare.main(["--sweep", "0" * 32]) == 2
    assert f"run '{'0' * 32}': not found" in capsys.readouterr().err
    assert compare.main(["--experiment", "nope"]) == 2
    assert "experiment 'nope': not found" in capsys.readouterr().err


def test_compare_in_a_folder_without_a_store_leaves_none_behind(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert compare.main([]) == 2
    assert f"no MLflow store at sqlite:///{tmp_path / 'mlflow.db'}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
