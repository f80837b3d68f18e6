"""Writes a run record to MLflow with as few calls as MLflow allows: the run
created with its tags and params, then its results (metrics and tags in
`log_batch` calls, the files in one `log_artifacts`, the model, the status).

A run always ends honest: FINISHED, FAILED (the error as the `rnnexp.error`
tag) or KILLED, never left RUNNING by a write that failed halfway: whatever
could be written is, and the run then ends FAILED naming what could not.
"""

from functools import partial
from pathlib import Path
from typing import Dict, List, Mapping

from rnnexp.store_uri import without_passwords
from rnnexp.tracking.keras_model import log_saved_model
from rnnexp.tracking.run_record import FAILED, FINISHED, MAX_PARAMS_PER_BATCH, RUNNING, RunResults, RunStart
from rnnexp.tracking.tags import ERROR_TAG, MAX_TAG_CHARS, PARENT_TAG


class WriteFailed(RuntimeError):
    """Part of a record could not be drawn or written (the message says which)."""


MAX_ENTITIES_PER_BATCH = 1000  # MLflow's limits on one log_batch call: in all,
MAX_TAGS_PER_BATCH = 100  # of which tags (and params: MAX_PARAMS_PER_BATCH)


def create_run(client, experiment_id: str, start: RunStart) -> str:
    """Creates a RUNNING run with `start`'s name, tags and params; returns its id."""
    tags = {**start.tags, **({PARENT_TAG: start.parent_id} if start.parent_id else {})}
    tags = {key: without_passwords(str(value)) for key, value in tags.items()}
    run_id = client.create_run(experiment_id, run_name=without_passwords(start.name), tags=tags).info.run_id
    log_batches(client, run_id, params=start.params)
    return run_id


def write_results(client, experiment_id: str, run_id: str, results: RunResults,
                  params: Mapping[str, str]) -> Dict[str, str]:
    """Draws the record's pictures into its folder, then logs its metrics,
    tags, files and model to run `run_id`, and ends it with its status.

    Args:
        params: the run's params, copied to its logged model.

    Returns:
        What writing made that the caller may want to show: {"model_uri": ...}
        when the record has a model.

    Raises:
        WriteFailed: something could not be drawn or written; the run has
            then ended FAILED with that error, the rest written.
    """
    made = {}
    problems = _draw(results)
    for write in (lambda: log_batches(client, run_id, metrics=results.metrics, tags=results.tags),
                  lambda: _log_files(client, run_id, results.folder)):
        problems += _attempt(write)
    if results.model is not None:
        problems += _attempt(lambda: made.update(model_uri=log_saved_model(
            client, experiment_id, run_id, results.model, params, results.metrics)))
    status = FINISHED if results.status == RUNNING else results.status
    if problems:
        error = "; ".join(problems)
        previous = results.tags.get(ERROR_TAG)
        end_run(client, run_id, FAILED, f"{previous}; {error}" if previous else f"recording failed: {error}")
        raise WriteFailed(error)
    client.set_terminated(run_id, status)
    return made


def end_run(client, run_id: str, status: str, error: str) -> None:
    """Ends a run with `status` and `error` as its `rnnexp.error` tag."""
    log_batches(client, run_id, tags={ERROR_TAG: error[:MAX_TAG_CHARS]})
    client.set_terminated(run_id, status)


def log_batches(client, run_id: str, params: Mapping[str, str] = None, metrics=(),
                tags: Mapping[str, str] = None) -> None:
    """Logs params, metrics ((key, value, ms, step) tuples) and tags in as few
    `log_batch` calls as MLflow's limits allow."""
    from mlflow.entities import Metric, Param, RunTag

    params = [Param(k, without_passwords(v)) for k, v in (params or {}).items()]
    metrics = [Metric(key, value, ms, step) for key, value, ms, step in metrics]
    tags = [RunTag(k, without_passwords(str(v))) for k, v in (tags or {}).items()]
    while params or metrics or tags:
        batch_params, params = params[:MAX_PARAMS_PER_BATCH], params[MAX_PARAMS_PER_BATCH:]
        batch_tags, tags = tags[:MAX_TAGS_PER_BATCH], tags[MAX_TAGS_PER_BATCH:]
        room = MAX_ENTITIES_PER_BATCH - len(batch_params) - len(batch_tags)
        batch_metrics, metrics = metrics[:room], metrics[room:]
        client.log_batch(run_id, metrics=batch_metrics, params=batch_params, tags=batch_tags)


def _draw(results: RunResults) -> List[str]:
    problems = []
    for render in results.renders:
        folder = _subfolder(results.folder, render.under)
        problems += _attempt(partial(render.writer, folder, *render.args),
                             f"{render.writer.__module__}.{render.writer.__qualname__}")
    return problems


def _subfolder(folder: Path, under: str) -> Path:
    path = Path(folder) / under
    path.mkdir(parents=True, exist_ok=True)
    return path


def _log_files(client, run_id: str, folder: Path) -> None:
    if any(path.is_file() for path in Path(folder).rglob("*")):
        client.log_artifacts(run_id, str(folder))


def _attempt(call, what: str = "") -> List[str]:
    """[] if `call()` succeeds, else [its error as text]."""
    try:
        call()
    except Exception as error:  # noqa: BLE001  recorded on the run, raised by write_results
        return [f"{type(error).__name__}{f' in {what}' if what else ''}: {error}"]
    return []

