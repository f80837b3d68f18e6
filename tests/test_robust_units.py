"""Unit tests (no TensorFlow, no MLflow) of the robustness pieces: signals,
run identity for resume, sweep status, sweep point checks."""

import os
import signal

import pytest

from rnnexp.interrupts import Terminated, deferred_interrupts, exit_code, install_handlers
from rnnexp.job import run_name
from rnnexp.sweep.parent import sweep_status
from rnnexp.tracking.tags import code_version, config_hash


@pytest.fixture
def handlers():
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    install_handlers()
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_sigterm_raises_terminated_a_keyboard_interrupt(handlers):
    with pytest.raises(Terminated) as caught:
        os.kill(os.getpid(), signal.SIGTERM)
        signal.sigtimedwait([], 0)  # a bytecode boundary, for the handler to run
    assert isinstance(caught.value, KeyboardInterrupt)
    assert exit_code(caught.value) == 143 and exit_code(KeyboardInterrupt()) == 130


def test_deferred_interrupts_deliver_after_the_block(handlers):
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            finished.append("block")  # not cut short by the signal
    assert finished == ["block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_config_hash_ignores_resume_and_key_order_not_values():
    config = {"hidden_size": 2, "data": {"vocab": ["a", "b"], "sequences": ["ab"]}, "resume": False}
    same = {"resume": True, "data": {"sequences": ["ab"], "vocab": ["a", "b"]}, "hidden_size": 2}
    assert config_hash(config) == config_hash(same)
    assert config_hash(config) != config_hash({**config, "hidden_size": 3})
    assert config_hash(config) != config_hash({**config, "data": {"vocab": ["a", "b"], "sequences": ["ba"]}})


def test_code_version_names_the_package_version_and_source_hash():
    version = code_version()
    assert version.startswith("0.1.0+src.") and len(version.split(".")[-1]) == 12


def test_run_name_leaves_resume_out():
    assert run_name(["hidden_size=2", "resume=true"]) == "hidden_size=2"
    assert run_name(["+resume=true"]) == "default"


@pytest.mark.parametrize("children,error,expected", [
    (["FINISHED", "FINISHED"], None, "FINISHED"),
    ([], None, "FINISHED"),
    (["FINISHED", "FAILED"], None, "FAILED"),
    (["FINISHED", "RUNNING"], None, "FAILED"),
    (["FINISHED"], RuntimeError("launcher broke"), "FAILED"),
    (["FINISHED", "KILLED"], None, "KILLED"),
    (["FINISHED"], KeyboardInterrupt(), "KILLED"),
    (["FINISHED", "FAILED"], Terminated("SIGTERM"), "KILLED"),
])
def test_sweep_status(children, error, expected):
    assert sweep_status(children, error) == expected


def test_sweep_points_expand_like_the_basic_sweeper():
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    from rnnexp.config.compose import register_schema
    from rnnexp.sweep.points import plan_sweep

    register_schema()
    with initialize_config_module(config_module="rnnexp.conf", version_base="1.3"):
        overrides = ["hidden_size=2,0", "rnn=lstm,gru", "seed=3"]
        loader = GlobalHydra.instance().config_loader()
        config = loader.load_configuration("config", overrides, RunMode.MULTIRUN)
        plan = plan_sweep(loader, config)
    assert plan.points == [
        ["hidden_size=2", "rnn=lstm", "seed=3"], ["hidden_size=2", "rnn=gru", "seed=3"],
        ["hidden_size=0", "rnn=lstm", "seed=3"], ["hidden_size=0", "rnn=gru", "seed=3"]]
    assert plan.problems == [
        "point #2 (hidden_size=0,rnn=lstm,seed=3): hidden_size=0: expected a positive integer",
        "point #3 (hidden_size=0,rnn=gru,seed=3): hidden_size=0: expected a positive integer"]
    assert plan.take(["hidden_size=2", "rnn=gru", "seed=3"]).rnn.value == "gru"  # composed once, kept to run
    assert plan.take(["hidden_size=2", "rnn=gru", "seed=3"]) is None and plan.take(plan.points[2]) is None


def test_lock_errors_are_retried_and_others_are_not():
    from rnnexp.tracking.store import RetryingClient

    class Flaky:
        calls = 0
        name = "not callable"

        def log(self, value):
            Flaky.calls += 1
            if Flaky.calls < 3:
                raise RuntimeError("(sqlite3.OperationalError) database is locked")
            return value

        def broken(self):
            Flaky.calls += 1
            raise ValueError("something else")

    client = RetryingClient(Flaky())
    assert client.log("x") == "x" and Flaky.calls == 3
    assert client.name == "not callable"
    Flaky.calls = 0
    with pytest.raises(ValueError):
        client.broken()
    assert Flaky.calls == 1
