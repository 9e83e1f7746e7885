"""``vocablens project``: FFN neurons and attention heads projected into the vocabulary."""

from __future__ import annotations

import click

from vocablens.cli import options


@click.command("project")
@options.model
@options.out("the folder: a Parquet file per layer and manifest.json", required=True)
@click.option(
    "--what",
    default="values,keys",
    show_default=True,
    help="Comma list of values, keys (keys_in/keys_gate/keys_up), ov, qk.",
)
@options.top_k(30)
@options.layers
@options.device
@options.dtype
@click.option(
    "--tokens",
    type=click.Choice(["all", "words"]),
    default="all",
    show_default=True,
    help="Output-side tokens (key side for qk): all, or whole words only.",
)
@click.option(
    "--src-tokens",
    type=click.Choice(["all", "words"]),
    default="all",
    show_default=True,
    help="Source side of ov, query side of qk.",
)
@click.option("--no-final-norm", is_flag=True, help="Do not apply the final norm's gain.")
@options.readout
@click.option(
    "--hub-k",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="csls: each token's hub statistic is its mean cosine with its K nearest vectors.",
)
@click.option(
    "--mask-untrained/--keep-untrained",
    default=None,
    help="Leave the model's untrained tokens out of vector tables "
    "[default: masked for cosine and csls, kept for raw].",
)
@options.quiet
def command(model, out, what, top_k, layers, device, dtype, tokens, src_tokens, no_final_norm,
            readout, hub_k, mask_untrained, quiet) -> None:  # fmt: skip
    """Project MODEL's FFN neurons and attention heads into its vocabulary (resumable).

    MODEL is a directory, a .gguf file, a hub id, or the alias smollm2-135m. Restarting with the
    same options and --out resumes after the finished layers.
    """
    from dataclasses import replace
    from pathlib import Path

    from vocablens.model.devices import resolve_dtype
    from vocablens.model.loading import load_model
    from vocablens.project.run import ProjectConfig, project_to_dir

    config = ProjectConfig(model=model, out=Path(out), what=what, layers=layers, k=top_k,
                           device=device, dtype=dtype, tokens=tokens, src_tokens=src_tokens,
                           final_norm=not no_final_norm, progress=not quiet, readouts=readout,
                           hub_k=hub_k, mask_untrained=mask_untrained).check()  # fmt: skip
    lm = load_model(model, device=device, dtype=resolve_dtype(dtype))
    folder = project_to_dir(replace(config, model=lm))
    click.echo(f"wrote {folder}")
