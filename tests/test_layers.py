"""The layout's rules, read from the source (every import, also those inside
functions): each layer imports only what its package docstring allows, only
rnnexp.tracking imports MLflow, no import cycles, no Hydra internals, small
modules in small folders."""

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted((REPO / "rnnexp").rglob("*.py")) + sorted((REPO / "hydra_plugins").rglob("*.py"))
STDLIB = set(sys.stdlib_module_names)

LEAVES = {"rnnexp.errors", "rnnexp.interrupts", "rnnexp.frozen_imports", "rnnexp.mmap_threshold", "rnnexp.store_uri"}
# layer (a module-name prefix) -> what it may import besides the standard library and itself
ALLOWED = {
    "rnnexp.config.schema": {"rnnexp.errors", "rnnexp.config.value_checks", "rnnexp.config.data_schema",
                             "rnnexp.config.limits"},
    "rnnexp.config.limits": {"rnnexp.errors"},
    "rnnexp.config.data_schema": {"rnnexp.errors", "rnnexp.config.value_checks"},
    "rnnexp.config": {"hydra", "omegaconf", "rnnexp.config", "rnnexp.errors"},
    "rnnexp.core": {"numpy", "keras", "tensorflow", "rnnexp.core", "rnnexp.config.schema", *LEAVES},
    "rnnexp.record": {"numpy", "pandas", "matplotlib", "rnnexp.record", "rnnexp.core", "rnnexp.config.schema",
                      "rnnexp.tracking.tags", *LEAVES},
    "rnnexp.tracking": {"mlflow", "numpy", "rnnexp.tracking", *LEAVES},
    "rnnexp.sweep": {"hydra", "omegaconf", "submitit", "rnnexp.sweep", "rnnexp.config", "rnnexp.tracking",
                     "rnnexp.record", "rnnexp.core.keras_rnn", *LEAVES},
    "hydra_plugins": {"hydra", "omegaconf", "hydra_plugins", "rnnexp.sweep"},
    **{leaf: set() for leaf in LEAVES},
    "rnnexp.store_uri": {"rnnexp.errors"},  # a leaf whose one error is a ConfigError
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path):
    """Every module `path` imports, at the top or inside a function."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)  # `from rnnexp.core import checks`


MODULES = {module_name(path): path for path in SOURCES}


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer_of(name: str):
    """The most specific layer rule that covers module `name`, or None (the top: cli, job, compare)."""
    covering = [prefix for prefix in ALLOWED if within(name, prefix)]
    return max(covering, key=len) if covering else None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_module_imports_only_what_its_layer_may(name):
    layer = layer_of(name)
    if layer is None:
        return
    wrong = set()
    for imported in imports(MODULES[name]):
        top = imported.split(".")[0]
        if top in STDLIB or imported == "rnnexp" or (top in ("rnnexp", "hydra_plugins") and imported not in MODULES
                                                      and imported.rsplit(".", 1)[0] in MODULES):
            continue  # the standard library; the root (its version); `from module import name`
        if not any(within(imported, allowed) for allowed in ALLOWED[layer]):
            wrong.add(imported)
    assert not wrong, f"{name} ({layer}) imports {sorted(wrong)}"


def test_only_tracking_imports_mlflow():
    importers = {name for name, path in MODULES.items() if any(within(i, "mlflow") for i in imports(path))}
    assert importers and all(within(name, "rnnexp.tracking") for name in importers), sorted(importers)


def test_no_import_cycles():
    graph = {name: {i for i in imports(path) if i in MODULES and i != name} for name, path in MODULES.items()}
    # a package's __init__ imports nothing here, so edges to a package name are edges to its docstring only
    visiting, done = [], set()

    def visit(name):
        if name in visiting:
            raise AssertionError(f"import cycle: {' -> '.join(visiting[visiting.index(name):] + [name])}")
        if name in done:
            return
        visiting.append(name)
        for target in graph[name]:
            visit(target)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def test_no_hydra_internals_or_private_mlflow():
    forbidden = ("hydra._internal", "_apply_overrides_to_config", "ConfigLoaderImpl", "_tracking_client")
    found = [(module_name(path), word) for path in SOURCES for word in forbidden if word in path.read_text()]
    assert found == []


def test_small_modules_in_small_folders():
    long = {module_name(path): n for path in SOURCES if (n := len(path.read_text().splitlines())) > 250}
    assert long == {}
    folders = {}
    for path in SOURCES:
        folders.setdefault(path.parent, []).append(path)
    assert {str(folder.relative_to(REPO)): len(files) for folder, files in folders.items() if len(files) > 12} == {}


def test_every_package_says_what_it_holds_and_may_import():
    for path in SOURCES:
        if path.name == "__init__.py":
            doc = ast.get_docstring(ast.parse(path.read_text()))
            assert doc and len(doc.splitlines()) >= 3, path
