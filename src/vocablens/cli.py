"""The ``vocablens`` command: a thin click group; each subcommand calls one library function."""

from __future__ import annotations

import sys

import click

from vocablens.errors import VocabLensError


class _Group(click.Group):
    """Turns every VocabLensError into a one-line message and exit code 2 (never a traceback)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except VocabLensError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="vocablens")
def main() -> None:
    """Read transformer language models in the space of their own vocabulary."""


# --- subcommands ---------------------------------------------------------------------------


def run() -> None:  # pragma: no cover - console entry point alias
    main()
