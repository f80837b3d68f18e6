"""What a person sees, without running anything heavy: sweep points' names
and lines, the links into MLflow's UI, the console's two routes (print, or the
job's logger)."""

import itertools
import json
import logging
from urllib.parse import parse_qs, urlsplit

from rnnexp.job import run_name
from rnnexp.record.console import CONSOLE_LOGGER, point_line, point_number, say
from rnnexp.sweep.points import swept_keys
from rnnexp.tracking.recorder import LOCAL_UI, RecorderBase, ui_address, ui_note


def test_swept_keys_are_those_whose_value_varies_in_the_order_typed():
    points = [["hidden_size=4", f"rnn={r}", f"api={a}"]
              for r, a in itertools.product(("lstm", "gru"), ("cell", "layer"))]
    assert swept_keys(points) == ["rnn", "api"]
    assert swept_keys([["hidden_size=4"]]) == [] and swept_keys([]) == []


def test_a_sweep_point_is_named_by_its_swept_values_first_and_stays_distinct_when_cut_to_16_characters():
    points = [[f"rnn={r}", f"api={a}", "hidden_size=4"] for r, a in
              itertools.product(("simple_rnn", "lstm", "gru"), ("cell", "layer"))]
    names = [run_name(point, ["rnn", "api"]) for point in points]
    assert names[0] == "simple_rnn,cell (rnn=simple_rnn,api=cell,hidden_size=4)"
    assert len({name[:16] for name in names}) == len(names)
    old_style = [run_name(point) for point in points]  # a single run's name: the overrides as typed
    assert old_style[0] == "rnn=simple_rnn,api=cell,hidden_size=4"
    assert len({name[:16] for name in old_style}) < len(names)  # what the UI would have shown alike
    assert run_name(["hidden_size=8", "console.tensors=true", "resume=true"], ["hidden_size"]) == "8 (hidden_size=8)"
    added = [["+extra=1", "hidden_size=4"], ["+extra=2", "hidden_size=4"]]  # a key added with +, swept
    assert swept_keys(added) == ["+extra"] and run_name(added[1], swept_keys(added)) == "2 (+extra=2,hidden_size=4)"


def test_a_point_line_says_where_the_point_is_its_checks_and_its_link():
    line = point_line(point_number(2, 6), "8 (hidden_size=8)",
                      {"check.reference_max_abs_err": 1.05e-07, "check.api_parity_max_abs_err": 0.0}, "http://x/#/r")
    assert line == "[3/6] 8 (hidden_size=8): ref 1.1e-07, parity 0; http://x/#/r"
    assert point_number(4, None) == "[#4]" and point_number(None, 6) == ""
    trained = point_line("[1/2]", "n", {}, "u", final={"loss": 0.1, "accuracy": 1.0})
    assert trained == "[1/2] n: accuracy 1.000; u"


def recorder(uri: str) -> RecorderBase:
    made = RecorderBase()
    made.tracking_uri, made.experiment_id, made.experiment_name = uri, "7", "rnnexp"
    return made


def test_links_open_the_run_the_runs_table_and_the_comparison(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    local = recorder(f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert local.run_url("abc") == f"{LOCAL_UI}/#/experiments/7/runs/abc?workflowType=machine_learning"
    assert local.runs_table_url() == f"{LOCAL_UI}/#/experiments/7?workflowType=machine_learning"
    fragment = urlsplit(local.compare_url(["a1", "b2"])).fragment
    path, _, query = fragment.partition("?")
    assert path == "/compare-runs" and " " not in query
    assert {k: json.loads(v[0]) for k, v in parse_qs(query).items()} == {"runs": ["a1", "b2"], "experiments": ["7"]}
    assert "started in this folder" in ui_note(local.tracking_uri)
    assert "--backend-store-uri sqlite:////elsewhere/m.db" in ui_note("sqlite:////elsewhere/m.db")
    server = recorder("http://127.0.0.1:5055/")
    assert ui_address(server.tracking_uri) == "http://127.0.0.1:5055"
    assert server.run_url("abc").startswith("http://127.0.0.1:5055/#/experiments/7/runs/abc?")
    assert ui_note(server.tracking_uri) is None


def test_say_prints_without_logging_set_up_and_logs_when_hydra_set_it_up(capsys, tmp_path):
    say("plain line")
    say("an error", error=True)
    out = capsys.readouterr()
    assert out.out == "plain line\n" and out.err == "an error\n"
    logger = logging.getLogger(CONSOLE_LOGGER)
    handler = logging.FileHandler(tmp_path / "rnnexp.log")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        say("logged line")
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert capsys.readouterr().out == "" and (tmp_path / "rnnexp.log").read_text() == "logged line\n"


class FakeTerminal:
    def __init__(self, tty: bool):
        self.tty, self.text = tty, ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_epoch_progress_prints_eight_spread_epochs_and_on_a_terminal_a_status_line_it_erases(capsys):
    from rnnexp.record.console import EpochProgress

    plain = FakeTerminal(tty=False)
    progress = EpochProgress(300, lines=True, stream=plain)
    for epoch in range(1, 301):
        progress(epoch, {"loss": 1.0 / epoch, "accuracy": 0.5})
    printed = capsys.readouterr().out.splitlines()
    assert [int(line.split()[1].rstrip(":")) for line in printed] == [1, 44, 86, 129, 172, 215, 257, 300]
    assert printed[-1] == "  epoch   300: loss 0.0033  accuracy 0.5000" and plain.text == ""  # no status line
    terminal = FakeTerminal(tty=True)
    quiet = EpochProgress(3, lines=False, stream=terminal)  # a sweep's point on a terminal
    for epoch in (1, 2, 3):
        quiet(epoch, {"loss": 0.5})
    assert capsys.readouterr().out == ""
    assert "\r  epoch 1/3: loss 0.5000" in terminal.text and "\r  epoch 3/3: loss 0.5000" in terminal.text
    assert terminal.text.endswith("\r\033[K")  # erased once training ends
