"""Issue 4.9: config values never steer where files go. Tokens, sequences, the
experiment name and (through the overrides) the run names below are made of
'/', '.' and '..'; every file the sweep writes must still be in the working
folder, under MLflow's store (mlflow.db, mlruns/<experiment id>/<run id>/) or
Hydra's sweep folder (multirun/<date>/<time>/<job number>/), with the artifact
names of the contract."""

import re

import pytest

HOSTILE = ["data.vocab=[/,.,a]", "data.sequences=[../../a,/./a/,..]",
           "mlflow.experiment_name=../../escape/..", "hidden_size=1,2", "-m"]
ALLOWED = [
    r"mlflow\.db",
    r"mlruns/\d+/[0-9a-f]{32}/artifacts/(config\.yaml|shapes\.json|tables/states\.csv"
    r"|tensors/(inputs|outputs|state_h|lengths)\.npy|weights/(kernel|recurrent_kernel|bias)\.npy"
    r"|\.hydra/(config|hydra|overrides)\.yaml|plots/(states|gradients)\.png"
    r"|compare\.(csv|html)|sweep_(summary|gradients)\.png)",  # the last four on the sweep's parent run
    r"multirun/\d{4}-\d\d-\d\d/\d\d-\d\d-\d\d-\d{6}/(multirun\.yaml|\.rnnexp_parent_run_id|\.rnnexp_sweep_points\.json"
    r"|[01]/(rnnexp\.log|\.hydra/(config|hydra|overrides)\.yaml))",
]


@pytest.mark.slow
def test_hostile_values_write_only_inside_the_folders(tmp_path):
    from mlflow.tracking import MlflowClient

    from conftest import run_cli

    work = tmp_path / "a" / "work"  # "../../a" from here is tmp_path/a again: look above too
    work.mkdir(parents=True)
    run_cli(HOSTILE, cwd=work)

    outside = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if work not in (p, *p.parents))
    assert outside == ["a"]
    files = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file())
    strays = [f for f in files if not any(re.fullmatch(pattern, f) for pattern in ALLOWED)]
    assert strays == []

    client = MlflowClient(f"sqlite:///{work / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("../../escape/..")
    assert experiment.artifact_location.startswith(str(work / "mlruns"))
    runs = client.search_runs([experiment.experiment_id])
    points = [r for r in runs if r.data.tags.get("rnnexp.role") == "point"]
    assert sorted(r.info.status for r in runs) == ["FINISHED"] * 3
    assert all("../../a" in r.info.run_name for r in points)
    for run in points:
        assert run.info.artifact_uri.removeprefix("file://").startswith(str(work / "mlruns"))
        assert run.data.tags["rnnexp.lengths"] == "[7, 5, 2]" and run.data.tags["rnnexp.ragged"] == "true"
        top = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert top == {"config.yaml", "shapes.json", "tables", "tensors", "weights", ".hydra", "plots"}
