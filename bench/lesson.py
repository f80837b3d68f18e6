"""The floor rnnexp is measured against: the lesson's own code, bare.

Imports TensorFlow, one-hot encodes the batch of three words, builds the
SimpleRNN layer, runs it once and prints the tensors, as the lesson does.

    python bench/lesson.py                 # hidden_size 2, (3, 5, 4) inputs
    python bench/lesson.py --sizes 1-16    # one layer per hidden size, one process
    python bench/lesson.py --large         # bench/large_data.py, hidden_size 256
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np

VOCAB = ["h", "e", "l", "o"]
WORDS = ["hello", "eolll", "lleel"]


def one_hot(vocab, words):
    index = {c: i for i, c in enumerate(vocab)}
    eye = np.eye(len(vocab), dtype=np.float32)
    return np.array([[eye[index[c]] for c in w] for w in words], dtype=np.float32)


def sizes(text: str):
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=sizes, default=[2], help="hidden sizes, e.g. 2 or 1-16")
    parser.add_argument("--large", action="store_true", help="the large data, hidden_size 256")
    args = parser.parse_args(argv)

    vocab, words, hidden_sizes = VOCAB, WORDS, args.sizes
    if args.large:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from large_data import large_data

        (vocab, words), hidden_sizes = large_data(), [256]

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    X_data = one_hot(vocab, words)
    for hidden_size in hidden_sizes:
        rnn = tf.keras.layers.SimpleRNN(units=hidden_size, return_sequences=True, return_state=True)
        outputs, states = rnn(X_data)
        print("X_data: {}, shape: {}\n".format(X_data, X_data.shape))
        print("output: {}, shape: {}\n".format(outputs, outputs.shape))
        print("states: {}, shape: {}".format(states, states.shape))


if __name__ == "__main__":
    main()
