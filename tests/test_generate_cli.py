"""Generation through the real CLI in scratch folders, read back with
MlflowClient: a training sweep over generate.temperature (its temperature-0
point is the issue's `task=train data=hihello generate.prompt=h
generate.length=6`), task=generate from its logged model by both kinds of
URI (and by one the store lacks), and training on a text file with
validation. Six CLI runs with TensorFlow for the module; the bad files fail
without it."""

import shutil
from pathlib import Path

import pytest

from conftest import run_cli
from test_bad_input import run_bad

pytestmark = pytest.mark.slow

PATTERN_FILE = Path(__file__).parent / "data" / "pattern.txt"
PATTERN = "hello world, rnn basic! "  # repeated 100 times in PATTERN_FILE
HIHELLO = ["task=train", "data=hihello", "generate.prompt=h", "generate.length=6"]


def client_of(folder):
    from mlflow.tracking import MlflowClient

    return MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")


def runs_of(client):
    experiment = client.get_experiment_by_name("rnnexp")
    return client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])


def artifact_text(client, run_id, path):
    return Path(client.download_artifacts(run_id, path)).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def hihello(tmp_path_factory):
    """A 2-point training sweep (temperature 0 and 1), then task=generate
    from the temperature-0 point's model: by models:/ (greedy, prompt h) and
    by runs:/ (temperature 1, no prompt: the model's first character, h)."""
    folder = tmp_path_factory.mktemp("generate")
    sweep = run_cli([*HIHELLO, "generate.temperature=0,1", "-m"], cwd=folder)
    client = client_of(folder)
    points = {run.data.params.get("generate.temperature"): run for run in runs_of(client)
              if run.data.tags.get("rnnexp.role") == "point"}
    greedy = points["0.0"]
    by_model = run_cli(["task=generate", f"generate.model_uri={greedy.data.tags['rnnexp.model_uri']}",
                        "generate.prompt=h", "generate.length=6"], cwd=folder)
    by_run = run_cli(["task=generate", f"generate.model_uri=runs:/{greedy.info.run_id}/model",
                      "generate.length=6", "generate.temperature=1"], cwd=folder)
    generated = [run for run in runs_of(client) if run.data.params.get("task") == "generate"]
    return {"client": client, "points": points, "sweep": sweep, "by_model": by_model, "by_run": by_run,
            "generated": {run.data.params["generate.model_uri"].split(":")[0]: run for run in generated}}


def test_training_generates_hihello_prints_and_records_it(hihello):
    client, run = hihello["client"], hihello["points"]["0.0"]
    assert run.info.status == "FINISHED" and run.data.tags["predicted.0"] == "ihello"
    assert run.data.tags["rnnexp.generated"] == "hihello"
    assert artifact_text(client, run.info.run_id, "generated.txt") == "hihello"
    (line,) = [line for line in hihello["sweep"].stdout.splitlines() if line.startswith("[1/2] ")]
    assert "accuracy 1.000" in line and "generated 'hihello'" in line  # a sweep point's one line
    assert (run.data.params["generate.prompt"], run.data.params["generate.length"]) == ("h", "6")


def test_the_sweeps_compare_table_shows_the_text_per_point(hihello):
    import pandas as pd

    client, points = hihello["client"], hihello["points"]
    parent_id = points["0.0"].data.tags["mlflow.parentRunId"]
    table = pd.read_csv(client.download_artifacts(parent_id, "compare.csv"))
    by_temperature = dict(zip(table["generate.temperature"], table["generated"]))
    assert by_temperature == {0.0: "hihello", 1.0: points["1.0"].data.tags["rnnexp.generated"]}
    sampled = by_temperature[1.0]
    assert len(sampled) == 7 and sampled[0] == "h" and set(sampled) <= set("hielo")


def test_task_generate_loads_the_logged_model_without_training_and_records_its_own_run(hihello):
    client, source, run = hihello["client"], hihello["points"]["0.0"], hihello["generated"]["models"]
    assert "\nhihello\n" in hihello["by_model"].stdout and "training" not in hihello["by_model"].stdout
    assert run.info.status == "FINISHED" and run.info.run_id != source.info.run_id
    assert run.data.tags["rnnexp.generated"] == "hihello"
    assert artifact_text(client, run.info.run_id, "generated.txt") == "hihello"
    assert run.data.tags["rnnexp.source_run_id"] == source.info.run_id
    assert run.data.tags["rnnexp.source_model_uri"] == source.data.tags["rnnexp.model_uri"]
    params = run.data.params
    assert params["task"] == "generate" and params["data.vocab"] == '["h", "i", "e", "l", "o"]'
    assert not [key for key in params if key.startswith(("train.", "data.sequences", "rnn", "api", "hidden"))]
    assert run.data.metrics == {} and "rnnexp.model_uri" not in run.data.tags  # nothing trained, no model
    names = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {"generated.txt", "config.yaml", ".hydra"} <= names and "weights" not in names
    assert "generate:\n  prompt: h\n" in artifact_text(client, run.info.run_id, "config.yaml")


def test_task_generate_by_run_uri_samples_what_the_sweeps_point_sampled(hihello):
    """Sampling at temperature 1 with seed 0 from the same weights (training
    is deterministic, so both sweep points trained the same model) gives the
    same text in another process; without a prompt it starts at the first
    character the model was trained on."""
    run, sampled_point = hihello["generated"]["runs"], hihello["points"]["1.0"]
    assert run.data.tags["rnnexp.source_run_id"] == hihello["points"]["0.0"].info.run_id
    assert run.data.tags["rnnexp.generated"] == sampled_point.data.tags["rnnexp.generated"]
    assert "sampled at temperature 1, seed 0; prompt 'h' + 6 characters" in hihello["by_run"].stdout


def test_task_generate_with_a_model_the_store_lacks_is_a_config_error(hihello):
    folder = Path(hihello["client"].tracking_uri.removeprefix("sqlite:///")).parent
    proc = run_cli(["task=generate", "generate.model_uri=models:/m-0123", "generate.length=3"], cwd=folder,
                   check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "rnnexp: error: generate.model_uri='models:/m-0123': expected a model logged in the store (" in proc.stderr
    assert len(runs_of(hihello["client"])) == 5  # the sweep's parent and points, the two task=generate runs


@pytest.fixture(scope="module")
def pattern_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text")
    shutil.copy(PATTERN_FILE, folder / "pattern.txt")
    proc = run_cli(["task=train", "data=text", "data.text_file=pattern.txt", "data.window=16", "data.stride=2",
                    "data.val_fraction=0.1", "rnn=lstm", "hidden_size=32", "train.epochs=3", "train.optimizer=adam",
                    "train.learning_rate=0.01", "generate.prompt=hello", "generate.length=30"], cwd=folder)
    client = client_of(folder)
    (run,) = runs_of(client)
    return client, run, proc


def test_a_text_file_trains_with_validation_per_epoch_and_generates_the_pattern(pattern_run):
    client, run, proc = pattern_run
    assert run.info.status == "FINISHED"
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert [m.step for m in client.get_metric_history(run.info.run_id, name)] == [1, 2, 3], name
    assert run.data.metrics["val_accuracy"] >= 0.95 and run.data.metrics["train.final_accuracy"] >= 0.95
    assert run.data.tags["rnnexp.generated"] == (PATTERN * 3)[:35]  # "hello" and 30 more of the pattern
    assert "val_accuracy" in proc.stdout and (PATTERN * 3)[:35] in proc.stdout


def test_a_text_file_run_records_the_files_vocabulary(pattern_run):
    client, run, _ = pattern_run
    vocab = sorted(set(PATTERN))
    assert run.data.params["data.vocab"] == str(vocab).replace("'", '"')
    assert (run.data.params["data"], run.data.params["data.text_file"], run.data.params["data.window"]) == \
        ("text", "pattern.txt", "16")
    assert "text_file: pattern.txt" in artifact_text(client, run.info.run_id, "config.yaml")
    assert "- '!'" in artifact_text(client, run.info.run_id, "config.yaml")  # the vocabulary, in full
    assert len(run.data.tags["rnnexp.text_hash"]) == 16
    history = artifact_text(client, run.info.run_id, "tables/history.csv").splitlines()
    assert history[0] == "epoch,loss,accuracy,val_loss,val_accuracy" and len(history) == 4


BAD_FILES = {
    "missing": (None, "data.text_file='corpus.txt': expected an existing UTF-8 text file (no such file in"),
    "empty": (b"", "data.text_file='corpus.txt': expected a non-empty UTF-8 text file (the file is empty)"),
    "not UTF-8": (b"hello \xe9t\xe9", "data.text_file='corpus.txt': expected a UTF-8 text file (byte 6 (b'\\xe9')"),
    "window too long": (b"hello", "data.window=16: expected at most 4 for this text (the text has 5 characters"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_text_file_exits_2_with_one_line_before_tensorflow(cli, tmp_path, case):
    content, message = BAD_FILES[case]
    if content is not None:
        (tmp_path / "corpus.txt").write_bytes(content)
    proc, lines = run_bad(cli, "task=train", "data=text", "data.text_file=corpus.txt", "data.window=16")
    assert proc.returncode == 2
    assert lines.splitlines() == [lines.splitlines()[0]] and lines.startswith(f"rnnexp: error: {message}"), lines
    assert not (tmp_path / "mlflow.db").exists()


def test_a_sweep_lists_its_point_with_a_bad_file_before_running_any(cli, tmp_path):
    (tmp_path / "good.txt").write_text(PATTERN * 2)
    proc, lines = run_bad(cli, "task=train", "data=text", "data.text_file=good.txt,absent.txt", "data.window=16", "-m")
    assert proc.returncode == 2 and "1 sweep point(s) have bad values; nothing was run" in lines
    assert ("point #1 (task=train,data=text,data.text_file=absent.txt,data.window=16): data.text_file='absent.txt': "
            "expected an existing UTF-8 text file") in lines
    assert not (tmp_path / "mlflow.db").exists()
