"""rnnexp.frozen_imports: the collector is off during a heavy import, back on
after it (unless it was off before), and what the import made is frozen."""

import gc
import subprocess
import sys

import pytest

from rnnexp.frozen_imports import collector_paused, import_frozen


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


def test_import_frozen_imports_once_and_returns_the_module():
    import json

    gc.enable()
    frozen_before = gc.get_freeze_count()
    module = import_frozen("json")
    assert module is json and gc.isenabled()
    assert gc.get_freeze_count() == frozen_before  # already imported: nothing paused, nothing frozen
    assert import_frozen("rnnexp.frozen_imports").import_frozen is import_frozen


@pytest.mark.slow
def test_tensorflow_is_imported_with_the_collector_paused_and_then_frozen():
    code = ("import gc; from rnnexp.core import keras_rnn; before = gc.get_freeze_count(); keras_rnn.keras_module(); "
            "print(gc.isenabled(), gc.get_freeze_count() - before)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "True"
    assert int(out[1]) > 100_000  # TensorFlow's and Keras's objects, frozen


def test_native_lines_dropped_keeps_all_but_the_pattern_in_order():
    code = ("import os, re, sys\n"
            "from rnnexp.frozen_imports import native_lines_dropped\n"
            "try:\n"
            "    with native_lines_dropped(re.compile('I0000 ')):\n"
            "        os.write(2, b'I0000 note\\nW0000 kept\\n')\n"
            "        print('python line', file=sys.stderr)\n"
            "        raise KeyboardInterrupt\n"
            "except KeyboardInterrupt:\n"
            "    print('after', file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stderr.splitlines() == ["W0000 kept", "python line", "after"]


@pytest.mark.slow
def test_tensorflow_start_up_notes_stay_off_the_console():
    """TensorFlow 2.21 writes its absl and oneDNN notes to fd 2 whatever TF_CPP_MIN_LOG_LEVEL says."""
    code = "from rnnexp.core import keras_rnn; keras_rnn.keras_module(); import sys; print('done', file=sys.stderr)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stderr.splitlines() == ["done"], proc.stderr[-2000:]
