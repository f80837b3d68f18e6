"""The three recurrent cells: the Keras classes that build each (as a layer,
or as a cell that `keras.layers.RNN` loops) and the states each returns."""

from dataclasses import dataclass
from typing import Tuple

from rnnexp.config.schema import Rnn


@dataclass(frozen=True)
class Cell:
    layer: str  # the Keras layer class, e.g. "LSTM"
    cell: str  # the Keras cell class, e.g. "LSTMCell"
    states: Tuple[str, ...]  # what the layer returns after its outputs, in order
    gates: int  # G: the kernel has G*H columns, one block of H per gate


CELLS = {
    Rnn.simple_rnn: Cell("SimpleRNN", "SimpleRNNCell", ("state_h",), 1),
    Rnn.lstm: Cell("LSTM", "LSTMCell", ("state_h", "state_c"), 4),  # gates i, f, c, o
    Rnn.gru: Cell("GRU", "GRUCell", ("state_h",), 3),  # gates z, r, h; reset_after=True
}
STATE_NAMES = {rnn: cell.states for rnn, cell in CELLS.items()}
DIRECTIONS = ("forward", "backward")  # a bidirectional layer's two, in Keras's (and PyTorch's) order


def cell_of(rnn) -> Cell:
    """The Cell of `rnn` (an Rnn or its name).

    Raises:
        ValueError: naming the argument, the value and the choices.
    """
    try:
        return CELLS[Rnn(rnn)]
    except ValueError:
        raise ValueError(f"rnn={rnn!r}: expected one of {sorted(r.value for r in Rnn)}") from None
