"""rnnexp: a configuration-driven experiment runner for Keras RNNs.

Data flows one way, and so do imports, layer by layer:

    config    the typed config (schema, composition with Hydra, job context)
    core      pure computation: encoding, cells, reference, checks, forward, training, generation
    record    a run's files, pictures and printout (no MLflow)
    tracking  MLflow: stores, run records, queries (the only MLflow importer)
    sweep     a sweep's points and its parent run (plugins: hydra_plugins/rnnexp_plugins)
    job.py, tasks/, cli.py, compare.py   a job end to end (each task's part in tasks/); the command lines

errors.py, interrupts.py, frozen_imports.py, mmap_threshold.py and store_uri.py are leaves
any layer may use.
tests/test_layers.py enforces who may import what.
"""

__version__ = "0.1.0"
