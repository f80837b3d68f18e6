"""Tracking: the only part of rnnexp that imports MLflow (always inside
functions, so that importing these modules costs nothing).

- `tags`: every tag name, and the tags that identify a run for resume;
- `run_record`: a run's record as plain values (start, results, params);
- `store`: probing and opening a store (client, experiment);
- `writer`, `keras_model`: writing a record with MLflow's batch calls, a
  trained model as a LoggedModel (and loading one back for task=generate);
- `queries`: what is read back (a sweep's points, finished runs);
- `recorder`, `background`, `worker`, `protocol`: recording in this process,
  or through a worker process that the CLI starts; links into MLflow's UI.

May import rnnexp.errors, rnnexp.interrupts and rnnexp.frozen_imports, never
rnnexp.core, rnnexp.record, rnnexp.sweep or Hydra.
"""

import os

# MLflow's INFO lines (creating a store's tables, ...) are quiet unless the
# user asks with MLflow's own switch; set before any of these modules imports
# MLflow, in the CLI's process and in the tracking worker's.
os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
