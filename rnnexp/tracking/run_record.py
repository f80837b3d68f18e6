"""One run's record as plain values: what it starts with (`RunStart`: name,
params, tags, parent) and what it adds while it runs (`RunResults`: files,
metrics, tags, pictures to draw, a model, its status). A recorder
(rnnexp.tracking.recorder) creates the run from the first and writes the
second in one piece when the run ends. `config_params` turns a config into
the params: flat, dotted, string-valued, within MLflow's limits. No MLflow
import here.
"""

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from rnnexp.store_uri import without_passwords
from rnnexp.tracking.tags import ERROR_TAG, error_text

RUNNING, FINISHED, FAILED, KILLED = "RUNNING", "FINISHED", "FAILED", "KILLED"

@dataclass(frozen=True)
class RunStart:
    name: str
    params: Dict[str, str]  # within MLflow's limits (rnnexp.tracking.run_record)
    tags: Dict[str, str]
    parent_id: Optional[str] = None  # a sweep's parent run: the run is nested under it


@dataclass(frozen=True)
class Render:
    """Files drawn where the run is written (the tracking worker, or here):
    `writer(folder / under, *args)`, `writer` a module-level function, `args`
    plain values (small: what the picture needs, not the run's tensors)."""

    writer: Callable[..., object]
    args: tuple
    under: str = ""  # a subfolder of the run's files, e.g. "plots"


@dataclass(frozen=True)
class SavedModel:
    """A model saved in MLflow's format (rnnexp.tracking.keras_model), to log
    as an MLflow LoggedModel that is an output of the run."""

    folder: Path
    step: int  # the run's metrics at this step are linked to the model


@dataclass
class RunResults:
    folder: Path  # files to log as the run's artifacts, keeping their layout
    metrics: List[Tuple[str, float, int, int]] = field(default_factory=list)  # key, value, ms, step
    tags: Dict[str, str] = field(default_factory=dict)
    renders: List[Render] = field(default_factory=list)
    model: Optional[SavedModel] = None
    status: str = RUNNING


class RunRecord:
    """A run in progress: the job adds to it; its recorder writes it at the end.

    Args:
        start: what the run was created with.
        run_id: its MLflow id, or a callable that gives it (a background
            recorder's worker creates the run while this process goes on).
    """

    def __init__(self, start: RunStart, run_id):
        self.start = start
        self.results = RunResults(folder=Path(tempfile.mkdtemp(prefix="rnnexp-run-")))
        self._run_id = run_id
        self.handle = None  # a BackgroundRecorder's number for it, while its worker has it
        self.written: Optional[Dict[str, str]] = None  # once written: what writing made (a model's URI)
        self.write_error: Optional[str] = None  # why a background worker could not write it

    @property
    def run_id(self) -> str:
        """The run's MLflow id (may wait for a background recorder's worker)."""
        if callable(self._run_id):
            self._run_id = self._run_id()
        return self._run_id

    @property
    def folder(self) -> Path:
        """Where the run's artifact files go, before they are logged."""
        return self.results.folder

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        now = int(time.time() * 1000)
        self.results.metrics += [(key, float(value), now, step) for key, value in metrics.items()]

    def log_series(self, series: Mapping[str, Sequence[float]], first_step: int = 1) -> None:
        """Each named list of values as one metric whose steps count up from
        `first_step` (a loss per epoch: the UI draws the curve)."""
        now = int(time.time() * 1000)
        self.results.metrics += [(key, float(value), now, first_step + i)
                                 for key, values in series.items() for i, value in enumerate(values)]

    def set_tags(self, tags: Mapping[str, str]) -> None:
        self.results.tags.update({key: str(value) for key, value in tags.items()})

    def render(self, writer: Callable[..., object], *args, under: str = "") -> None:
        """Has `writer(folder / under, *args)` write files into the record where it is written."""
        self.results.renders.append(Render(writer, args, under))

    def add_folder(self, source: Path, under: str) -> None:
        """Copies `source` (as it is now) into the record's files, as `under/`,
        with any password in a URI of its YAML files masked (Hydra's .hydra/
        holds the overrides as typed)."""
        shutil.copytree(source, self.folder / under, dirs_exist_ok=True)
        for path in (self.folder / under).rglob("*.yaml"):
            text = path.read_text(encoding="utf-8", errors="replace")
            if without_passwords(text) != text:
                path.write_text(without_passwords(text), encoding="utf-8")

    def log_model(self, model: SavedModel) -> None:
        self.results.model = model

    def end(self, error: Optional[BaseException]) -> None:
        """Sets the status the run earned: FINISHED without an error, KILLED
        for an interrupt (KeyboardInterrupt, SystemExit), FAILED otherwise,
        with the error as the `rnnexp.error` tag."""
        if error is None:
            self.results.status = FINISHED
            return
        self.results.status = KILLED if isinstance(error, (KeyboardInterrupt, SystemExit)) else FAILED
        self.results.tags[ERROR_TAG] = error_text(error)

    def model_folder(self) -> Path:
        """A new folder, beside the run's files, to save its model into."""
        return self.folder.with_name(f"{self.folder.name}-model")

    def discard_files(self) -> None:
        """Deletes the run's files and model folder, once written."""
        shutil.rmtree(self.folder, ignore_errors=True)
        shutil.rmtree(self.model_folder(), ignore_errors=True)


# MLflow rejects a param value over 6000 characters (MAX_PARAM_VAL_LENGTH) and a
# log_batch call with over 100 params (MAX_PARAMS_TAGS_PER_BATCH).
MAX_PARAM_VALUE = 6000
MAX_PARAMS_PER_BATCH = 100
TRUNCATION_MARKER = "...[truncated; full value in config.yaml]"
GENERATED_MARKER = "...[truncated; full text in generated.txt]"  # the rnnexp.generated tag's


def cut(text: str, marker: str = TRUNCATION_MARKER, limit: int = MAX_PARAM_VALUE) -> str:
    """`text` if it has at most `limit` characters, else its start and `marker`, `limit` in all."""
    return text if len(text) <= limit else text[: limit - len(marker)] + marker


def flatten(node: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    """{"data": {"vocab": [...]}} -> {"data.vocab": [...]}; lists stay whole."""
    flat = {}
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def param_value(value: Any) -> str:
    """A param's string form: JSON for lists (so ["1"] and [1] differ), str
    otherwise, cut to MLflow's limit with a marker that says where the rest is."""
    return cut(json.dumps(value) if isinstance(value, (list, tuple)) else ("null" if value is None else str(value)))


def config_params(config: Mapping[str, Any], choices: Mapping[str, str]) -> Dict[str, str]:
    """The params of one run.

    Args:
        config: the resolved config as plain containers, without the `hydra` node.
        choices: the config-group choices (e.g. {"data": "hello_batch"}), logged
            as plain keys; a dotted key of the config wins over a choice of the
            same name (`api`, `rnn` are both).

    Returns:
        key -> string value, each within MLflow's length limit.
    """
    params = {key: param_value(value) for key, value in choices.items() if value is not None}
    params.update({key: param_value(value) for key, value in flatten(config).items()})
    return params
