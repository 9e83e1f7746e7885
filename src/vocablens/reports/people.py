"""People's labels from a campaign in a report: beside the machine label, and in the search.

The table comes from :func:`vocablens.campaign.people.people_labels` (``ReportData.people``);
here it becomes plain rows. Only value vectors (kind ``"values"``) are shown: they are the
report's neuron rows. Text stays as typed; the templates escape it (Jinja2 autoescape) and the
search index is escaped JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vocablens.reports.page_rows import Key, unit
from vocablens.tokens import shown

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class PeopleLabel:
    """A vector side's label from the campaign.

    Attributes:
        label: the label as typed (or "(no concept)").
        adjudicated: an adjudicator's final label (else the annotators' majority).
        n_labels: the annotators' current labels of the item.
    """

    label: str
    adjudicated: bool
    n_labels: int


def people_lookup(people: pd.DataFrame | None) -> dict[Key, PeopleLabel]:
    """Per ``(layer, unit, sign)`` the people's label of a value vector (empty without a table)."""
    if people is None or not len(people):
        return {}
    part = people[people["kind"] == "values"]
    out: dict[Key, PeopleLabel] = {}
    for r in part.itertuples(index=False):
        key = (int(r.layer), unit(int(r.expert), int(r.index)), int(r.sign))
        out[key] = PeopleLabel(shown(str(r.label)), bool(r.adjudicated), int(r.n_labels))
    return out


def add_people(
    rows: list[dict[str, Any]], layer: int, lookup: dict[Key, PeopleLabel]
) -> list[dict[str, Any]]:
    """Give each neuron row of ``layer`` its ``people`` and ``people_suppressed`` labels (or None)."""
    for row in rows:
        row["people"] = lookup.get((layer, row["index"], 1))
        row["people_suppressed"] = lookup.get((layer, row["index"], -1))
    return rows


def add_people_to_index(index: dict[str, Any], lookup: dict[Key, PeopleLabel]) -> dict[str, Any]:
    """Add the people's labels to a search index (:func:`~vocablens.reports.search.build_index`).

    The labels join the index's ``labels`` table, and ``index["people"]`` runs parallel to
    ``index["neurons"]``: per neuron ``[label id, adjudicated (0/1)]`` of its promoted side, or 0
    when the people gave none. Without labels the index is left as it is.
    """
    if not lookup:
        return index
    labels: list[str] = index["labels"]
    ids = {text: i for i, text in enumerate(labels)}
    people: list[Any] = []
    for neuron in index["neurons"]:
        found = lookup.get((neuron[0], neuron[1], 1))
        if found is None:
            people.append(0)
            continue
        if found.label not in ids:
            ids[found.label] = len(labels)
            labels.append(found.label)
        people.append([ids[found.label], int(found.adjudicated)])
    index["people"] = people
    return index
