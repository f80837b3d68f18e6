"""Generation without TensorFlow: the generate.* settings and their checks,
task=generate's config, and choosing the next character (greedy, or sampled
from softmax(logits / T) with a seeded Generator)."""

import math

import numpy as np
import pytest

from rnnexp.config.compose import to_config
from rnnexp.config.schema import GenerateConfig, Task
from rnnexp.core.generation import next_index
from rnnexp.errors import ConfigError
from rnnexp.job import recorded_config


def test_the_defaults_are_in_the_schema(compose):
    config = to_config(compose(["task=train", "data=hihello"]))
    assert config.generate == GenerateConfig() == GenerateConfig(prompt=None, length=20, temperature=0.0,
                                                                 model_uri=None)


@pytest.mark.parametrize("overrides, key, value", [
    (["task=train", "generate.length=0"], "generate.length", 0),
    (["task=train", "generate.temperature=-0.5"], "generate.temperature", -0.5),
    (["task=train", "generate.temperature=inf"], "generate.temperature", math.inf),
    (["task=train", "generate.prompt=''"], "generate.prompt", ""),
    (["task=train", "data=hihello", "generate.prompt=hx"], "generate.prompt", "hx"),
    (["task=train", "generate.model_uri=models:/m-1"], "generate.model_uri", "models:/m-1"),
    (["task=generate"], "generate.model_uri", None),
    (["task=generate", "generate.model_uri=/tmp/model"], "generate.model_uri", "/tmp/model"),
    (["task=generate", "generate.model_uri=models:/m-1", "generate.length=-1"], "generate.length", -1),
    (["task=generate", "generate.model_uri=models:/m-1", "generate.prompt=''"], "generate.prompt", ""),
])
def test_bad_generate_settings_are_config_errors(compose, overrides, key, value):
    with pytest.raises(ConfigError) as caught:
        to_config(compose(overrides))
    assert (caught.value.key, caught.value.value) == (key, value)


def test_task_generate_needs_no_data_and_records_none(compose):
    cfg = compose(["task=generate", "generate.model_uri=models:/m-1", "data.vocab=[]"])  # data is not checked
    config = to_config(cfg)
    assert config.task is Task.generate and config.generate.model_uri == "models:/m-1"
    plain = recorded_config(cfg)
    assert set(plain) == {"task", "seed", "generate", "mlflow", "plots", "console", "resume"}


def test_greedy_takes_the_most_probable_character_and_draws_nothing():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert next_index(np.array([0.1, 0.6, 0.3], np.float32), 0.0, rng) == 1
    assert rng.bit_generator.state == state


def test_sampling_draws_from_the_tempered_softmax():
    """T = 1 samples p itself; T = 0.5 samples p**2 normalised (softmax of
    2 log p); the frequencies of 20000 draws are within 1.5 % of them."""
    p = np.array([0.5, 0.3, 0.2], np.float32)
    for temperature, expected in ((1.0, p), (0.5, p**2 / (p**2).sum()), (2.0, p**0.5 / (p**0.5).sum())):
        rng = np.random.default_rng(7)
        counts = np.bincount([next_index(p, temperature, rng) for _ in range(20000)], minlength=3)
        np.testing.assert_allclose(counts / 20000, expected, atol=0.015)


def test_sampling_is_reproducible_from_the_seed():
    p = np.full(10, 0.1, np.float32)

    def draws(seed):
        rng = np.random.default_rng(seed)
        return [next_index(p, 1.0, rng) for _ in range(50)]

    assert draws(3) == draws(3) and draws(3) != draws(4)


def test_the_generated_text_is_a_tag_cut_like_a_long_param_and_a_whole_file(compose, capsys):
    from rnnexp.tasks.generate import record_generated
    from rnnexp.tracking.run_record import GENERATED_MARKER, MAX_PARAM_VALUE, RunRecord, RunStart
    from rnnexp.tracking.tags import GENERATED_TAG

    config = to_config(compose(["task=train", "data=hihello", "generate.prompt=hi", "generate.length=9000"]))
    text = "hi" + "hello" * 1800  # 9002 characters
    run = RunRecord(RunStart("n", {}, {}), "run id")
    try:
        record_generated(run, config, text)
        tag = run.results.tags[GENERATED_TAG]
        assert len(tag) == MAX_PARAM_VALUE and tag.endswith(GENERATED_MARKER) and text.startswith(tag[:5000])
        assert (run.folder / "generated.txt").read_text(encoding="utf-8") == text
    finally:
        run.discard_files()
    assert "generated (greedy; prompt 'hi' + 9000 characters):\nhihello" in capsys.readouterr().out

    short = RunRecord(RunStart("n", {}, {}), "run id")
    try:
        record_generated(short, config, "hihello")
        assert short.results.tags[GENERATED_TAG] == "hihello"
    finally:
        short.discard_files()


def test_the_compare_table_has_a_generated_column_when_a_run_generated():
    from rnnexp.record.comparison import compare_table

    def run(name, tags):
        return {"run_id": name, "name": name, "status": "FINISHED", "params": {"generate.temperature": name},
                "metrics": {"loss": 0.1}, "tags": tags}

    table = compare_table([run("0.0", {"rnnexp.generated": "hihello"}), run("1.0", {"rnnexp.generated": "hiell"})])
    assert table["generated"].tolist() == ["hihello", "hiell"] and table.columns[-2:].tolist() == ["generated",
                                                                                                 "status"]
    assert "generated" not in compare_table([run("0.0", {}), run("1.0", {})]).columns


def test_resume_tells_text_files_apart_by_their_contents():
    from rnnexp.tracking.tags import CONFIG_HASH_TAG, TEXT_HASH_TAG, identity_tags

    plain = {"task": "train", "data": {"text_file": "corpus.txt"}}
    first, same, edited = (identity_tags(plain, text) for text in ("abcabc", "abcabc", "abcabd"))
    assert first == same and first[TEXT_HASH_TAG] != edited[TEXT_HASH_TAG]
    assert first[CONFIG_HASH_TAG] == edited[CONFIG_HASH_TAG]  # the config names the path only
    assert TEXT_HASH_TAG not in identity_tags(plain)
