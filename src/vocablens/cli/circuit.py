"""``vocablens circuit``: a task's circuit by node ablation, optionally compared with another's."""

from __future__ import annotations

import click

from vocablens.cli import options

TASK_NAMES = ("greater-than", "ioi", "colored-objects")


@click.command("circuit")
@options.model
@click.option("--task", type=click.Choice(TASK_NAMES), required=True, help="The task.")
@click.option(
    "--compare",
    type=click.Choice(TASK_NAMES),
    default=None,
    help="Also find this task's circuit and compare the two.",
)
@click.option(
    "--examples",
    type=click.IntRange(min=1),
    default=12,
    show_default=True,
    help="Search on this many examples the model gets right.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(min=0),
    default=0.05,
    show_default=True,
    help="Remove a node when the metric moves less than this share of the full one.",
)
@click.option("--ablation", type=click.Choice(("mean", "zero")), default="mean", show_default=True)
@click.option("--fine", is_flag=True, help="Visit every head and MLP (no blocks-first pass).")
@options.out("the circuit page (a folder)", required=True)
@options.device
@options.dtype
def command(model, task, compare, examples, threshold, ablation, fine, out, device,
            dtype) -> None:  # fmt: skip
    """Find TASK's circuit in MODEL (heads and MLPs), its faithfulness, and what removing it costs."""
    from vocablens.atomic import check_replaceable_folder
    from vocablens.intervene.circuit import find_circuit
    from vocablens.intervene.overlap import compare_circuits
    from vocablens.intervene.tasks import make_task
    from vocablens.model.devices import resolve_dtype
    from vocablens.model.loading import load_model
    from vocablens.reports.intervene_pages import MARKER, write_circuit_page

    check_replaceable_folder(out, MARKER, "page")
    lm = load_model(model, device=device, dtype=resolve_dtype(dtype))
    kw = dict(threshold=threshold, ablation=ablation, coarse=not fine, max_examples=examples)
    circuit = find_circuit(lm, make_task(task, lm.tokenizer), **kw)
    click.echo(circuit.summary())
    pairs = []
    if compare is not None:
        other = find_circuit(lm, make_task(compare, lm.tokenizer), **kw)
        click.echo(other.summary())
        overlap = compare_circuits(circuit, other)
        click.echo(overlap.summary())
        pairs.append((other, overlap))
    path = write_circuit_page(circuit, out, compare=pairs)
    click.echo(f"wrote {path}/index.html")
