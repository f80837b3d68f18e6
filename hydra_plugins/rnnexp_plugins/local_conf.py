"""Adds `./conf` of the working folder to rnnexp's config search path, after
rnnexp's own configs, so that a `conf/data/mine.yaml` written next to one's
work is the option `data=mine`, with no flag. Only for rnnexp's app (its
primary configs `pkg://rnnexp.conf`), and only where the folder exists.
rnnexp's shipped options keep their names: a local file of the same name
(conf/data/hello.yaml) is not used; `--config-dir` adds a folder that is."""

from pathlib import Path

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin

RNNEXP_CONFIGS = "pkg://rnnexp.conf"


class LocalConfSearchPath(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        if not any(element.path == RNNEXP_CONFIGS for element in search_path.get_path()):
            return
        local = Path.cwd() / "conf"
        if local.is_dir():
            search_path.append(provider="rnnexp-local", path=f"file://{local}")
