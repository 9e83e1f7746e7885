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


def _parse_nodes(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from vocablens.intervene.nodes import parse_boosts, parse_nodes

    return parse_boosts(value) if param.name == "boost" else parse_nodes(value)


ablate = click.option(
    "--ablate",
    default=None,
    metavar="NODES",
    callback=_parse_nodes,
    help="Zero these nodes while reading: L.N (neuron), L.hH (head), L.mlp, L.attn; comma list.",
)

boost = click.option(
    "--boost",
    default=None,
    metavar="NODE=F,...",
    callback=_parse_nodes,
    help="Scale nodes by factors while reading, e.g. 3.17=3,5.h2=0.",
)


def intervention(lm: Any, ablate: Any, boost: Any) -> Any:
    """The intervention of ``--ablate`` / ``--boost`` on ``lm`` (checked on it), or None."""
    from vocablens.intervene.interventions import Intervention, scale
    from vocablens.intervene.interventions import ablate as zero

    parts: list[Intervention] = []
    if ablate:
        parts.append(zero(lm, ablate))
    for node, factor in boost or []:
        parts.append(scale(lm, [node], factor))
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = combined + part
    return combined
