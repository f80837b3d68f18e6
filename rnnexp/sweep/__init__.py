"""Sweeps (`-m`): one MLflow parent run per sweep, one child run per point.

- `callback`: Hydra's callback that checks every point first and opens and
  ends the parent run;
- `points`, `compose`: a sweep's points expanded, composed once each
  (cheaply, through Hydra's public API) and checked;
- `parent`: the parent run, its status and the comparison of its points;
- `handoff`: how a job, under any launcher, finds its sweep's parent.

rnnexp's sweeper and launcher plugins, which run the points as composed
here, live in hydra_plugins/rnnexp_plugins (where Hydra looks for plugins).
May import Hydra, rnnexp.config, rnnexp.tracking, rnnexp.record and, to
preload TensorFlow, rnnexp.core.keras_rnn.
"""
