"""Hydra launchers beyond the basic one: how a job finds its sweep's parent
run, the SLURM launcher's settings, and a real sweep through submitit_local."""

from pathlib import Path

import pytest

from rnnexp.config.job_context import sweep_folder
from rnnexp.sweep.handoff import (
    PARENT_RUN_ENV,
    PARENT_RUN_FILE,
    SWEEP_POINTS_FILE,
    SweepPoints,
    parent_run_id,
    publish_parent_run,
    sweep_points,
    withdraw_parent_run,
)


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv(PARENT_RUN_ENV, raising=False)
    yield
    withdraw_parent_run()


def test_a_published_parent_is_read_back_from_the_sweep_folder(tmp_path, clean_env):
    sweep_dir = tmp_path / "multirun" / "2026-01-01" / "10-00-00"  # not there yet
    written = publish_parent_run(sweep_dir, "abc123")
    assert written == sweep_dir / PARENT_RUN_FILE
    assert parent_run_id(sweep_dir) == "abc123"
    assert sorted(p.name for p in sweep_dir.iterdir()) == [PARENT_RUN_FILE, SWEEP_POINTS_FILE]  # no partial file
    assert sweep_points(sweep_dir) == SweepPoints()  # nothing said of the points
    publish_parent_run(sweep_dir, "abc123", SweepPoints(count=6, swept=["rnn", "api"]))
    assert sweep_points(sweep_dir) == SweepPoints(count=6, swept=["rnn", "api"])
    assert sweep_points(tmp_path / "elsewhere") == SweepPoints() and sweep_points(None) == SweepPoints()


def test_a_sweep_folder_is_never_shared_by_two_parents(tmp_path, clean_env):
    from rnnexp.errors import ConfigError

    publish_parent_run(tmp_path, "first")
    with pytest.raises(ConfigError, match="already holds sweep run first's id"):
        publish_parent_run(tmp_path, "second", SweepPoints(count=9, swept=["rnn"]))
    assert parent_run_id(tmp_path) == "first" and sweep_points(tmp_path) == SweepPoints()  # left as the first wrote
    assert sorted(p.name for p in tmp_path.iterdir()) == [PARENT_RUN_FILE, SWEEP_POINTS_FILE]


def test_the_sweep_folder_wins_over_a_stale_environment(tmp_path, monkeypatch, clean_env):
    # A reused worker still carries the id of an earlier sweep in its environment.
    publish_parent_run(tmp_path, "current")
    monkeypatch.setenv(PARENT_RUN_ENV, "stale")
    assert parent_run_id(tmp_path) == "current"


def test_the_environment_is_the_fallback_where_the_folder_has_no_id(tmp_path, monkeypatch, clean_env):
    # e.g. a cluster node that does not see the launching machine's folder
    monkeypatch.setenv(PARENT_RUN_ENV, "from-env")
    assert parent_run_id(tmp_path / "elsewhere") == "from-env"
    assert parent_run_id(None) == "from-env"
    withdraw_parent_run()
    assert parent_run_id(tmp_path / "elsewhere") is None


def test_sweep_folder_strips_flat_and_nested_subdirs():
    assert sweep_folder(Path("/s/multirun/x/3"), "3") == Path("/s/multirun/x")
    assert sweep_folder(Path("/s/multirun/x/lr=1/seed=2"), "lr=1/seed=2") == Path("/s/multirun/x")
    assert sweep_folder(Path("/s/multirun/x"), "") == Path("/s/multirun/x")


def test_slurm_launcher_settings_compose_without_a_cluster(compose):
    cfg = compose(["hydra/launcher=submitit_slurm", "hydra.launcher.partition=cpu",
                   "hydra.launcher.timeout_min=30", "hydra.launcher.cpus_per_task=2",
                   "hydra.launcher.mem_gb=4", "hydra.launcher.array_parallelism=8",
                   "hydra.sweep.dir=/shared/rnnexp/sweep1"], return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert (launcher.partition, launcher.timeout_min, launcher.cpus_per_task) == ("cpu", 30, 2)
    assert (launcher.mem_gb, launcher.array_parallelism) == (4, 8)
    # where the jobs' stdout/stderr go: submitit's folder inside the sweep folder
    assert launcher.submitit_folder == "/shared/rnnexp/sweep1/.submitit/%j"
    assert cfg.hydra.callbacks.sweep_parent._target_ == "rnnexp.sweep.callback.SweepCallback"


def test_joblib_launcher_settings_compose(compose):
    cfg = compose(["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], return_hydra_config=True)
    assert cfg.hydra.launcher._target_.endswith("joblib_launcher.JoblibLauncher")
    assert cfg.hydra.launcher.n_jobs == 2


@pytest.mark.slow
def test_submitit_local_sweep_records_both_points_with_findable_logs(cli, store, tmp_path):
    cli("hidden_size=2,3", "hydra/launcher=submitit_local", "-m")

    [sweep_dir] = (tmp_path / "multirun").glob("*/*")
    parent_id = (sweep_dir / PARENT_RUN_FILE).read_text().strip()
    parent = store.get_run(parent_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["rnnexp.sweep_dir"] == str(sweep_dir)

    children = store.search_runs([parent.info.experiment_id],
                                 filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'")
    assert sorted(run.data.params["hidden_size"] for run in children) == ["2", "3"]
    submitit_dir = sweep_dir / ".submitit"
    for run in children:
        assert run.info.status == "FINISHED"
        assert "shapes.json" in [f.path for f in store.list_artifacts(run.info.run_id)]
        # Each run names its own log, which submitit wrote under the sweep folder.
        log = Path(run.data.tags["rnnexp.job_log"])
        assert log.parent.parent == submitit_dir and log.name.endswith("_log.out")
        assert f"/runs/{run.info.run_id}?" in log.read_text()  # the job's point line, with its link
        assert Path(run.data.tags["rnnexp.job_log_err"]).is_file()
        assert Path(run.data.tags["rnnexp.output_dir"]).parent == sweep_dir
