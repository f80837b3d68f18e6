"""Pure computation: plain values in, plain results out; no Hydra, no
MLflow, no files, so that all of it works from a notebook.

- `encoding`: one-hot batches (B, T, V) with padding and mask;
- `cells`, `keras_rnn`: the Keras RNN built both of the lesson's ways (one
  layer, or a stacked and bidirectional `RecurrentStack`), run;
- `reference`: the same recurrences in NumPy, the trusted definition;
- `checks`: Keras's numbers against the reference and the other API;
- `forward`: the lesson's forward pass, checked (`run_forward`);
- `next_char`, `training`: the next-character classifier, trained (`train`);
- `text_windows`, `window_batches`: a text cut into windows as index arrays,
  and their one-hot batches as a `keras.utils.PyDataset`;
- `generation`: the trained model run free, its state carried (`generate`).

May import NumPy, Keras/TensorFlow, rnnexp.config.schema, rnnexp.errors and
rnnexp.frozen_imports; nothing else of rnnexp (tests/test_layers.py).
"""
