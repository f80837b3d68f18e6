"""What a sweep point of rnnexp records, written plainly with the same
libraries: a Hydra app whose job builds the lesson's SimpleRNN, checks it
(the other Keras API, a NumPy recurrence, one-step Jacobians by autodiff
against the analytic ones), draws the state and gradient pictures and records
the run in MLflow (params, metrics, the grad-norm curve, tags, the tensors,
weights, pictures and Hydra's files). No rnnexp import.

It tells what the work costs in Hydra, Keras, matplotlib and MLflow
themselves, beside the bare lesson (bench/lesson.py), which records nothing:

    python bench/same_work.py 'hidden_size=range(1,65)' -m
"""

import atexit
import json
import os
import random
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import hydra
import numpy as np
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf


@dataclass
class Data:
    vocab: List[str] = field(default_factory=lambda: ["h", "e", "l", "o"])
    sequences: List[str] = field(default_factory=lambda: ["hello", "eolll", "lleel"])


@dataclass
class Conf:  # the parameters a forward run of rnnexp logs, with its defaults
    data_name: str = "hello_batch"
    rnn: str = "simple_rnn"
    api: str = "layer"
    task: str = "forward"
    hidden_size: int = 2
    num_layers: int = 1
    bidirectional: bool = False
    seed: int = 0
    data: Data = field(default_factory=Data)
    tracking_uri: Optional[str] = None
    experiment_name: str = "same_work"
    plots_enabled: bool = True
    plots_max_sequences: int = 4
    console_tensors: Optional[bool] = None
    dynamics_gradients: bool = True
    dynamics_fixed_points: bool = False
    dynamics_max_sequences: int = 32
    dynamics_starts: int = 64
    dynamics_noise: float = 0.1
    resume: bool = False


ConfigStore.instance().store(name="same_work", node=Conf)
_session = {}  # the process's client, experiment and parent run, made by its first job


def one_hot(vocab, words):
    eye = np.eye(len(vocab), dtype=np.float32)
    return np.array([[eye[vocab.index(c)] for c in w] for w in words], dtype=np.float32)


def numpy_states(x, kernel, recurrent, bias):
    """(B, T, H) float64 hidden states of tanh(x W + h U + b), h_0 = 0."""
    h = np.zeros((x.shape[0], recurrent.shape[0]))
    states = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ kernel + h @ recurrent + bias)
        states.append(h)
    return np.stack(states, axis=1)


def autodiff_jacobians(keras, tf, weights, x, s):
    """(N, H, H) ∂h_new/∂h of a float64 SimpleRNNCell at rows (x (N, V), s (N, H)), one tape."""
    size = s.shape[1]
    cell = keras.layers.SimpleRNNCell(size, dtype="float64", kernel_initializer="zeros",
                                      recurrent_initializer="zeros")
    cell.build((None, x.shape[1]))
    cell.set_weights([w.astype(np.float64) for w in weights])
    states, inputs = tf.constant(np.tile(s, (size, 1))), tf.constant(np.tile(x, (size, 1)))
    pick = tf.reshape(tf.eye(size, dtype=tf.float64), (size, 1, size))
    with tf.GradientTape() as tape:
        tape.watch(states)
        new, _ = cell(inputs, [states])
        chosen = tf.reduce_sum(tf.reshape(new, (size, len(s), size)) * pick)
    return tape.gradient(chosen, states).numpy().reshape(size, len(s), size).transpose(1, 0, 2)


def pictures(folder: Path, outputs, grad_norm, reference_norm, hidden: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(outputs), figsize=(3 * len(outputs), 3), squeeze=False)
    for b, ax in enumerate(axes[0]):
        image = ax.imshow(outputs[b].T, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
        ax.set(title=f"sequence {b}", xlabel="step", ylabel="unit")
    fig.colorbar(image, ax=axes[0].tolist())
    fig.suptitle(f"hidden states, hidden_size={hidden}")
    fig.savefig(folder / "states.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    k = np.arange(1, len(grad_norm) + 1)
    ax.semilogy(k, grad_norm, "o-", label="Keras autodiff")
    ax.semilogy(k, reference_norm, "x--", label="NumPy reference")
    ax.set(xlabel="k", ylabel="||ds_T/ds_(T-k)||", title=f"gradient flow, hidden_size={hidden}")
    ax.legend()
    fig.savefig(folder / "gradients.png", dpi=100)
    plt.close(fig)


def session(cfg: Conf):
    if not _session:
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=cfg.tracking_uri or "sqlite:///mlflow.db")
        found = client.get_experiment_by_name(cfg.experiment_name)
        experiment = found.experiment_id if found else client.create_experiment(cfg.experiment_name)
        parent = client.create_run(experiment, run_name="sweep").info.run_id
        atexit.register(client.set_terminated, parent, "FINISHED")
        _session.update(client=client, experiment=experiment, parent=parent)
    return _session["client"], _session["experiment"], _session["parent"]


@hydra.main(version_base=None, config_name="same_work")
def main(cfg) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf
    from mlflow.entities import Metric, Param, RunTag

    conf: Conf = OmegaConf.to_object(cfg)
    if not _session:
        keras.utils.set_random_seed(conf.seed)  # once: setting it again clears TensorFlow's kernel cache
    random.seed(conf.seed)
    np.random.seed(conf.seed)
    x, hidden = one_hot(conf.data.vocab, conf.data.sequences), conf.hidden_size
    layer = keras.layers.SimpleRNN(hidden, return_sequences=True, return_state=True)
    outputs, state_h = (np.asarray(t) for t in layer(x))
    weights = layer.get_weights()
    twin = keras.layers.RNN(keras.layers.SimpleRNNCell(hidden, kernel_initializer="zeros",
                                                       recurrent_initializer="zeros"),
                            return_sequences=True, return_state=True)
    twin.build(x.shape)
    twin.set_weights(weights)
    twin_outputs, twin_h = (np.asarray(t) for t in twin(x))
    states = numpy_states(x.astype(np.float64), *(w.astype(np.float64) for w in weights))
    checks = {"check.reference_max_abs_err": float(np.abs(states - outputs).max()),
              "check.api_parity_max_abs_err": float(max(np.abs(twin_outputs - outputs).max(),
                                                        np.abs(twin_h - state_h).max())),
              "check.last_output_state_max_abs_err": float(np.abs(outputs[:, -1] - state_h).max())}

    batch, steps, _ = x.shape
    previous = np.concatenate([np.zeros((batch, 1, hidden)), states[:, :-1]], axis=1)
    rows_x, rows_s = x.reshape(-1, x.shape[2]).astype(np.float64), previous.reshape(-1, hidden)
    autodiff = autodiff_jacobians(keras, tf, weights, rows_x, rows_s).reshape(batch, steps, hidden, hidden)
    analytic = (1 - states ** 2)[..., :, None] * weights[1].T[None, None]  # [b, t, i, j] = (1 - h_i²) U[j, i]
    norms, worst, product, reference_product = [], [], np.eye(hidden)[None], np.eye(hidden)[None]
    for k in range(1, steps + 1):
        product = product @ autodiff[:, steps - k]
        reference_product = reference_product @ analytic[:, steps - k]
        norms.append((np.linalg.norm(product, axis=(1, 2)).mean(),
                      np.linalg.norm(reference_product, axis=(1, 2)).mean()))
        worst.append(np.max(np.linalg.norm(product - reference_product, axis=(1, 2))
                            / np.linalg.norm(reference_product, axis=(1, 2))))
    norms = np.array(norms)
    metrics = {**checks, "check.dynamics_max_rel_err": float(max(worst)),
               "state_h_norm": float(np.linalg.norm(state_h, axis=-1).mean()),
               "dynamics.jacobian_spectral_radius": float(np.abs(np.linalg.eigvals(autodiff[:, -1])).max(-1).mean()),
               "dynamics.recurrent_spectral_radius": float(np.abs(np.linalg.eigvals(weights[1])).max())}

    client, experiment, parent = session(conf)
    name = f"hidden_size={hidden}"
    run_id = client.create_run(experiment, run_name=name, tags={"mlflow.parentRunId": parent}).info.run_id
    flat = {k: json.dumps(v) if isinstance(v, list) else v for k, v in _flatten(OmegaConf.to_container(cfg))}
    stamp = 0
    client.log_batch(run_id, params=[Param(k, str(v)) for k, v in flat.items()],
                     metrics=[Metric(k, v, stamp, 0) for k, v in metrics.items()]
                     + [Metric("dynamics.grad_norm", float(n), stamp, k + 1) for k, n in enumerate(norms[:, 0])],
                     tags=[RunTag("task", conf.task), RunTag("checks", "passed")])
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for part, arrays in (("tensors", {"inputs": x, "outputs": outputs, "state_h": state_h,
                                          "lengths": np.full(batch, steps)}),
                             ("weights", dict(zip(("kernel", "recurrent_kernel", "bias"), weights)))):
            (folder / part).mkdir()
            for key, array in arrays.items():
                np.save(folder / part / f"{key}.npy", array)
        (folder / "tables").mkdir()
        np.savetxt(folder / "tables" / "states.csv", outputs.reshape(-1, hidden), delimiter=",")
        (folder / "shapes.json").write_text(json.dumps({"outputs": outputs.shape, "state_h": state_h.shape}))
        (folder / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
        (folder / "plots").mkdir()
        pictures(folder / "plots", outputs[:conf.plots_max_sequences], norms[:, 0], norms[:, 1], hidden)
        shutil.copytree(Path(HydraConfig.get().runtime.output_dir) / ".hydra", folder / ".hydra")
        client.log_artifacts(run_id, str(folder))
    client.set_terminated(run_id, "FINISHED")
    print(f"{name}: ref {checks['check.reference_max_abs_err']:.1e}, dyn {max(worst):.1e}; run {run_id}")


def _flatten(tree, prefix=""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


if __name__ == "__main__":
    main()
