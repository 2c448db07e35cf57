"""The package's layers: no import cycle in src/, and lower layers never import higher ones.

Reads the source with `ast` (nothing is imported): every ``import`` of an ``alignnet``
module, at module level or inside a function (a deferred import still ties the modules
together), is an edge of the import graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "alignnet"

#: Lower layers first; a module may import only from its own layer or lower ones.
LAYERS: list[tuple[str, ...]] = [
    ("alignnet.names", "alignnet.errors", "alignnet.utils", "alignnet.config"),
    ("alignnet.data",),
    ("alignnet.engine",),
    ("alignnet.models",),
    ("alignnet.training",),
    ("alignnet.api", "alignnet.estimator"),
    ("alignnet.evaluation",),
    ("alignnet.realtime",),
    ("alignnet.cli", "alignnet.__main__"),
]


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _edges(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = module if is_pkg else module.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        pkg = pkg.rpartition(".")[0]
                    base = f"{pkg}.{base}" if base else pkg
                targets = [f"{base}.{a.name}" for a in node.names]
            for target in targets:
                if not target.startswith("alignnet"):
                    continue
                resolved = _resolve(target, modules)
                if resolved and resolved != module and resolved != "alignnet":
                    graph[module].add(resolved)  # the root only holds __version__
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _layer(module: str) -> int | None:
    for i, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    return None


def test_no_import_cycle_in_src() -> None:
    cycle = _cycle(_edges(_modules()))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_lower_layers_never_import_higher_ones() -> None:
    bad = []
    for module, targets in _edges(_modules()).items():
        mine = _layer(module)
        for target in targets:
            theirs = _layer(target)
            if mine is not None and theirs is not None and theirs > mine:
                bad.append(f"{module} -> {target}")
    assert not bad, "imports against the layers:\n" + "\n".join(sorted(bad))


@pytest.mark.parametrize(
    ("a", "b"),
    [("x.y", "x.y"), ("alignnet.models.baselines.gru", "alignnet.models.baselines.gru")],
)
def test_resolve_finds_known_modules(a: str, b: str) -> None:
    modules = {"x.y": Path("x/y.py"), "alignnet.models.baselines.gru": Path("g.py")}
    assert _resolve(a, modules) == b


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_lazy_group_surfaces_import_errors_of_real_commands() -> None:
    import click

    from alignnet.cli.lazy import LazyGroup

    group = LazyGroup("g", lazy_commands={"broken": "alignnet.no_such_module:cmd"})
    ctx = click.Context(group)
    assert group.list_commands(ctx) == ["broken"]
    assert group.get_command(ctx, "unknown") is None  # an unknown name: "no such command"
    with pytest.raises(ImportError):
        group.get_command(ctx, "broken")  # a real command that fails to import: the error


def test_one_mac_counter() -> None:
    import torch

    from alignnet.evaluation import accounting
    from alignnet.training import flops

    assert accounting.layer_macs is flops.layer_macs
    conv = torch.nn.ConvTranspose1d(4, 6, 3)
    x = torch.zeros(2, 4, 10)
    assert (
        flops._macs(conv, (x,), conv(x)) == flops.layer_macs(conv, x, conv(x)) == 2 * 4 * 10 * 6 * 3
    )
