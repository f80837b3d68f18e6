"""What generation adds to a run: the file `generated.txt` (the text, prompt
included, exactly as generated) and the lines it prints; for a
`task=generate` run, which writes no other files, its `config.yaml` too."""

from pathlib import Path
from typing import Optional

GENERATED_FILE = "generated.txt"


def write_generated_files(folder: Path, text: str, config_yaml: Optional[str] = None) -> Path:
    """Writes `text` as UTF-8 into `folder`/generated.txt (and `config_yaml`
    into config.yaml, if given); returns the path of generated.txt."""
    path = Path(folder) / GENERATED_FILE
    path.write_text(text, encoding="utf-8")
    if config_yaml is not None:
        (Path(folder) / "config.yaml").write_text(config_yaml, encoding="utf-8")
    return path


def describe_generation(text: str, prompt: str, temperature: float, seed: int) -> str:
    """One line (more if the text has line breaks): how it was generated, then the text."""
    how = "greedy" if temperature == 0 else f"sampled at temperature {temperature:g}, seed {seed}"
    return f"generated ({how}; prompt {prompt!r} + {len(text) - len(prompt)} characters):\n{text}"
