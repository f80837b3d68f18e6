"""Generation and text-file training in-process (imports TensorFlow): a model
whose weights are set by hand so that its greedy path is known, the carried
state against recomputing the whole prefix, seeded sampling, and training on
a text's windows with validation."""

import numpy as np
import pytest

from rnnexp.config.schema import Config, DataConfig, GenerateConfig, Rnn, Task, TrainConfig
from rnnexp.core import keras_rnn
from rnnexp.core.encoding import one_hot
from rnnexp.core.generation import generate, next_index
from rnnexp.core.keras_rnn import GRAPH_MIN_STEPS
from rnnexp.core.next_char import build_next_char_model

pytestmark = pytest.mark.slow

VOCAB = ("a", "b", "c", "d")


def delay_model():
    """A SimpleRNN whose next character is the one before the current one:
    units 0..3 hold the current character (kernel 3I), units 4..7 the one
    before (the recurrent kernel copies units 0..3 there), and the Dense layer
    reads units 4..7. Only a carried state knows the character before."""
    size = len(VOCAB)
    layer = keras_rnn.build_rnn("layer", "simple_rnn", 2 * size, seed=0)
    model = build_next_char_model(layer, size, "adam", 0.01)
    kernel = np.zeros((size, 2 * size), np.float32)
    kernel[:, :size] = 3 * np.eye(size)
    recurrent = np.zeros((2 * size, 2 * size), np.float32)
    recurrent[:size, size:] = 3 * np.eye(size)
    layer.set_weights([kernel, recurrent, np.zeros(2 * size, np.float32)])
    dense = np.zeros((2 * size, size), np.float32)
    dense[size:, :] = 10 * np.eye(size)
    model.layers[-1].set_weights([dense, np.zeros(size, np.float32)])
    return model


@pytest.mark.parametrize("prompt, length, expected", [
    ("ab", 6, "abababab"),  # after b comes a (the one before b), then b, ...
    ("cd", 4, "cdcdcd"),
    ("dab", 5, "dabababa"),
    ("a", 3, "aaaa"),  # one character: nothing before it, all logits 0, the first token
])
def test_greedy_generation_of_a_hand_set_model_follows_its_known_path(prompt, length, expected):
    assert generate(delay_model(), VOCAB, prompt, length) == expected


def test_the_state_is_carried_between_generated_characters():
    """Without the state, every step would see no character before it and
    say "a" ("abaaaaaa"); the model's own full-sequence output agrees with
    the carried one at every step."""
    model = delay_model()
    text = generate(model, VOCAB, "ab", 6)
    full = model.predict_on_batch(one_hot(VOCAB, [text[:-1]]).inputs)[0]  # (T, V), the whole text at once
    assert "".join(VOCAB[i] for i in full.argmax(-1)[1:]) == text[2:]


def random_model(rnn, api="layer", seed=3, num_layers=1):
    layer = keras_rnn.build_rnn(api, rnn, 6, seed=seed, num_layers=num_layers)
    model = build_next_char_model(layer, len(VOCAB), "adam", 0.01)
    model.predict_on_batch(one_hot(VOCAB, ["ab"]).inputs)  # builds it
    scale = np.random.default_rng(seed)
    model.set_weights([w + scale.normal(0, 1.5, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def recomputed(model, prompt, length, temperature, seed):
    """The reference: the whole prefix run from scratch for each character."""
    rng, text = np.random.default_rng(seed), prompt
    for _ in range(length):
        probabilities = model.predict_on_batch(one_hot(VOCAB, [text]).inputs)[0, -1]
        text += VOCAB[next_index(np.asarray(probabilities), temperature, rng)]
    return text


@pytest.mark.parametrize("rnn, api, temperature, length, num_layers", [
    ("lstm", "layer", 0.0, 24, 1), ("lstm", "layer", 1.0, GRAPH_MIN_STEPS, 1),
    ("gru", "cell", 0.0, GRAPH_MIN_STEPS, 1), ("gru", "cell", 1.0, 24, 1),
    ("simple_rnn", "layer", 0.0, GRAPH_MIN_STEPS + 4, 1), ("simple_rnn", "layer", 1.0, 24, 1),
    # stacks: one RNN over StackedRNNCells (cell API), or stacked layers, each layer's states carried
    ("lstm", "cell", 1.0, 24, 2), ("gru", "layer", 0.0, GRAPH_MIN_STEPS, 3),
])
def test_generation_with_the_carried_state_equals_recomputing_the_prefix(rnn, api, temperature, length, num_layers):
    """Eagerly below GRAPH_MIN_STEPS characters, as a tf.function from there on."""
    model = random_model(rnn, api, num_layers=num_layers)
    text = generate(model, VOCAB, "bad", length, temperature, seed=5)
    assert len(text) == 3 + length and text.startswith("bad")
    assert text == recomputed(model, "bad", length, temperature, seed=5)


def test_seeded_sampling_is_reproducible_and_the_seed_matters():
    model = random_model("lstm")
    first, again = (generate(model, VOCAB, "a", 40, 1.5, seed=0) for _ in range(2))
    other = generate(model, VOCAB, "a", 40, 1.5, seed=1)
    assert first == again and other != first
    assert len(set(first[1:])) > 1  # sampled, not one character over and over


@pytest.fixture(scope="module")
def text_runs():
    """Two trainings of one text-file config (it trains on windows and validates)."""
    from rnnexp.core.training import train

    text = "hello world, rnn basic! " * 12
    config = Config(task=Task.train, rnn=Rnn.gru, hidden_size=8, seed=2,
                    data=DataConfig(vocab=sorted(set(text)), sequences=None, text_file="t.txt", window=8, stride=2,
                                    val_fraction=0.2),
                    train=TrainConfig(epochs=3, optimizer="adam", learning_rate=0.02, batch_size=16),
                    generate=GenerateConfig(prompt="hel", length=10, temperature=0.5))
    return text, config, [train(config, text) for _ in range(2)]


def test_text_training_reports_validation_per_epoch_and_records_its_first_windows(text_runs):
    text, _, (result, _) = text_runs
    assert sorted(result.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(values) == 3 and np.isfinite(values).all() for values in result.history.values())
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.sequences == [text[s : s + 9] for s in range(0, 16, 2)]  # 8 windows of 8 steps + the next
    assert result.forward.tensors["inputs"].shape == (8, 8, 16) and result.data.targets.shape == (8, 8)
    assert 0 <= result.final["accuracy"] <= 1 and result.final["loss"] > 0
    assert len(result.generated) == 13 and result.generated.startswith("hel")


def test_text_training_is_reproducible(text_runs):
    _, _, (first, again) = text_runs
    assert first.history == again.history and first.generated == again.generated


def test_text_training_needs_the_text():
    from rnnexp.core.training import train

    config = Config(task=Task.train, data=DataConfig(vocab=["a", "b"], sequences=None, text_file="t.txt", window=2))
    with pytest.raises(ValueError, match="pass its text"):
        train(config)
