"""The lesson's forward pass in a job (`task=forward`), and a checked
forward result's record, which a training run writes for its trained RNN too."""

import json
from typing import Dict

from omegaconf import OmegaConf

from rnnexp.config.job_context import JobContext
from rnnexp.config.schema import Config
from rnnexp.record.console import say
from rnnexp.tracking import tags as t
from rnnexp.tracking.run_record import RunRecord, param_value


def forward_and_record(run: RunRecord, config: Config, plain: dict, context: JobContext, show: bool = True,
                       tensors: bool = True):
    """The lesson's forward pass, checked, printed (if `show`; with the
    tensors if `tensors`) and recorded in `run`."""
    from rnnexp.core.forward import run_forward
    from rnnexp.record.console import describe

    result = run_forward(config)
    if show:
        say(describe(result, tensors))
    record_forward(run, result, config, plain, context)
    return result


def record_forward(run: RunRecord, result, config: Config, plain: dict, context: JobContext) -> None:
    """Records a checked forward result: its files, the pictures to draw,
    the job's .hydra folder, the metrics and tags; then raises CheckFailed if
    a check exceeded its tolerance (the FAILED run keeps its numbers)."""
    from rnnexp.core.checks import raise_for_failures
    from rnnexp.record.forward_files import (
        table_inputs,
        write_forward_files,
        write_states_table,
    )
    from rnnexp.tasks.dynamics import record_gradient_flow

    lengths, stacked = result.encoded.lengths, config.num_layers * config.directions > 1
    stack = {"num_layers": config.num_layers, "directions": config.directions} if stacked else None
    write_forward_files(run.folder, result.tensors, lengths, result.weights, OmegaConf.to_yaml(plain), stack)
    run.render(write_states_table, *table_inputs(result.sequences, result.tensors["outputs"], lengths))
    if config.plots.enabled:
        from rnnexp.record import plots

        shown = config.plots.max_sequences  # a plot draws the first few sequences: only those are handed over
        cell_states = result.reference.get("cell_states")
        cell_states = None if cell_states is None else cell_states[..., :shown, :, :]
        if stacked:
            run.render(plots.write_stack_plots, list(result.sequences), lengths,
                       stack_hidden_states(result, shown), cell_states, shown, config.directions, under="plots")
        else:
            run.render(plots.write_state_plots, list(result.sequences), lengths, result.tensors["outputs"][:shown],
                       cell_states, shown, under="plots")
    if context.hydra_dir:
        run.add_folder(context.hydra_dir, ".hydra")
    run.log_metrics(result.metrics)
    record_gradient_flow(run, result, config)
    run.set_tags({t.SHAPES_TAG: json.dumps(result.shapes), **length_tags(lengths)})
    raise_for_failures(result.check_errors)


def stack_hidden_states(result, shown: int):
    """(L*D, shown, T, H): every layer's and direction's h after every step of
    the first `shown` sequences; the top layer's from Keras's outputs, the
    layers below from the NumPy reference (Keras returns only the top's)."""
    directions, hidden = result.config.directions, result.config.hidden_size
    states = result.reference["hidden_states"][:, :shown].copy()
    for d in range(directions):
        states[len(states) - directions + d] = result.tensors["outputs"][:shown, :, d * hidden:(d + 1) * hidden]
    return states


def length_tags(lengths) -> Dict[str, str]:
    """Each sequence's own length, as tags: `rnnexp.lengths` (a JSON list, cut
    like a param if long; tensors/lengths.npy has them all) and `rnnexp.ragged`."""
    lengths = [int(n) for n in lengths]
    return {t.LENGTHS_TAG: param_value(lengths), t.RAGGED_TAG: str(len(set(lengths)) > 1).lower()}
