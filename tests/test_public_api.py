from __future__ import annotations

import inspect

import matcher


def test_all_is_complete_and_importable() -> None:
    public = {
        name
        for name, obj in vars(matcher).items()
        if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
    }
    assert public <= set(matcher.__all__)
    for name in matcher.__all__:
        assert hasattr(matcher, name)


def test_every_cli_command_is_documented_in_the_readme() -> None:
    from pathlib import Path

    from matcher.cli import COMMANDS

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for command in COMMANDS:
        assert f"matcher {command}" in readme, command


def test_every_public_name_resolves_lazily_and_app_lists_its_use_cases() -> None:
    import importlib

    from matcher import app

    assert matcher.__all__ == sorted(matcher._HOMES)
    for name in matcher.__all__:
        home = importlib.import_module(matcher._HOMES[name])
        assert getattr(matcher, name) is (home if name == "app" else getattr(home, name))
    for name in app.__all__:
        assert hasattr(app, name), name
