"""Free-running generation with a trained next-character model: the prompt is
fed in, then each generated character is fed back as the next input with the
recurrent state carried from the step before (one step of the trained RNN
layer per character, `initial_state` = the last states), not recomputed from
the whole prefix.

    text = generate(model, vocab, prompt="h", length=6)   # "hihello" for data=hihello

temperature 0 takes the most probable character (greedy); T > 0 samples from
softmax(logits / T) with a NumPy Generator seeded by `seed`, so the same seed
gives the same text.
"""

from typing import Sequence, Tuple

import numpy as np

from rnnexp.core.keras_rnn import keras_module


def model_parts(model) -> Tuple[object, object]:
    """The recurrent layer and the Dense softmax of a next-character model
    (rnnexp.core.next_char.build_next_char_model, or one loaded back)."""
    keras = keras_module()
    rnn = next(layer for layer in model.layers if isinstance(layer, keras.layers.RNN))
    return rnn, model.layers[-1]


def next_index(probabilities: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """The next character's index.

    Args:
        probabilities: (V,) the model's softmax output.
        temperature: 0 for the argmax; > 0 samples from softmax(log(p) / T)
            (the Dense layer's logits are log(p) up to a constant).
        rng: drawn from only when temperature > 0.
    """
    if temperature == 0:
        return int(np.argmax(probabilities))
    logits = np.log(np.clip(probabilities.astype(np.float64), 1e-30, 1.0)) / temperature
    weights = np.exp(logits - logits.max())
    return int(rng.choice(len(weights), p=weights / weights.sum()))


def generate(model, vocab: Sequence[str], prompt: str, length: int, temperature: float = 0.0,
             seed: int = 0) -> str:
    """The prompt and `length` characters generated after it.

    Args:
        model: a next-character keras.Model, (B, T, V) one-hot -> (B, T, V) probabilities.
        vocab: its V tokens, in one-hot order.
        prompt: a non-empty string over `vocab`; run through the RNN at once,
            (1, len(prompt), V), its final states carried on.
        length: characters to add; each is one step (1, 1, V) of the RNN from
            the states of the step before.
        temperature: 0 greedy, > 0 sampled (see `next_index`).
        seed: seeds the sampling's numpy.random.Generator.

    Returns:
        prompt + the generated characters.
    """
    rnn, head = model_parts(model)
    index = {token: i for i, token in enumerate(vocab)}
    rng = np.random.default_rng(seed)
    size = len(vocab)

    def one_hot(indices):
        inputs = np.zeros((1, len(indices), size), np.float32)
        inputs[0, np.arange(len(indices)), indices] = 1.0
        return inputs

    outputs, *states = rnn(one_hot([index[c] for c in prompt]))
    generated = []
    for step in range(length):
        probabilities = np.asarray(head(outputs[:, -1]), dtype=np.float32)[0]  # (V,)
        generated.append(next_index(probabilities, temperature, rng))
        if step < length - 1:
            outputs, *states = rnn(one_hot(generated[-1:]), initial_state=states)
    return prompt + "".join(vocab[i] for i in generated)
