"""The typed config: what a run is, as dataclasses that check their own values.

Hydra composes the YAML of `rnnexp/conf/` against these classes
(rnnexp.config.compose registers them), so a wrong type (`hidden_size=two`)
fails while composing; `OmegaConf.to_object` then builds a `Config`, whose
`__post_init__` runs the checks a type cannot express, each beside its field,
raising ConfigError (key, value, expectation). A `Config` built by hand, in a
notebook, is checked the same way. Every layer receives this object or a part
of it; nothing else holds the settings or their defaults.

Standard library only, so that a config error is reported before NumPy,
TensorFlow or MLflow is imported.
"""

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Optional, Sequence

from rnnexp.config.data_schema import MISSING, DataConfig  # noqa: F401
from rnnexp.config.limits import check_experiment_name, check_memory, check_seed, check_tracking_uri
from rnnexp.config.value_checks import (  # noqa: F401
    check_data,
    check_fraction,
    check_over_vocab,
    check_positive_int,
    check_trainable,
    check_vocab,
    check_windows,
    text_vocab,
    validation_start,
)
from rnnexp.errors import ConfigError


class Api(str, Enum):
    """How the recurrent network is built (the lesson's two approaches)."""

    cell = "cell"  # keras.layers.RNN(<Cell>(units)): a cell does one step, RNN loops it
    layer = "layer"  # keras.layers.SimpleRNN / LSTM / GRU


class Rnn(str, Enum):
    """Which recurrent cell."""

    simple_rnn = "simple_rnn"
    lstm = "lstm"
    gru = "gru"


class Task(str, Enum):
    """What a run does with the configured RNN."""

    forward = "forward"  # the lesson's forward pass: build the seeded RNN, run it once
    train = "train"  # learn to predict each next character (rnnexp.core.training), then generate
    generate = "generate"  # generate text with a model an earlier run logged (generate.model_uri)


@dataclass
class GenerateConfig:
    """Free-running generation: after `task=train`, or by `task=generate` from
    the model an earlier run logged. The prompt is fed in, then each
    generated character is fed back with the recurrent state carried
    (rnnexp.core.generation)."""

    # Characters over the vocabulary to start from; null: the first character
    # of the first sequence (or of the text file).
    prompt: Optional[str] = None
    length: int = 20  # characters to add after the prompt
    temperature: float = 0.0  # 0: the most probable character; > 0: sample from softmax(logits / T)
    # task=generate: the logged model, models:/<model id> or runs:/<run id>/<path>.
    model_uri: Optional[str] = None

    def check(self, task: "Task") -> None:
        check_positive_int("generate.length", self.length)
        if self.prompt is not None and (not isinstance(self.prompt, str) or not self.prompt):
            raise ConfigError("generate.prompt", self.prompt, "a non-empty string, or null for the default")
        temperature = self.temperature
        if (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                or not math.isfinite(temperature) or temperature < 0):
            raise ConfigError("generate.temperature", temperature, "a finite number >= 0")
        uri = self.model_uri
        if task is Task.generate and not (isinstance(uri, str) and uri.startswith(("models:/", "runs:/"))):
            raise ConfigError("generate.model_uri", uri, "a logged model's URI, models:/<model id> or "
                              "runs:/<run id>/<path>", "task=generate generates with a model an earlier run logged")
        if task is not Task.generate and uri is not None:
            raise ConfigError("generate.model_uri", uri, "null unless task=generate",
                              "task=train generates with the model it trains")

    def check_prompt(self, vocab: Sequence[str], vocab_name: str = "data.vocab") -> None:
        """Raises ConfigError unless the prompt (if given) is over `vocab`."""
        if self.prompt is not None:
            check_over_vocab("generate.prompt", self.prompt, vocab, vocab_name)


# train.optimizer option -> Keras optimizer class name (rnnexp.core.next_char builds it).
OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop",
              "adagrad": "Adagrad", "nadam": "Nadam"}


@dataclass
class TrainConfig:
    """Settings of `task=train`, checked only when training. The defaults take
    `data=hihello` to accuracy 1.0 with the lesson's SimpleRNN of
    hidden_size=2 for every seed tried (0-29); Adam at the same rate left 2
    seeds in 10 stuck (docs/training.md)."""

    epochs: int = 300
    optimizer: str = "rmsprop"  # a key of OPTIMIZERS
    learning_rate: float = 0.1
    batch_size: int = 32  # sequences per gradient step; reshuffled every epoch

    def check(self) -> None:
        check_positive_int("train.epochs", self.epochs)
        check_positive_int("train.batch_size", self.batch_size)
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError("train.optimizer", self.optimizer, f"one of {sorted(OPTIMIZERS)}")
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
            raise ConfigError("train.learning_rate", rate, "a positive finite number")


@dataclass
class MlflowConfig:
    # None: MLflow's own default (MLFLOW_TRACKING_URI, else sqlite:///mlflow.db
    # in the working folder, which `mlflow ui` started there reads).
    tracking_uri: Optional[str] = None
    experiment_name: str = "rnnexp"  # created if missing

    def check(self) -> None:
        check_tracking_uri(self.tracking_uri)
        check_experiment_name(self.experiment_name)


@dataclass
class PlotsConfig:
    # Per run plots/states.png (hidden states, and an LSTM's cell state, as a
    # heatmap and as lines); per sweep the parent's sweep_summary.png.
    enabled: bool = True
    # How many of the batch's sequences a run's plot shows (the first ones).
    max_sequences: int = 4

    def check(self) -> None:
        check_positive_int("plots.max_sequences", self.max_sequences)


@dataclass
class ConsoleConfig:
    # What a run prints of its tensors (inputs, outputs, states with their
    # shapes): None (the default) prints them for a single run and not for a
    # sweep's points, which print one line each; true always, false never.
    tensors: Optional[bool] = None


@dataclass
class DynamicsConfig:
    """What a run records of its recurrence as a dynamical system
    (rnnexp.core.dynamics, docs/dynamics.md)."""

    # Every run: dynamics.grad_norm (||ds_T/ds_(T-k)|| for k = 1..T), the
    # spectral radii and check.dynamics_max_rel_err; false to skip them.
    gradients: bool = True
    # task=train: the trained cell's fixed points per token (dynamics/fixed_points.json).
    fixed_points: bool = False
    max_sequences: int = 32  # the gradients are computed on the batch's first sequences
    starts: int = 64  # starting states per token for the fixed-point search
    noise: float = 0.1  # the starts: visited states plus noise of this std (times the states' std)

    def check(self, task: "Task") -> None:
        for key in ("gradients", "fixed_points"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"dynamics.{key}", getattr(self, key), "true or false")
        check_positive_int("dynamics.max_sequences", self.max_sequences)
        check_positive_int("dynamics.starts", self.starts)
        noise = self.noise
        if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not math.isfinite(noise) or noise < 0:
            raise ConfigError("dynamics.noise", noise, "a finite number >= 0")
        if self.fixed_points and task is not Task.train:
            raise ConfigError("dynamics.fixed_points", self.fixed_points, "false unless task=train",
                              "fixed points are searched in a trained cell")


@dataclass
class Config:
    task: Task = Task.forward
    hidden_size: int = 2  # units H of the RNN
    # L recurrent layers stacked: layer l+1 reads layer l's outputs at every step.
    num_layers: int = 1
    # Each layer runs forward and backward in time (keras.layers.Bidirectional),
    # its outputs concatenated, forward first: D = 2 directions.
    bidirectional: bool = False
    seed: int = 0  # decides the initial weights (and training's shuffling)
    api: Api = Api.layer
    rnn: Rnn = Rnn.simple_rnn
    data: DataConfig = field(default_factory=DataConfig)
    # Used by task=train only; a forward run neither checks nor records them.
    train: TrainConfig = field(default_factory=TrainConfig)
    # Used by task=train and task=generate.
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)
    plots: PlotsConfig = field(default_factory=PlotsConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    # true: skip a run (or sweep point) that already FINISHED in this
    # experiment with the same config and code (rnnexp.tracking.tags).
    resume: bool = False

    @property
    def directions(self) -> int:
        """D: 2 for a bidirectional RNN, else 1."""
        return 2 if self.bidirectional else 1

    def __post_init__(self) -> None:
        """Checks every value, in the order the keys are listed above; an
        option given as a string (`api="cell"`, from Python) becomes its Enum."""
        for key, kind in (("task", Task), ("api", Api), ("rnn", Rnn)):
            try:
                setattr(self, key, kind(getattr(self, key)))
            except ValueError:
                raise ConfigError(key, getattr(self, key), f"one of {[option.value for option in kind]}") from None
        check_positive_int("hidden_size", self.hidden_size)
        check_positive_int("num_layers", self.num_layers)
        if not isinstance(self.bidirectional, bool):
            raise ConfigError("bidirectional", self.bidirectional, "true or false")
        check_seed(self.seed)
        self.mlflow.check()
        self.plots.check()
        self.dynamics.check(self.task)
        if self.task is Task.generate:  # the model, its vocabulary and data are the source run's
            self.generate.check(self.task)
            return
        self.data.check()
        sequences, vocab = self.data.sequences, self.data.vocab  # a text file's windows are batched: weights count
        steps = len(sequences) * max(map(len, sequences)) if sequences not in (None, MISSING) else 0
        check_memory(self.rnn.value, self.hidden_size, len(vocab) if vocab not in (None, MISSING) else 0, steps,
                     self.num_layers * self.directions)
        if self.task is Task.forward and self.data.text_file is not None:
            raise ConfigError("data.text_file", self.data.text_file, "null for task=forward",
                              "a text file is cut into windows to train on: task=train")
        if self.task is Task.train:
            if self.bidirectional:
                raise ConfigError("bidirectional", True, "false for task=train",
                                  "a backward direction reads the very characters the model learns to predict")
            self.train.check()
            if self.data.text_file is None:
                check_trainable(self.data.sequences)
            self.generate.check(self.task)
            if self.data.vocab not in (None, MISSING):
                self.generate.check_prompt(self.data.vocab)
