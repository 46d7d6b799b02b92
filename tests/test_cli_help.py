"""Help a user can act on, at once (issue 25, G3/G4): every command's --help shows two examples that parse as
written and the exit codes, and importing the command line loads none of the heavy libraries (the FHIR models,
pydantic, numpy took `medcom --help` to 1.6-3.9 s). A command's module is imported only when it runs or its help
is shown (issue 22)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from medcom.cli import main
from medcom.cli.replay import PARTITION_MESSAGES_DEFAULT

COMMANDS = main.list_commands(click.Context(main))
HEAVY = ("pydantic", "numpy", "fhir.resources", "fhir_core", "scipy", "matplotlib", "simpy", "dask")


def _loaded(names: tuple[str, ...]) -> str:
    return f"' '.join(m for m in {names!r} if m in sys.modules)"


def test_importing_the_command_line_loads_no_heavy_library_and_no_command() -> None:
    modules = HEAVY + tuple(f"medcom.cli.{c}" for c in COMMANDS)
    code = f"import sys, medcom.cli; print({_loaded(modules)})"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == ""


def test_help_of_a_command_loads_no_heavy_library_and_no_other_command() -> None:
    loaded = _loaded(HEAVY + ("holidays",) + tuple(f"medcom.cli.{c}" for c in COMMANDS if c != "validate"))
    code = ("import sys\nfrom medcom.cli import main\ntry:\n    main(['validate', '--help'])\nexcept SystemExit:\n"
            f"    pass\nprint('LOADED', {loaded}, 'medcom.cli.validate' in sys.modules, sep='|')")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout.strip().endswith("LOADED||True"), run.stdout[-300:]


def _examples(help_text: str) -> list[str]:
    block = help_text.split("Examples:", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip()]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_has_two_examples_and_the_exit_codes(command: str | None) -> None:
    result = CliRunner().invoke(main, [command, "--help"] if command else ["--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and re.search(r"Exit codes: 0 \w.*?\b2 \w", result.output, re.S), result.output
    examples = _examples(result.output)
    assert len(examples) == 2, examples
    for example in examples:
        for part in example.split("&&"):
            words = shlex.split(part)
            assert words[0] == "medcom", example
            if command:
                assert words[1] == command or part is not example.split("&&")[0], example
            name, *args = words[1:]
            sub = main.get_command(click.Context(main), name)
            assert sub is not None, name
            try:  # the options exist and take the values shown (paths need not exist here)
                sub.make_context(name, args, resilient_parsing=True)
            except click.UsageError as exc:
                pytest.fail(f"{example!r}: {exc}")


def test_partition_size_default_is_the_replays() -> None:
    from medcom.replay.partition import PARTITION_MESSAGES

    assert PARTITION_MESSAGES_DEFAULT == PARTITION_MESSAGES
