"""``vocablens campaign``: concept-annotation campaigns (create, people, serve, status, export)."""

from __future__ import annotations

import json

import click


@click.group("campaign")
def command() -> None:
    """Concept-annotation campaigns: many people label projected vectors; agreement measured.

    DB is an SQLAlchemy URL (postgresql+psycopg://...) or a file path (an SQLite file).
    """


@command.command("create")
@click.argument("db")
@click.option(
    "--from", "projections", required=True, help="A folder written by `vocablens project`."
)
@click.option("--annotations", default=None, help="An annotation file (the machine labels).")
@click.option("--overlap", type=click.IntRange(min=1), default=3, show_default=True,
              help="Annotators per item.")  # fmt: skip
@click.option("--sample", type=click.IntRange(min=1), default=None,
              help="Items to sample, stratified by layer (default: all).")  # fmt: skip
@click.option("--gold", default=None, help="Known answers (CSV, JSONL or Parquet).")
@click.option("--show-machine", is_flag=True, help="Show annotators the machine label.")
@click.option("--activations", default=None, metavar="DIR",
              help="A 'vocablens activations' folder: top contexts join the evidence.")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of sample and order.")
def create(db, projections, annotations, overlap, sample, gold, show_machine, activations,
           seed) -> None:  # fmt: skip
    """Create a campaign in DB from a projection folder."""
    from vocablens.campaign.store import CampaignStore

    store = CampaignStore.create(db, projections, annotations=annotations, overlap=overlap,
                                 sample=sample, gold=gold, show_machine=show_machine, seed=seed,
                                 activations=activations)  # fmt: skip
    status = store.status()
    store.close()
    click.echo(f"created {db}: {status['items']} items ({status['gold_items']} gold), "
               f"overlap {status['overlap']}")  # fmt: skip


@command.command("annotator")
@click.argument("db")
@click.argument("name")
@click.option("--role", type=click.Choice(["annotator", "adjudicator"]), default="annotator",
              show_default=True)  # fmt: skip
@click.option("--url", default="http://127.0.0.1:8000", show_default=True,
              help="Where the campaign is served (for the printed link).")  # fmt: skip
def annotator(db, name, role, url) -> None:
    """Add a person; prints their personal link (the token in it is shown only once)."""
    from vocablens.campaign.store import CampaignStore

    store = CampaignStore.open(db)
    try:
        person, token = store.add_person(name, role)
    finally:
        store.close()
    click.echo(f"{person.name} ({person.role}): {url.rstrip('/')}/a/{token}/")
    click.echo(f"API token: {token}")


@command.command("serve")
@click.argument("db")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--no-warm-up", is_flag=True,
              help="Don't open WordNet at start (the first suggestion opens it).")  # fmt: skip
def serve(db, host, port, no_warm_up) -> None:
    """Serve the annotators' pages and the JSON API."""
    from vocablens.campaign.app import serve as run

    run(db, host=host, port=port, warm=not no_warm_up)


@command.command("status")
@click.argument("db")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(db, as_json) -> None:
    """Counts: items, people, labels, labelled and adjudicated items; progress per person."""
    from vocablens.campaign.store import CampaignStore

    store = CampaignStore.open(db)
    try:
        info = store.status()
        info["progress"] = [store.progress(p) for p in store.people()]
        info["adjudication_queue"] = len(store.queue())
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        if key != "progress":
            click.echo(f"{key}: {value}")
    for p in info["progress"]:
        click.echo(f"  {p['name']} ({p['role']}): {p['labelled']} labelled, {p['open']} open")


@command.command("agreement")
@click.argument("db")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def agreement(db, as_json) -> None:
    """Krippendorff's alpha, Fleiss' and Cohen's kappa, gold accuracy, machine vs people."""
    from vocablens.campaign.agreement import agreement as compute
    from vocablens.campaign.store import CampaignStore

    store = CampaignStore.open(db)
    try:
        result = compute(store)
    finally:
        store.close()
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else result.text())


@command.command("export")
@click.argument("db")
@click.option("--out", required=True, help="A .parquet or .jsonl file.")
def export(db, out) -> None:
    """Export every label and every adjudicated item, with the manifest hash."""
    from vocablens.campaign.export import export as write
    from vocablens.campaign.store import CampaignStore

    store = CampaignStore.open(db)
    try:
        path = write(store, out)
    finally:
        store.close()
    click.echo(f"wrote {path}")
