"""The typed config.

- `schema`: the dataclasses that say what a run is, each checking its own
  values (with `value_checks`, the checks of single values); standard
  library only, so every layer may import it;
- `text_file`: reading and checking `data.text_file` (standard library only),
  so that a bad file is a ConfigError before TensorFlow loads;
- `compose`: the schema registered with Hydra, the shipped YAML
  (`rnnexp/conf/`), and `compose()`/`to_config()` from overrides to a `Config`;
- `job_context`: what a running Hydra job knows of itself (its overrides,
  group choices and folders);
- `typed_overrides`: text values kept as typed or refused; `long_lists`: the
  line the CLI prints before Hydra composes a long command-line list.

`compose` and `job_context` import Hydra and OmegaConf; nothing here imports
NumPy, TensorFlow or MLflow. This file imports nothing, so that importing
`rnnexp.config.schema` costs only the schema.
"""
