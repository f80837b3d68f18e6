"""Fails fast when the tracking server is down.

MLflow retries a refused HTTP request with exponential back-off for minutes
(MLFLOW_HTTP_REQUEST_MAX_RETRIES, _BACKOFF_FACTOR, _TIMEOUT) before it gives
up. Rather than shorten those retries, which also protect a healthy server's
runs against a passing hiccup, the runner asks the server's `/health` endpoint
once, with a short timeout, before it imports MLflow or computes anything.
Plain urllib: no MLflow import on this path.
"""

import os
import urllib.error
import urllib.request
from typing import Optional

from rnnexp.errors import ConfigError

PROBE_TIMEOUT_S = 10.0


def http_tracking_uri(tracking_uri: Optional[str]) -> Optional[str]:
    """The http(s) tracking URI in force (`tracking_uri`, else MLFLOW_TRACKING_URI),
    or None when it names no server (a database, a folder, MLflow's default)."""
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or ""
    return uri if uri.startswith(("http://", "https://")) else None


def check_tracking_server(tracking_uri: Optional[str], timeout: float = PROBE_TIMEOUT_S) -> None:
    """Returns if the server answers at all (any HTTP status: a proxy's 401 or a
    404 still means something is listening); raises otherwise.

    Args:
        tracking_uri: the config's `mlflow.tracking_uri` (None: the environment's).
        timeout: seconds to wait for the connection and the answer.

    Raises:
        ConfigError: naming the URI and why it could not be reached.
    """
    uri = http_tracking_uri(tracking_uri)
    if uri is None:
        return
    key = "mlflow.tracking_uri" if tracking_uri else "MLFLOW_TRACKING_URI"
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout):
            return
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise ConfigError(key, uri, "a reachable MLflow tracking server",
                          f"{uri.rstrip('/')}/health did not answer (waited at most {timeout:g} s): {reason}") from None
