"""The ``vocablens`` command: a thin click group; each subcommand calls one library function."""

from __future__ import annotations

import sys

import click

from vocablens.errors import VocabLensError
from vocablens.layerspec import parse_layers


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


@main.command("annotate")
@click.argument("projections")
@click.option("--out", "-o", required=True, help="Output Parquet file (written atomically).")
@click.option("--kinds", default=None, help="Vector kinds, e.g. values,keys_gate (default: all).")
@click.option("--layers", default=None, help="Layers, e.g. 0-5 or 0,2,4-6 (default: all).")
@click.option("--model", default=None, help="Model for the embeddings (default: the manifest's).")
@click.option("--no-model", is_flag=True, help="Use WordNet features only; load no model.")
@click.option("--top-k", "-k", type=int, default=None, help="Read only the top k ranks.")
@click.option("--generative", is_flag=True, help="Add a generative label suggestion (slow).")
@click.option("--generative-model", default="smollm2-135m", show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def annotate_cmd(projections, out, kinds, layers, model, no_model, top_k, generative,
                 generative_model, quiet) -> None:  # fmt: skip
    """Label the concept behind every projected vector and flag polysemantic ones.

    PROJECTIONS is a folder written by `vocablens project` or one of its Parquet files.
    """
    from pathlib import Path

    from vocablens.annotate.annotate import AnnotateConfig, annotate_to_file

    config = AnnotateConfig(
        projections=Path(projections), out=Path(out),
        kinds=tuple(k.strip() for k in kinds.split(",") if k.strip()) if kinds else None,
        layers=layers, model="none" if no_model else model, top_k=top_k, generative=generative,
        generative_model=generative_model, progress=not quiet,
    )  # fmt: skip
    click.echo(f"wrote {annotate_to_file(config)}")


@main.command("lens")
@click.argument("model")
@click.argument("prompts", nargs=-1, required=True)
@click.option(
    "--top-k", "-k", default=5, show_default=True, help="Top tokens per site and position."
)
@click.option("--target", default=None, help="Track this token's rank and probability (one token).")
@click.option(
    "--sites",
    default="resid",
    show_default=True,
    help="Comma list of resid, resid_mid, attn_out, mlp_out.",
)
@click.option("--layers", default=None, help="Layers to read, e.g. 0-5 or 0,10,20-30.")
@click.option(
    "--json", "json_path", default=None, help="Write the full result as JSON (- for stdout)."
)
@click.option("--bos", is_flag=True, help="Prepend the BOS token.")
@click.option("--truncate", is_flag=True, help="Cut prompts longer than the context.")
def lens_cmd(model, prompts, top_k, target, sites, layers, json_path, bos, truncate) -> None:
    """Logit lens: read the residual stream of PROMPTS through MODEL's unembedding.

    MODEL is a directory, a .gguf file, a hub id, or the alias smollm2-135m.
    """  # fmt: skip
    from vocablens.atomic import write_text_atomic
    from vocablens.lens.logit_lens import logit_lens
    from vocablens.tokens import shown

    site_names = tuple(s.strip() for s in sites.split(",") if s.strip())
    result = logit_lens(model, list(prompts), k=top_k, target=target, sites=site_names,
                        layers=parse_layers(layers), bos=bos, truncate=truncate)  # fmt: skip
    if json_path == "-":
        click.echo(result.to_json())
        return
    for p, text in enumerate(result.texts):
        click.echo(f"\nprompt {p}: {text!r}")
        for site in site_names:
            click.echo(result.table(p, site))
        final = shown(result.token(result.final_top1[p, len(result.token_ids[p]) - 1]))
        first = result.first_top1_layer[p, len(result.token_ids[p]) - 1]
        if "resid" in site_names:
            click.echo(f"final top-1 {final} first becomes top-1 at resid layer {first}")
    if json_path:
        write_text_atomic(json_path, result.to_json())
        click.echo(f"wrote {json_path}")


@main.command("project")
@click.argument("model")
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False),
    help="Output folder: a Parquet file per layer and manifest.json.",
)
@click.option(
    "--what",
    default="values,keys",
    show_default=True,
    help="Comma list of values, keys (keys_in/keys_gate/keys_up), ov, qk.",
)
@click.option(
    "--top-k", "-k", default=30, show_default=True, help="Top tokens per vector and sign."
)
@click.option("--layers", default=None, help="Layers, e.g. 0-5 or 0,2,4-6 (default: all).")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:1, mps ...")
@click.option(
    "--dtype",
    type=click.Choice(["float32", "bfloat16", "float16"]),
    default="float32",
    show_default=True,
    help="Weights dtype.",
)
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
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def project_cmd(
    model, out, what, top_k, layers, device, dtype, tokens, src_tokens, no_final_norm, quiet
) -> None:
    """Project MODEL's FFN neurons and attention heads into its vocabulary (resumable).

    MODEL is a directory, a .gguf file, a hub id, or the alias smollm2-135m. Restarting with the
    same options and --out resumes after the finished layers.
    """  # fmt: skip
    from pathlib import Path

    from vocablens.project.run import ProjectConfig, project_to_dir

    config = ProjectConfig(model=model, out=Path(out), what=what, layers=layers, k=top_k,
                           device=device, dtype=dtype, tokens=tokens, src_tokens=src_tokens,
                           final_norm=not no_final_norm, progress=not quiet)  # fmt: skip
    folder = project_to_dir(config)
    click.echo(f"wrote {folder}")


@main.command("report")
@click.argument("model")
@click.option(
    "--prompts",
    "prompts_file",
    default=None,
    help="Prompts file: one prompt per line, # comments, \\n for a newline (default: examples).",
)
@click.option("--layers", default=None, help="Layers that get a page, e.g. 0-5 or 0,10,20-29.")
@click.option(
    "--out",
    "-o",
    default="report",
    show_default=True,
    help="Report folder; an earlier report there is replaced once the new one is complete.",
)
@click.option(
    "--color",
    "heatmap_color",
    type=click.Choice(["prob", "kl"]),
    default="prob",
    show_default=True,
    help="Heatmap colour: top-1 probability or KL to final.",
)
@click.option("--top-k", "-k", "value_k", default=30, show_default=True, help="Tokens per vector.")
@click.option("--ov-tokens", default=4000, show_default=True, help="Words the OV circuits read.")
@click.option("--no-annotate", is_flag=True, help="Skip concept labels.")
@click.option("--no-umap", is_flag=True, help="Skip the UMAP figures.")
@click.option("--no-ov", is_flag=True, help="Skip the attention heads' OV projections.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def report_cmd(**opts) -> None:
    """Write an HTML report on MODEL: index.html, a page per layer, PNG figures.

    MODEL is a directory, a .gguf file, a hub id, or the alias smollm2-135m. The report opens
    offline from the file system.
    """
    from vocablens.reports.config import ReportConfig
    from vocablens.reports.prompts import read_prompts
    from vocablens.reports.report import generate_report

    prompts_file = opts["prompts_file"]
    config = ReportConfig(
        prompts=read_prompts(prompts_file) if prompts_file is not None else [],
        layers=parse_layers(opts["layers"]),
        heatmap_color=opts["heatmap_color"],
        value_k=opts["value_k"],
        ov_tokens=opts["ov_tokens"],
        annotate=not opts["no_annotate"],
        umap=not opts["no_umap"],
        ov=not opts["no_ov"],
    )
    folder = generate_report(
        opts["model"], out=opts["out"], config=config, progress=not opts["quiet"]
    )
    click.echo(f"wrote {folder / 'index.html'}")


def run() -> None:  # pragma: no cover - console entry point alias
    """Run the command line (an alias of :func:`main`)."""
    main()
