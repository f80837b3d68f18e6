"""Generation in a job: the text a training run generates, recorded, and
`task=generate`, which generates with a model an earlier run logged
(`generate.model_uri`), without training, and records its own run: params,
the text, the source model and its run as tags.

    python -m rnnexp task=generate generate.model_uri=models:/m-... generate.prompt=h generate.length=6
"""

import dataclasses
from typing import Optional

from rnnexp.config.job_context import JobContext
from rnnexp.config.schema import Config
from rnnexp.tracking import tags as t
from rnnexp.tracking.run_record import (
    GENERATED_MARKER,
    RunRecord,
    RunStart,
    cut,
    param_value,
)


def record_generated(run: RunRecord, config: Config, text: str, config_yaml: Optional[str] = None,
                     show: bool = True) -> None:
    """Prints (if `show`) the generated text and records it in `run`: the tag
    `rnnexp.generated` (cut like a long param) and the file generated.txt
    (and config.yaml, for a run that writes no other files)."""
    from rnnexp.record.console import say
    from rnnexp.record.generated_text import describe_generation, write_generated_files

    prompt = text[: len(text) - config.generate.length]
    if show:
        say(describe_generation(text, prompt, config.generate.temperature, config.seed))
    write_generated_files(run.folder, text, config_yaml)
    run.set_tags({t.GENERATED_TAG: cut(text, GENERATED_MARKER)})


def load_source(config: Config):
    """The model `generate.model_uri` names (rnnexp.tracking.keras_model.SourceModel).

    Raises:
        ConfigError: no such model, or `generate.prompt` is not over its vocabulary.
    """
    from rnnexp.tracking.keras_model import load_source_model

    source = load_source_model(config.generate.model_uri, config.mlflow.tracking_uri)
    config.generate.check_prompt(source.vocab, "the model's vocabulary")
    return source


def with_source(start: RunStart, source) -> RunStart:
    """`start` with what the source model adds: the vocabulary it generates
    over (param `data.vocab`) and the links to it and its run (tags)."""
    links = {t.SOURCE_MODEL_TAG: source.uri, **({t.SOURCE_RUN_TAG: source.run_id} if source.run_id else {})}
    return dataclasses.replace(start, params={**start.params, "data.vocab": param_value(source.vocab)},
                               tags={**start.tags, **links})


def generate_and_record(run: RunRecord, config: Config, plain: dict, context: JobContext, source,
                        show: bool = True) -> str:
    """Generates with the source model as `config.generate` says; prints (if
    `show`) and records the text, config.yaml and the job's .hydra folder.
    Returns the text."""
    from omegaconf import OmegaConf

    from rnnexp.core.generation import generate

    wanted = config.generate
    prompt = wanted.prompt or source.first_char or source.vocab[0]
    text = generate(source.keras_model, source.vocab, prompt, wanted.length, wanted.temperature, config.seed)
    if context.hydra_dir:
        run.add_folder(context.hydra_dir, ".hydra")
    record_generated(run, config, text, OmegaConf.to_yaml(plain), show)
    return text
