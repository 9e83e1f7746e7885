"""``vocablens annotate``: concept labels and polysemanticity of projected vectors."""

from __future__ import annotations

import click

from vocablens.cli import options


@click.command("annotate")
@click.argument("projections")
@options.out("the annotations (a Parquet file)", required=True)
@click.option("--kinds", default=None, help="Vector kinds, e.g. values,keys_gate (default: all).")
@options.layers
@click.option(
    "--readout",
    default="cosine",
    show_default=True,
    help="Projection readout to read labels on (raw, cosine, csls); raw rows beside it, when "
    "the projections hold them, also give the form and Python names.",
)
@click.option("--activations", default=None, metavar="DIR",
              help="A `vocablens activations` folder of the same model: add where each value "
                   "vector's neuron fires as evidence (context_* columns).")  # fmt: skip
@click.option("--context-tokens", type=click.Choice(["trigger", "next"]), default="trigger",
              show_default=True,
              help="With --activations: label the tokens where the neuron fires, or the next.")  # fmt: skip
@options.top_k(None)
@click.option("--generative", is_flag=True, help="Add a generative label suggestion (slow).")
@click.option("--generative-model", default="smollm2-135m", show_default=True)
@options.quiet
def command(projections, out, kinds, layers, readout, activations, context_tokens, top_k,
            generative, generative_model, quiet) -> None:  # fmt: skip
    """Label the concept behind every projected vector and flag polysemantic ones.

    PROJECTIONS is a folder written by `vocablens project` or one of its Parquet files.
    """
    from pathlib import Path

    from vocablens.annotate.pipeline import AnnotateConfig, annotate_to_file

    config = AnnotateConfig(
        projections=Path(projections), out=Path(out),
        kinds=tuple(k.strip() for k in kinds.split(",") if k.strip()) if kinds else None,
        layers=layers, top_k=top_k,
        generative=generative, generative_model=generative_model, progress=not quiet,
        readout=readout, activations=Path(activations) if activations else None,
        context_tokens=context_tokens,
    )  # fmt: skip
    click.echo(f"wrote {annotate_to_file(config)}")
