"""The ``vocablens`` command: a thin click group; each subcommand calls one library function.

Every subcommand checks its options and output path first, resolves the model once
(:func:`~vocablens.model.loading.load_model`) and passes the ``LoadedModel`` down. Bad input of
any kind ends in one line on stderr, ``Error: …``, and exit code 2: never a traceback.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from vocablens.errors import VocabLensError


def _one_line(message: str) -> str:
    return "; ".join(line.strip() for line in str(message).splitlines() if line.strip())


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``Error: message`` (one line) on stderr and exit with ``code``."""
    click.echo(f"Error: {_one_line(message)}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """Turns bad input into a one-line message and exit code 2 (never a traceback).

    That covers every :class:`~vocablens.errors.VocabLensError` and click's own usage errors
    (an unknown option, a value out of range), which click would print over several lines.
    An operating-system error (disk full mid-run) is one line too, with exit code 1.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except VocabLensError as exc:
            fail(str(exc))
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            fail(f"{exc.format_message()} (see '{where} --help')")
        except click.ClickException as exc:
            fail(exc.format_message())
        except OSError as exc:
            name = f": {exc.filename}" if exc.filename else ""
            fail(f"{exc.strerror or exc}{name}", code=1)


@click.group(cls=_Group)
@click.version_option(package_name="vocablens")
def main() -> None:
    """Read transformer language models in the space of their own vocabulary."""


def run() -> None:  # pragma: no cover - console entry point alias
    """Run the command line (an alias of :func:`main`)."""
    main()


def _register() -> None:
    from vocablens.cli import (
        activations,
        annotate,
        campaign,
        circuit,
        explain,
        lens,
        project,
        report,
        trace,
    )

    for module in (activations, annotate, campaign, explain, lens, project, report, trace, circuit):
        main.add_command(module.command)


_register()
