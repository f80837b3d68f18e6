"""Issue 4.3 and 4.4: a point that fails at run time is FAILED with its error,
the other points still run, the process exits non-zero with a summary of every
failed point, and `resume=true` afterwards reruns only that point.

The failure is injected by tests/fault_injection/sitecustomize.py (on
PYTHONPATH), so rnnexp's code, and thus its code version, is the same in both
runs: "fixing" it is leaving the injection out."""

from pathlib import Path

import pytest

FAULTS = Path(__file__).resolve().parent / "fault_injection"
SWEEP = ("hidden_size=1,2,3", "data=char_h")


def by_name(runs):
    return {run.info.run_name: run for run in runs}


@pytest.mark.slow
def test_failed_point_summary_then_resume(cli, store):
    first = cli(*SWEEP, "-m", check=False,
                env={"PYTHONPATH": str(FAULTS), "RNNEXP_TEST_FAIL_HIDDEN_SIZE": "2"})
    assert first.returncode == 1
    assert "[3/3] 3 (hidden_size=3,data=char_h): ref" in first.stdout  # the point after the failure ran
    summary = first.stderr[first.stderr.index("sweep points did not finish"):]
    assert "1 of 3 sweep points did not finish" in first.stderr
    assert "FAILED   2 (hidden_size=2,data=char_h): RuntimeError: injected fault for hidden_size=2" in summary

    runs = store.search_runs(["1"])
    points = by_name(r for r in runs if r.data.tags.get("rnnexp.role") == "point")
    parent = next(r for r in runs if r.data.tags.get("rnnexp.role") == "sweep")
    assert {name: r.info.status for name, r in points.items()} == {
        "1 (hidden_size=1,data=char_h)": "FINISHED", "2 (hidden_size=2,data=char_h)": "FAILED",
        "3 (hidden_size=3,data=char_h)": "FINISHED"}
    assert points["2 (hidden_size=2,data=char_h)"].data.tags["rnnexp.error"] == (
        "RuntimeError: injected fault for hidden_size=2")
    assert parent.info.status == "FAILED"
    for run in points.values():  # every run carries what resume compares
        assert len(run.data.tags["rnnexp.config_hash"]) == 16
        assert run.data.tags["rnnexp.code_version"].startswith("0.1.0+src.")
    hashes = {r.data.tags["rnnexp.config_hash"] for r in points.values()}
    assert len(hashes) == 3

    second = cli(*SWEEP, "resume=true", "-m")  # exits 0
    for size in (1, 3):
        assert f"Skipped '{size} (hidden_size={size},data=char_h)': resume=true and run " in second.stdout
    assert "[2/3] 2 (hidden_size=2,data=char_h): ref" in second.stdout

    runs = store.search_runs(["1"], order_by=["attributes.start_time ASC"])
    parents = [r for r in runs if r.data.tags.get("rnnexp.role") == "sweep"]
    assert len(parents) == 2 and parents[1].info.status == "FINISHED"
    resumed = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[1].info.run_id]
    assert [(r.info.run_name, r.info.status) for r in resumed] == [("2 (hidden_size=2,data=char_h)", "FINISHED")]
    assert resumed[0].data.tags["rnnexp.config_hash"] == points["2 (hidden_size=2,data=char_h)"].data.tags[
        "rnnexp.config_hash"]  # resume=true does not change the config's identity
    assert [r.info.status for r in runs].count("RUNNING") == 0


@pytest.mark.slow
def test_points_failing_validation_in_their_jobs_are_recorded_and_summarised(cli, tmp_path):
    """Where the launching process cannot check the points first (another
    sweeper), a bad point fails in its job: still one clear line, no traceback,
    a FAILED run with the error, listed in the summary, exit 1."""
    from mlflow.tracking import MlflowClient

    proc = cli("hidden_size=0,-1", "-m", check=False,
               env={"PYTHONPATH": str(FAULTS), "RNNEXP_TEST_SKIP_POINT_CHECK": "1"})
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "rnnexp: error: hidden_size=-1: expected a positive integer" in proc.stderr
    assert "2 of 2 sweep points did not finish" in proc.stderr
    assert "FAILED   0 (hidden_size=0): ConfigError: hidden_size=0: expected a positive integer" in proc.stderr
    runs = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").search_runs(["1"])
    assert sorted((r.info.run_name, r.info.status) for r in runs) == [
        ("-1 (hidden_size=-1)", "FAILED"), ("0 (hidden_size=0)", "FAILED"), ("sweep hidden_size=0,-1", "FAILED")]
    assert all(r.data.params.get("hidden_size") in ("0", "-1") for r in runs if r.info.run_name != "sweep hidden_size=0,-1")
