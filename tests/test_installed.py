"""rnnexp installed like any other package (a wheel, not editable) runs from
an empty folder: its configs travel inside the package, its Hydra plugins in
the `hydra_plugins` namespace, and a `conf/` folder next to one's work adds
options. The wheel goes into a new virtual environment that borrows this
one's dependencies (TensorFlow, MLflow, ...) but not its rnnexp."""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent
PETS = "vocab: [c, a, t, d, o, g]\nsequences: [cat, dog, act, god]\n"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The path of a new venv's `bin/` with rnnexp's wheel installed in it."""
    root = tmp_path_factory.mktemp("installed")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(REPO)],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = (root / "dist").glob("rnnexp-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "-q", str(wheel)], check=True, capture_output=True, timeout=600)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], check=True, capture_output=True, text=True).stdout.strip())
    # This venv's packages, after the new venv's own: a path, so its .pth files (the editable rnnexp) stay out.
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def run(bin_dir: Path, cwd: Path, *command) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "PYTHONPATH")}
    proc = subprocess.run([str(bin_dir / command[0]), *command[1:]], cwd=cwd, env={**env, "TF_CPP_MIN_LOG_LEVEL": "2"},
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, f"{command}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_the_installed_package_is_the_wheel_not_this_checkout(installed, tmp_path):
    proc = run(installed, tmp_path, "python", "-c", "import rnnexp, hydra_plugins.rnnexp_plugins as p; "
                                                     "print(rnnexp.__file__); print(p.__file__)")
    assert all(str(REPO) not in line and "site-packages" in line for line in proc.stdout.splitlines())


def test_help_a_run_and_a_sweep_from_an_empty_folder(installed, tmp_path):
    assert "api: cell, layer" in run(installed, tmp_path, "rnnexp", "--help").stdout
    assert "Recorded run 'default'" in run(installed, tmp_path, "python", "-m", "rnnexp").stdout
    sweep = run(installed, tmp_path, "rnnexp", "hidden_size=2,4", "-m").stdout
    assert "[1/2] 2 (hidden_size=2): ref" in sweep and "[2/2] 4 (hidden_size=4): ref" in sweep


def test_a_local_conf_folder_adds_options(installed, tmp_path):
    (tmp_path / "conf" / "data").mkdir(parents=True)
    (tmp_path / "conf" / "data" / "pets.yaml").write_text(PETS)
    assert "pets" in run(installed, tmp_path, "rnnexp", "--help").stdout
    out = run(installed, tmp_path, "rnnexp", "data=pets", "plots.enabled=false").stdout
    assert "inputs: shape (4, 3, 6)" in out and "Recorded run 'data=pets," in out
