"""Where a command records, looked at before anything heavy is imported or
computed (standard library only; any layer may use it).

- A tracking server that is down would cost minutes of MLflow's retries with
  back-off: `check_reachable` asks its `/health` once, with a short timeout.
- A database store MLflow cannot open would cost about 100 s of retries (ten
  attempts with back-off) and then a traceback. SQLite: the file must be a
  file (not a folder), an SQLite database (or empty) and writable, in a
  writable folder (SQLite's journal is written beside it); PostgreSQL, MySQL,
  SQL Server on a host: something must accept a TCP connection on its port.
"""

import os
import re
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

from rnnexp.errors import ConfigError

PROBE_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0
DEFAULT_STORE = "sqlite:///mlflow.db"  # MLflow 3's, without MLFLOW_TRACKING_URI
SQLITE_HEADER = b"SQLite format 3\x00"
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}
# scheme://user:password@ : the password of a URI's userinfo (`\:` as Hydra's sweeper escapes it)
PASSWORD_IN_URI = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*\\?://[^\s/:@'\"\\]*)(\\?:)[^\s/@'\"]*@")
MASK = "***"


def without_passwords(text: str) -> str:
    """`text` with the password of every URI in it masked
    (`postgresql://me:secret@host/db` -> `postgresql://me:***@host/db`): what
    rnnexp records or prints. The environment is the place for secrets:
    MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD, PGPASSWORD."""
    return PASSWORD_IN_URI.sub(rf"\1\2{MASK}@", text) if "@" in text else text


def http_tracking_uri(tracking_uri: Optional[str]) -> Optional[str]:
    """The http(s) tracking URI in force (`tracking_uri`, else MLFLOW_TRACKING_URI),
    or None when it names no server (a database, a folder, MLflow's default)."""
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or ""
    return uri if uri.startswith(("http://", "https://")) else None


def check_reachable(tracking_uri: Optional[str], timeout: float = PROBE_TIMEOUT_S) -> None:
    """Returns if the tracking server answers at all (any HTTP status: a
    proxy's 401 or a 404 still means something is listening), or if a
    database store looks fit to open (`database_problem`); raises otherwise.

    Args:
        tracking_uri: the config's `mlflow.tracking_uri` (None: the environment's).
        timeout: seconds to wait for the connection and the answer.

    Raises:
        ConfigError: naming the URI and why it could not be reached.
    """
    uri = http_tracking_uri(tracking_uri)
    key = "mlflow.tracking_uri" if tracking_uri or not os.environ.get("MLFLOW_TRACKING_URI") else "MLFLOW_TRACKING_URI"
    if uri is None:  # a database store
        database = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_STORE
        problem = database_problem(database, min(timeout, CONNECT_TIMEOUT_S))
        if problem:
            raise ConfigError(key, tracking_uri or os.environ.get("MLFLOW_TRACKING_URI"),
                              "a tracking store that can be opened", f"{database}: {problem}")
        return
    parts = urlsplit(uri)  # without a user and password: /health asks for none, and urllib takes no userinfo
    bare = parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()
    try:
        with urllib.request.urlopen(f"{bare.rstrip('/')}/health", timeout=timeout):
            return
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise ConfigError(key, uri, "a reachable MLflow tracking server",
                          f"{uri.rstrip('/')}/health did not answer (waited at most {timeout:g} s): {reason}") from None


def sqlite_file(uri: str) -> Optional[Path]:
    """A SQLite store's file; None for :memory: and other stores."""
    if not uri.startswith("sqlite:"):
        return None
    path = uri.split("://", 1)[-1].split("?", 1)[0]
    path = path[1:] if path.startswith("/") else path  # sqlite:///relative, sqlite:////absolute
    return Path(path) if path not in ("", ":memory:") else None


def database_problem(uri: str, timeout: float = CONNECT_TIMEOUT_S) -> Optional[str]:
    """Why the database store at `uri` cannot be opened, or None if it looks fine
    (or is of a kind not probed here)."""
    kind = uri.split(":", 1)[0].split("+")[0].lower()
    if kind == "sqlite":
        return sqlite_problem(uri)
    if kind in DEFAULT_PORTS:
        return server_problem(uri, DEFAULT_PORTS[kind], timeout)
    return None


def sqlite_problem(uri: str) -> Optional[str]:
    database = sqlite_file(uri)
    if database is None:
        return None
    if database.is_dir():
        return f"{database} is a folder, not an SQLite database file"
    if database.exists():
        try:
            with open(database, "rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except OSError as error:
            return f"{database} cannot be read ({error.strerror})"
        if header and header != SQLITE_HEADER:
            return f"{database} is not an SQLite database (it starts with {header[:8]!r})"
        if not os.access(database, os.W_OK):
            return f"{database} is read-only; runs are written into it"
        folder = database.parent
    else:
        folder = database.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            return f"{folder} is not a folder; {database} cannot be created in it"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder.resolve()} is not writable; SQLite writes {database.name} and its journal there"
    return None


def server_problem(uri: str, default_port: int, timeout: float) -> Optional[str]:
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname, parts.port or default_port
    except ValueError as error:
        return f"the URI cannot be read ({error})"
    if not host:  # a Unix socket (?host=/run/postgresql) or the driver's default: the driver will tell
        return None
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as error:
        return f"nothing accepts connections at {host}:{port} ({error.strerror or error}; waited at most {timeout:g} s)"
