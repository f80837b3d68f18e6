"""Free-running generation with a trained next-character model: the prompt is
run through the trained RNN layer once, then each generated character is fed
back as the next input with the recurrent state carried from the step before
(one call of the layer's cell per character, with the last states), not
recomputed from the whole prefix. From GRAPH_MIN_STEPS characters on, the
step runs as a `tf.function` (traced once, about 0.2-0.4 s; then 2-4 ms a
step instead of tens of milliseconds eagerly).

    text = generate(model, vocab, prompt="h", length=6)   # "hihello" for data=hihello

temperature 0 takes the most probable character (greedy); T > 0 samples from
softmax(logits / T) with a NumPy Generator seeded by `seed`, so the same seed
gives the same text.
"""

from typing import List, Sequence, Tuple

import numpy as np

from rnnexp.core.keras_rnn import GRAPH_MIN_STEPS, keras_module


def model_parts(model) -> Tuple[List[object], object]:
    """The recurrent layers, bottom first (one, or num_layers stacked; a cell
    API stack is one RNN over StackedRNNCells), and the Dense softmax of a
    next-character model (rnnexp.core.next_char.build_next_char_model, or one loaded back)."""
    keras = keras_module()
    return [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)], model.layers[-1]


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
        prompt: a non-empty string over `vocab`; run through the RNN layer at
            once, (1, len(prompt), V), its final states carried on.
        length: characters to add; each is one step of the layer's cell,
            inputs (1, V), from the states (1, H) each of the step before.
        temperature: 0 greedy, > 0 sampled (see `next_index`).
        seed: seeds the sampling's numpy.random.Generator.

    Returns:
        prompt + the generated characters.
    """
    rnns, head = model_parts(model)
    index = {token: i for i, token in enumerate(vocab)}
    rng = np.random.default_rng(seed)
    size = len(vocab)

    def step(inputs, states):  # (1, V) and each layer's states (1, H) each -> (1, V) probabilities, the next states
        carried = []
        for rnn, layer_states in zip(rnns, states):
            inputs, layer_states = rnn.cell(inputs, layer_states)
            carried.append(list(layer_states))
        return head(inputs), carried

    if length >= GRAPH_MIN_STEPS:
        import tensorflow as tf

        step = tf.function(step)
    prompt_inputs = np.zeros((1, len(prompt), size), np.float32)
    prompt_inputs[0, np.arange(len(prompt)), [index[c] for c in prompt]] = 1.0
    outputs, states = prompt_inputs, []
    for rnn in rnns:  # (1, P, H) and each layer's states after the prompt
        outputs, *layer_states = rnn(outputs)
        states.append(layer_states)
    probabilities = head(outputs[:, -1])
    generated = []
    for number in range(length):
        generated.append(next_index(np.asarray(probabilities, dtype=np.float32)[0], temperature, rng))
        if number < length - 1:
            fed_back = np.zeros((1, size), np.float32)
            fed_back[0, generated[-1]] = 1.0
            probabilities, states = step(fed_back, states)
    return prompt + "".join(vocab[i] for i in generated)
