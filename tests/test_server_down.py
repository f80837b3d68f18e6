"""Issue 4.6: a tracking server that does not answer fails the command at once,
naming the URI, before any computation and with nothing written to a store;
a server that answers (any HTTP status) is not in the way."""

import http.server
import threading
import time

import pytest

from rnnexp.errors import ConfigError
from rnnexp.tracking.store import check_reachable, http_tracking_uri

DOWN = "http://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.mark.slow
@pytest.mark.parametrize("sweep", [False, True], ids=["single", "sweep"])
def test_server_down_fails_fast_naming_the_uri(cli, tmp_path, sweep):
    args = ["hidden_size=1,2", "-m"] if sweep else []
    started = time.monotonic()
    proc = cli(f"mlflow.tracking_uri={DOWN}", *args, check=False, env={"PYTHONPROFILEIMPORTTIME": "1"})
    print(f"server down ({'sweep' if sweep else 'single'}): failed after {time.monotonic() - started:.1f} s")
    assert proc.returncode == 2
    assert f"mlflow.tracking_uri='{DOWN}': expected a reachable MLflow tracking server" in proc.stderr
    assert "Traceback" not in proc.stderr
    imported = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert imported and not any(m in line for line in imported for m in ("| tensorflow", "| mlflow"))
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlruns").exists()


class _Answering(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("status", [200, 401, 404])
def test_a_server_that_answers_passes(status):
    handler = type("Handler", (_Answering,), {"status": status})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        check_reachable(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()


def test_probe_names_the_environment_uri(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", DOWN)
    with pytest.raises(ConfigError, match=r"MLFLOW_TRACKING_URI='http://127.0.0.1:9'.*Connection refused"):
        check_reachable(None, timeout=5)


def test_only_http_uris_are_probed(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert http_tracking_uri(None) is None
    assert http_tracking_uri("sqlite:///mlflow.db") is None
    assert http_tracking_uri("https://example.invalid") == "https://example.invalid"
    check_reachable("sqlite:///mlflow.db")  # no server involved: no probe, no error
