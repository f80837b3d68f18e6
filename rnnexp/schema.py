"""The typed configuration schema, registered in Hydra's ConfigStore.

`conf/config.yaml` lists `rnnexp_schema` first in its defaults, so every value
composed from YAML or the command line is checked against these types when the
config is composed: `hidden_size=two` fails there, before any code runs, and
`data.vocab=[a,1]` yields the string token "1".
"""

from dataclasses import dataclass, field
from enum import Enum
from typing import List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


class Api(str, Enum):
    """How the recurrent network is built (the lesson's two approaches)."""

    cell = "cell"  # keras.layers.RNN(<Cell>(units)): a cell does one step, RNN loops it
    layer = "layer"  # keras.layers.SimpleRNN / LSTM / GRU


class Task(str, Enum):
    """What a run does with the configured RNN."""

    forward = "forward"  # the lesson's forward pass: build the seeded RNN, run it once
    train = "train"  # learn to predict each next character (rnnexp.training)


class Rnn(str, Enum):
    """Which recurrent cell."""

    simple_rnn = "simple_rnn"
    lstm = "lstm"
    gru = "gru"


@dataclass
class DataConfig:
    # Single-character tokens; a token's one-hot position is its index here.
    vocab: List[str] = MISSING
    # Strings over the vocabulary, one per batch row.
    sequences: List[str] = MISSING


# train.optimizer option -> Keras optimizer class name. rnnexp.validation
# checks names against it before Keras is imported; rnnexp.model builds them.
OPTIMIZERS = {
    "adam": "Adam",
    "adamw": "AdamW",
    "sgd": "SGD",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "nadam": "Nadam",
}


@dataclass
class TrainConfig:
    """Settings of `task=train`; validated in rnnexp.validation. The defaults
    take `data=hihello` to accuracy 1.0 with the lesson's SimpleRNN of
    hidden_size=2 for every seed tried (0-29); Adam at the same rate left 2
    seeds in 10 stuck (README, "Training")."""

    epochs: int = 300
    # A Keras optimizer by name; OPTIMIZERS above lists those accepted.
    optimizer: str = "rmsprop"
    learning_rate: float = 0.1
    # Sequences per gradient step; the batches are reshuffled every epoch.
    batch_size: int = 32


@dataclass
class MlflowConfig:
    # None: MLflow's own default (MLFLOW_TRACKING_URI, else sqlite:///mlflow.db
    # in the working folder, which `mlflow ui` started there reads).
    tracking_uri: Optional[str] = None
    experiment_name: str = "rnnexp"


@dataclass
class PlotsConfig:
    # Per run, plots/states.png (hidden states, and the LSTM cell state, as a
    # heatmap and as lines); per sweep, the parent's sweep_summary.png.
    enabled: bool = True
    # How many of the batch's sequences a run's plot shows (the first ones).
    max_sequences: int = 4


@dataclass
class Config:
    task: Task = Task.forward
    hidden_size: int = 2
    seed: int = 0
    api: Api = Api.layer
    rnn: Rnn = Rnn.simple_rnn
    data: DataConfig = field(default_factory=DataConfig)
    # Used by task=train only; a forward run does not record them.
    train: TrainConfig = field(default_factory=TrainConfig)
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)
    plots: PlotsConfig = field(default_factory=PlotsConfig)
    # true: skip a run (or sweep point) that already FINISHED in this experiment
    # with the same resolved config and code version (see rnnexp/resume.py).
    resume: bool = False


def register_configs() -> None:
    """Registers the schema under the name `rnnexp_schema` (idempotent)."""
    ConfigStore.instance().store(name="rnnexp_schema", node=Config)


register_configs()
