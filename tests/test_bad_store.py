"""A store that cannot be opened (issue 15, items 8 and 11), through the real
CLI: exit 2 in seconds with one line naming the store and the reason, no
traceback, nothing computed or recorded."""

import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


# -- a read-only store and an unwritable working folder, as an unprivileged user ----------
# root writes anywhere, so these run the real CLI as the `postgres` user (as
# test_tracking_server runs PostgreSQL) in folders owned by root.

@pytest.fixture(scope="module")
def unprivileged_python():
    """The command that runs this checkout's Python as `postgres`: this venv's
    interpreter if that user may run it, else the system's interpreter of the
    same version with the venv's packages and this checkout on its path (a
    pyenv interpreter under /root is out of that user's reach)."""
    if os.geteuid() != 0:
        return [sys.executable]  # not root: the permissions already apply
    if shutil.which("runuser") is None:
        pytest.skip("running as root without `runuser` to run the CLI as an unprivileged user")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no `postgres` user to run the CLI as")
    as_user = ["runuser", "-u", "postgres", "--"]
    repo = Path(__file__).resolve().parent.parent
    site = next(Path(sys.prefix).glob("lib/python*/site-packages"))
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    for command in ([*as_user, sys.executable],
                    [*as_user, "env", f"PYTHONPATH={repo}{os.pathsep}{site}", str(system)]):
        probe = subprocess.run([*command, "-c", "import rnnexp.cli, mlflow"], capture_output=True, text=True,
                               cwd="/", timeout=120)
        if probe.returncode == 0:
            return command
    pytest.fail(f"user postgres cannot import rnnexp with {sys.executable} nor {system}: {probe.stderr[-500:]}")


@pytest.fixture
def root_folder():
    """A scratch folder of root's that others may read, not write (pytest's own folders are root's only)."""
    folder = Path(tempfile.mkdtemp(prefix="rnnexp-unwritable-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def outputs_writable(folder):
    """Hydra's `outputs/` made the user's, so that the store is what fails."""
    (folder / "outputs").mkdir()
    user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    if user:
        os.chown(folder / "outputs", user.pw_uid, user.pw_gid)


def read_only_db(folder):
    from mlflow.tracking import MlflowClient

    MlflowClient(f"sqlite:///{folder / 'mlflow.db'}").search_experiments()  # a real store, root's, mode 644
    outputs_writable(folder)
    return "rnnexp: error: mlflow.tracking_uri=None: ", "(sqlite:///mlflow.db: mlflow.db is read-only"


def unwritable_store_folder(folder):
    outputs_writable(folder)
    return "rnnexp: error: mlflow.tracking_uri=None: ", f"the folder {folder} is not writable; SQLite writes mlflow.db"


def unwritable_working_folder(folder):
    return "rnnexp: error: hydra.run.dir: ", f"cannot write {folder / 'outputs'} (Permission denied) for Hydra's"


def store_files(folder):
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.glob("mlflow.db*")}


@pytest.mark.parametrize("make", [read_only_db, unwritable_store_folder, unwritable_working_folder])
def test_an_unwritable_store_or_folder_is_one_line_and_exit_2(unprivileged_python, root_folder, make):
    """Issue 15, items 8 and 11, as a user the permissions apply to."""
    command = unprivileged_python
    start, named = make(root_folder)
    before = store_files(root_folder)
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    begun = time.monotonic()
    proc = subprocess.run([*command, "-m", "rnnexp", "plots.enabled=false"], cwd=root_folder, env=env,
                          capture_output=True, text=True, timeout=120)
    took = time.monotonic() - begun
    message = proc.stderr.strip()
    assert proc.returncode == 2, proc.stdout[-2000:] + message
    assert len(message.splitlines()) == 1 and message.startswith(start) and named in message, message
    assert "Traceback" not in proc.stdout + message
    assert took < 10
    assert store_files(root_folder) == before  # the store untouched, no journal left beside it
