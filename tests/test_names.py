"""The vocabulary: every closed set of names is one Literal in `alignnet.names`, and the
registries and CLI choices that list such names agree with it."""

from __future__ import annotations

import click
import pytest

from alignnet import names


def _choices(command: click.Command, option: str) -> tuple[str, ...]:
    for param in command.params:
        if option in getattr(param, "opts", ()):
            assert isinstance(param.type, click.Choice)
            return tuple(param.type.choices)
    raise AssertionError(f"{command.name} has no {option}")


def test_registries_match_the_literals() -> None:
    from alignnet.config import ARCHS
    from alignnet.evaluation.presets import PRESETS

    assert tuple(PRESETS) == names.PRESET_NAMES
    assert tuple(ARCHS) == names.ARCH_NAMES
    assert names.SYNTHETIC_PROTOCOLS + (names.CONTIGUOUS,) == names.PROTOCOLS
    assert set(names.TASKS) == {names.DECODE, names.SIMULATE}


@pytest.mark.parametrize(
    ("module", "command", "option", "values"),
    [
        ("alignnet.cli.benchmark", "benchmark", "--preset", names.PRESET_NAMES),
        ("alignnet.cli.benchmark", "benchmark", "--arch", names.ARCH_NAMES),
        ("alignnet.cli.benchmark", "benchmark", "--channels", names.CHANNEL_POLICIES),
        ("alignnet.cli.train", "pretrain", "--snn-layout", names.SNN_LAYOUTS),
        ("alignnet.cli.train", "finetune", "--task", names.TASK_NAMES),
        ("alignnet.cli.export", "export", "--format", names.EXPORT_FORMATS),
        ("alignnet.cli.falcon", "falcon_eval", "--task", names.FALCON_TASKS),
        ("alignnet.cli.data_preprocess", "preprocess", "--channels", names.CHANNEL_POLICIES),
        ("alignnet.cli.infer", "decode", "--channels", names.CHANNEL_POLICIES),
        ("alignnet.cli.align", "align", "--channels", names.CHANNEL_POLICIES),
    ],
)
def test_cli_choices_come_from_the_vocabulary(module, command, option, values) -> None:
    import importlib

    cmd = getattr(importlib.import_module(module), command)
    assert _choices(cmd, option) == values


@pytest.mark.parametrize(
    ("module", "command", "old", "new"),
    [
        ("alignnet.cli.train", "pretrain", "--layout", "--snn-layout"),
        ("alignnet.cli.data_preprocess", "preprocess", "--align", "--placement"),
        ("alignnet.cli.profile", "profile", "--channels", "--n-channels"),
    ],
)
def test_renamed_options_keep_their_old_name_hidden(module, command, old, new) -> None:
    """An option renamed so that each word means one thing still takes its old name (for
    scripts), with the same values, and ``--help`` shows only the new one."""
    import importlib

    cmd = getattr(importlib.import_module(module), command)
    by_name = {opt: p for p in cmd.params for opt in getattr(p, "opts", ())}
    assert by_name[old].hidden and not by_name[new].hidden
    assert repr(by_name[old].type) == repr(by_name[new].type)
    assert old not in cmd.get_help(click.Context(cmd))
