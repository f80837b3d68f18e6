"""What a run leaves behind, without MLflow: the files of its record (the
artifact layout, docs/artifacts.md), its pictures and what it prints.

- `forward_files`: shapes, tensors, weights, config and the states table;
- `training_files`: a training run's tables and loss curve;
- `generated_text`: generated.txt and its printout;
- `plots`, `state_figure`: the state plot of a run, the summary of a sweep;
- `dynamics_plots`: the gradient flow and fixed points of a run, and of a sweep;
- `backdrop`: a kept figure saved again with only what changed drawn;
- `comparison`: the table of a set of runs (a sweep's, or `rnnexp.compare`'s);
- `console`: the lesson's printout of a run.

Writers take a folder and plain values (arrays, strings), so that a run's
files can be written wherever it is recorded (rnnexp.tracking). May import
NumPy, pandas, matplotlib, rnnexp.core, rnnexp.config.schema and the tag names
of rnnexp.tracking.tags; never MLflow or Hydra.
"""
