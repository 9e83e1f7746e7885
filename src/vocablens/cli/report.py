"""``vocablens report``: an HTML report on a model, readable offline."""

from __future__ import annotations

import click

from vocablens.cli import options


@click.command("report")
@options.model
@click.option(
    "--prompts",
    "prompts_file",
    default=None,
    help="Prompts file: one prompt per line, # comments, \\n for a newline (default: examples).",
)
@options.layers
@options.out(
    "the report folder; an earlier report there is replaced once the new one is complete",
    default="report",
    show_default=True,
)
@click.option(
    "--color",
    "heatmap_color",
    type=click.Choice(["prob", "kl"]),
    default="prob",
    show_default=True,
    help="Heatmap colour: top-1 probability or KL to final.",
)
@options.top_k(30)
@click.option("--ov-tokens", default=4000, show_default=True, help="Words the OV circuits read.")
@click.option("--no-annotate", is_flag=True, help="Skip concept labels.")
@click.option("--no-umap", is_flag=True, help="Skip the UMAP figures.")
@click.option("--no-ov", is_flag=True, help="Skip the attention heads' OV projections.")
@click.option(
    "--activations",
    default=None,
    metavar="DIR",
    help="A finished 'vocablens activations' folder: top contexts on layer pages.",
)
@click.option("--no-explain", is_flag=True, help="Skip the explain page of each prompt.")
@click.option("--campaign", default=None,
              help="A campaign DB: show its adjudicated (else majority) labels.")  # fmt: skip
@options.bos
@options.truncate
@options.device
@options.quiet
def command(**opts) -> None:
    """Write an HTML report on MODEL: index.html, a page per layer, PNG figures.

    MODEL is a directory, a .gguf file, a hub id, or the alias smollm2-135m. --layers chooses
    the layers that get a page (the logit lens always reads every layer); --top-k is the
    number of tokens kept per value vector and sign. The report opens offline from the file
    system.
    """
    from vocablens.atomic import check_replaceable_folder
    from vocablens.model.loading import load_model
    from vocablens.reports.config import ReportConfig
    from vocablens.reports.prompts import read_prompts
    from vocablens.reports.render import MARKER
    from vocablens.reports.report import generate_report

    prompts_file = opts["prompts_file"]
    config = ReportConfig(
        prompts=read_prompts(prompts_file) if prompts_file is not None else [],
        layers=opts["layers"],
        heatmap_color=opts["heatmap_color"],
        value_k=opts["top_k"],
        ov_tokens=opts["ov_tokens"],
        annotate=not opts["no_annotate"],
        umap=not opts["no_umap"],
        ov=not opts["no_ov"],
        explain=not opts["no_explain"],
        bos=opts["bos"],
        truncate=opts["truncate"],
        activations=opts["activations"],
        campaign=opts["campaign"],
    ).check()
    check_replaceable_folder(opts["out"], MARKER, "report")  # before loading the model
    if opts["campaign"] is not None:
        from vocablens.campaign.store import CampaignStore

        CampaignStore.open(opts["campaign"]).close()  # not a campaign: exit 2 before loading
    lm = load_model(opts["model"], device=opts["device"])
    folder = generate_report(lm, out=opts["out"], config=config, progress=not opts["quiet"])
    click.echo(f"wrote {folder / 'index.html'}")
