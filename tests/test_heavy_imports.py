"""rnnexp.heavy_imports: the collector is off during a heavy import, back on
after it (unless it was off before), and what the import made is frozen."""

import gc
import subprocess
import sys

import pytest

from rnnexp.heavy_imports import collector_paused


@pytest.fixture(autouse=True)
def collector_restored():
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if was_enabled else gc.disable)()


def test_the_collector_is_off_inside_and_on_after():
    gc.enable()
    frozen_before = gc.get_freeze_count()
    with collector_paused():
        assert not gc.isenabled()
        made = [[index] for index in range(1000)]  # long-lived objects, as an import makes
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before + len(made)


def test_a_failing_import_turns_the_collector_back_on():
    gc.enable()
    with pytest.raises(ImportError):
        with collector_paused():
            import rnnexp_no_such_module  # noqa: F401
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off():
    gc.disable()
    with collector_paused():
        with collector_paused():  # nested: the inner one must not turn it on
            pass
        assert not gc.isenabled()
    assert not gc.isenabled()


@pytest.mark.slow
def test_tensorflow_is_imported_with_the_collector_paused_and_then_frozen():
    code = ("import gc; from rnnexp import model; before = gc.get_freeze_count(); model.preload(); "
            "print(gc.isenabled(), gc.get_freeze_count() - before)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "True"
    assert int(out[1]) > 100_000  # TensorFlow's and Keras's objects, frozen
