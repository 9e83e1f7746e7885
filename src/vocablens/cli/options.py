"""The options several subcommands share, each defined once with one meaning and one help text.

Values are checked here when click parses them, before any work: ``--top-k`` must be positive,
``--layers`` must parse (:func:`vocablens.layerspec.parse_layers`; the range is checked once the
model is known), ``--readout`` must name readouts (:func:`vocablens.project.readouts.parse_readouts`), ``--device`` must name a device this machine has
(:func:`vocablens.model.devices.resolve_device`).
"""

from __future__ import annotations

from typing import Any

import click

#: The weights dtypes (the names of :data:`vocablens.model.devices.DTYPES`).
DTYPE_NAMES = ("float32", "bfloat16", "float16")

model = click.argument("model")


def top_k(default: int | None) -> Any:
    """``--top-k/-k``: top tokens kept per vector and sign, or per lens site and position."""
    return click.option(
        "--top-k",
        "-k",
        type=click.IntRange(min=1),
        default=default,
        show_default=default is not None,
        help="Top tokens kept per vector and sign, or per lens site and position.",
    )


def _parse_layers(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from vocablens.layerspec import parse_layers

    return parse_layers(value)


layers = click.option(
    "--layers",
    default=None,
    metavar="LIST",
    callback=_parse_layers,
    help="Layers, e.g. 0-5 or 0,2,4-6 (default: all).",
)


def _check_device(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from vocablens.model.devices import resolve_device

    return str(resolve_device(value))


device = click.option(
    "--device",
    default=None,
    metavar="DEVICE",
    callback=_check_device,
    help="Where to compute: cpu, cuda, cuda:1, mps ... (default: cpu).",
)

dtype = click.option(
    "--dtype",
    type=click.Choice(DTYPE_NAMES),
    default="float32",
    show_default=True,
    help="Weights dtype.",
)


def out(what: str, **kwargs: Any) -> Any:
    """``--out/-o PATH``: where the subcommand writes ``what`` (checked before any work)."""
    return click.option("--out", "-o", metavar="PATH", help=f"Where to write {what}.", **kwargs)


quiet = click.option("--quiet", "-q", is_flag=True, help="No progress bars.")

bos = click.option("--bos", is_flag=True, help="Prepend the BOS token to every prompt.")

truncate = click.option(
    "--truncate", is_flag=True, help="Cut prompts longer than the model's context."
)


def _parse_readouts(ctx: click.Context, param: click.Parameter, value: str) -> Any:
    from vocablens.project.readouts import parse_readouts

    return ",".join(parse_readouts(value))


readout = click.option(
    "--readout",
    default="raw",
    show_default=True,
    metavar="LIST",
    callback=_parse_readouts,
    help="How vector tables are scored: raw (direct effect on the logits), cosine, csls "
    "(hub-corrected cosine), or several (raw,cosine): one table per readout.",
)
