"""The layers of the README's "How it is built", enforced: no module imports from a layer above its own.

    records, errors <- text <- io <- retrieval <- rules <- pipeline <- analysis <- app, settings <- cli <- service

Front ends (the CLI and the service) reach the library only through `matcher` (the lazy public API), `matcher.app`,
`matcher.records`, `matcher.errors`, `matcher.settings` and `matcher.text.i18n`; the library never imports `service`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["records", "errors", "text", "io", "retrieval", "rules", "pipeline", "analysis", "app", "settings", "cli"]
RANK = {"records": 0, "errors": 0, "text": 1, "io": 2, "retrieval": 3, "rules": 4, "pipeline": 5, "analysis": 6}
RANK |= {"app": 7, "settings": 7, "cli": 8}
FRONT_DOOR = ("matcher", "matcher.app", "matcher.records", "matcher.errors", "matcher.settings", "matcher.text.i18n")


def layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "matcher" or len(parts) < 2:
        return None
    return parts[1]


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, the ones under TYPE_CHECKING and inside functions included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module == "matcher":  # `from matcher import app` names a module
                found += [(node.lineno, f"matcher.{a.name}") for a in node.names if a.name == "app"]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return found


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_every_matcher_module_sits_in_a_known_layer() -> None:
    for path in sorted((ROOT / "matcher").rglob("*.py")):
        own = layer(module_of(path))
        assert own is None or own in RANK, f"{module_of(path)}: layer {own!r} is not in the layer order"


def test_no_module_imports_from_a_layer_above_it() -> None:
    wrong = []
    for path in sorted((ROOT / "matcher").rglob("*.py")):
        own = layer(module_of(path))
        if own is None:  # matcher/__init__: the lazy public API names every layer
            continue
        for line, module in imports(path):
            if module.split(".")[0] == "service":
                wrong.append(f"{module_of(path)}:{line} imports {module} (the library never imports the service)")
            target = layer(module)
            if target is not None and RANK[target] > RANK[own]:
                wrong.append(f"{module_of(path)}:{line} ({own}) imports {module} ({target})")
    # `matcher serve` starts the service: the one allowed edge, lazily inside cmd_serve.
    wrong = [w for w in wrong if not w.startswith("matcher.cli:") or "service.app" not in w]
    assert wrong == []


def test_front_ends_reach_the_library_through_the_front_door() -> None:
    wrong = []
    for path in [ROOT / "matcher" / "cli.py", *sorted((ROOT / "service").rglob("*.py"))]:
        for line, module in imports(path):
            if module.startswith("matcher") and not module.startswith(FRONT_DOOR[1:]) and module != "matcher":
                wrong.append(f"{module_of(path)}:{line} imports {module}")
    assert wrong == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The walker finds imports in functions and under TYPE_CHECKING (so the tests above can fail)."""
    source = tmp_path / "layers_fixture.py"
    source.write_text("if True:\n    from matcher.analysis import gaps\n\ndef f():\n    import matcher.pipeline\n")
    assert imports(source) == [(2, "matcher.analysis"), (5, "matcher.pipeline")]
