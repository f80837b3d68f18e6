"""A shared tracking server, for real: PostgreSQL 15 in a temporary folder,
`mlflow server` on it with proxied artifacts, and sweeps pointed at the server
from a scratch folder, read back through the server with MlflowClient and, for
the statuses, straight from PostgreSQL."""

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from glob import glob
from pathlib import Path

import pytest

from rnnexp.sweep.handoff import PARENT_RUN_FILE

pytestmark = pytest.mark.slow

PG_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/bin",
                                  *sorted(glob("/usr/lib/postgresql/*/bin"), reverse=True)])
SERVER_START_TIMEOUT_S = 240  # migrations on a fresh database take a while on a busy machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_tool(command) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"{command} exited {done.returncode}:\n{done.stdout}{done.stderr}")


def as_postgres_user(command):
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user."""
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no `postgres` user to run PostgreSQL as")
    return ["runuser", "-u", "postgres", "--", *command]


@pytest.fixture(scope="module")
def postgres_uri():
    """A throwaway PostgreSQL listening on 127.0.0.1 only; yields the
    SQLAlchemy URI of a fresh `mlflow` database in it."""
    initdb = shutil.which("initdb", path=PG_SEARCH_PATH)
    if initdb is None:
        pytest.skip(f"PostgreSQL's initdb was not found (searched {PG_SEARCH_PATH})")
    pg_ctl = str(Path(initdb).parent / "pg_ctl")
    import psycopg

    folder = Path(tempfile.mkdtemp(prefix="rnnexp-pg-"))  # not under pytest's root-only tmp
    data, password, port = folder / "data", "rnnexp-test", free_port()
    (folder / "pwfile").write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(folder / "pwfile", "postgres")
    try:
        run_tool(as_postgres_user([initdb, "-D", str(data), "-U", "postgres", "-E", "UTF8",
                                   "--auth=scram-sha-256", f"--pwfile={folder / 'pwfile'}", "--no-sync"]))
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
        run_tool(as_postgres_user([pg_ctl, "-D", str(data), "-l", str(folder / "postgres.log"),
                                   "-w", "-t", "120", "-o", options, "start"]))
        admin = f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute("CREATE DATABASE mlflow")
        yield f"postgresql+psycopg://postgres:{password}@127.0.0.1:{port}/mlflow"
    finally:
        stop_postgres(pg_ctl, data)
        shutil.rmtree(folder, ignore_errors=True)


def stop_postgres(pg_ctl: str, data: Path) -> None:
    """Stops the server in `data` if one runs there (also after a start that timed out)."""
    pid_file = data / "postmaster.pid"
    if not pid_file.exists():
        return
    subprocess.run(as_postgres_user([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
                   capture_output=True)
    if pid_file.exists():  # pg_ctl could not stop it
        try:
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def wait_for_health(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"mlflow server exited {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"mlflow server not healthy after {SERVER_START_TIMEOUT_S} s:\n"
                         f"{log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def server(postgres_uri, tmp_path_factory):
    """`mlflow server` on 127.0.0.1 with the PostgreSQL backend store and
    proxied artifacts; yields (url, artifacts folder, backend URI)."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    artifacts, log = folder / "artifacts", folder / "server.log"
    url = f"http://127.0.0.1:{free_port()}"
    mlflow_cli = str(Path(sys.executable).parent / "mlflow")
    command = [mlflow_cli, "server", "--backend-store-uri", postgres_uri,
               "--artifacts-destination", str(artifacts),
               "--host", "127.0.0.1", "--port", url.rsplit(":", 1)[1], "--workers", "1"]
    # MLflow's job runner (GenAI evaluation jobs) is not needed for tracking:
    # off, the server starts five processes fewer and leaves no queue in /dev/shm.
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with open(log, "w") as log_file:
        # its own process group, so that stopping it stops its workers too
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=log_file,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_health(url, process, log)
        yield url, artifacts, postgres_uri
    finally:
        stop_process_group(process)
    assert not (folder / "mlflow.db").exists()  # the server, too, used PostgreSQL only


def stop_process_group(process: subprocess.Popen) -> None:
    for sig, grace_s in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(grace_s)
            return
        except subprocess.TimeoutExpired:
            continue


def read_sweep_back(url: str, scratch: Path, hidden_sizes):
    """Checks the sweep launched in `scratch` through the server; returns its child runs."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(url)
    [sweep_dir] = (scratch / "multirun").glob("*/*")
    parent_id = (sweep_dir / PARENT_RUN_FILE).read_text().strip()
    parent = client.get_run(parent_id)
    assert parent.info.status == "FINISHED"
    children = client.search_runs([parent.info.experiment_id],
                                  filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'")
    assert sorted(int(run.data.params["hidden_size"]) for run in children) == sorted(hidden_sizes)
    for run in children:
        assert run.info.status == "FINISHED"
        assert run.info.artifact_uri.startswith("mlflow-artifacts:")  # proxied by the server
        with tempfile.TemporaryDirectory() as downloads:
            shapes = json.loads(Path(client.download_artifacts(run.info.run_id, "shapes.json",
                                                               downloads)).read_text())
        assert shapes["outputs"] == [3, 5, int(run.data.params["hidden_size"])]
        tensors = {Path(f.path).name for f in client.list_artifacts(run.info.run_id, "tensors")}
        assert {"inputs.npy", "outputs.npy", "state_h.npy"} <= tensors
    # Nothing in the scratch folder became a local store.
    assert not (scratch / "mlflow.db").exists() and not (scratch / "mlruns").exists()
    return parent, children


def test_joblib_sweep_into_a_postgres_backed_server(server, cli, tmp_path):
    url, artifacts, backend_uri = server
    cli("hidden_size=2,3,4,5", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "-m",
        env={"MLFLOW_TRACKING_URI": url})
    parent, children = read_sweep_back(url, tmp_path, [2, 3, 4, 5])

    # The artifacts went to the server's destination folder ...
    for run in children:
        run_folder = artifacts / run.info.experiment_id / run.info.run_id / "artifacts"
        assert (run_folder / "tensors" / "outputs.npy").is_file()
    # ... and the runs into PostgreSQL.
    import psycopg

    ids = [parent.info.run_id] + [run.info.run_id for run in children]
    with psycopg.connect(backend_uri.replace("+psycopg", "")) as connection:
        rows = connection.execute("SELECT run_uuid, status FROM runs WHERE run_uuid = ANY(%s)",
                                  (ids,)).fetchall()
    assert sorted(rows) == sorted((run_id, "FINISHED") for run_id in ids)


def test_basic_sweep_with_the_server_named_on_the_command_line(server, cli, tmp_path):
    url, _, _ = server
    cli("hidden_size=2,3", f"mlflow.tracking_uri={url}", "-m")
    read_sweep_back(url, tmp_path, [2, 3])


def test_a_password_in_a_tracking_uri_is_recorded_and_printed_nowhere(postgres_uri, server, cli, tmp_path):
    """Issue 15, item 6: the database's real password in a PostgreSQL URI (a
    2-point sweep straight into it), and one in a server's URI (a single run)."""
    from mlflow.tracking import MlflowClient

    url, _, _ = server
    secret = postgres_uri.split(":")[2].split("@")[0]  # the fixture's real password
    assert secret and secret in postgres_uri
    with_user = url.replace("http://", "http://someone:topsecret@")
    # Experiments of their own: one the server made has mlflow-artifacts: locations, which a
    # client straight on the database cannot write to (MLflow's rule, not rnnexp's).
    outputs = [cli("hidden_size=2,3", f"mlflow.tracking_uri={postgres_uri}", "mlflow.experiment_name=secret-direct",
                   "plots.enabled=false", "-m"),
               cli(f"mlflow.tracking_uri={with_user}", "mlflow.experiment_name=secret-server", "plots.enabled=false")]
    seen = [proc.stdout + proc.stderr for proc in outputs]
    for client, experiment, count in ((MlflowClient(postgres_uri), "secret-direct", 3),
                                      (MlflowClient(url), "secret-server", 1)):
        runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
        assert len(runs) == count
        for run in runs:
            seen += [run.info.run_name, repr(run.data.params), repr(run.data.tags)]
            folder = tmp_path / "artifacts" / run.info.run_id
            folder.mkdir(parents=True)
            client.download_artifacts(run.info.run_id, "", str(folder))
            seen += [path.read_text(errors="replace") for path in folder.rglob("*") if path.is_file()]
    seen += [path.read_text(errors="replace") for path in tmp_path.rglob("*.log")]
    everything = "\n".join(seen)
    assert "postgres:***@127.0.0.1" in everything and "someone:***@127.0.0.1" in everything  # masked, not dropped
    assert secret not in everything and "topsecret" not in everything
