"""A store that cannot be opened (issue 15, items 8 and 11), through the real
CLI: exit 2 in seconds with one line naming the store and the reason, no
traceback, nothing computed or recorded."""

import socket
import time

import pytest

pytestmark = pytest.mark.slow


def garbage_db(folder):
    (folder / "mlflow.db").write_text("garbage\n")
    return [], "mlflow.db is not an SQLite database"


def folder_db(folder):
    (folder / "mlflow.db").mkdir()
    return [], "mlflow.db is a folder, not an SQLite database file"


def postgres_not_listening(folder):
    with socket.socket() as free:  # a port nobody listens on, on this machine only
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    return [f"mlflow.tracking_uri=postgresql://rnnexp@127.0.0.1:{port}/rnnexp"], \
        f"nothing accepts connections at 127.0.0.1:{port} (Connection refused"


def deleted_experiment(folder):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    client.delete_experiment(client.create_experiment("gone"))
    return ["mlflow.experiment_name=gone"], "experiment 'gone' is deleted in sqlite:///"


@pytest.mark.parametrize("sweep", [False, True], ids=["run", "sweep"])
@pytest.mark.parametrize("make", [garbage_db, folder_db, postgres_not_listening, deleted_experiment])
def test_a_store_that_cannot_be_opened_is_one_line_and_exit_2(cli, tmp_path, make, sweep):
    overrides, named = make(tmp_path)
    begun = time.monotonic()
    proc = cli("plots.enabled=false", *overrides, *(["hidden_size=2,3", "-m"] if sweep else []), check=False)
    took = time.monotonic() - begun
    message = proc.stderr.strip()
    assert proc.returncode == 2, proc.stdout[-2000:] + message
    assert len(message.splitlines()) == 1 and message.startswith("rnnexp: error: mlflow.tracking_uri="), message
    assert named in message and "Traceback" not in proc.stdout + message
    assert took < 60  # seconds, not MLflow's minutes of retries
    if make is deleted_experiment:  # the store opened: still no run in it, the deleted experiment untouched
        from mlflow.entities import ViewType
        from mlflow.tracking import MlflowClient

        client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
        ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
        assert client.search_runs(ids, run_view_type=ViewType.ALL) == []
