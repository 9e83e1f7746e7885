"""Concept-annotation campaigns: many people label many vectors, nothing lost, agreement measured.

* :mod:`~vocablens.campaign.store`: the library API (:class:`CampaignStore`: create from a
  projection folder, people and tokens, assignment, labels, adjudication, status);
* :mod:`~vocablens.campaign.agreement`: Krippendorff's α, Fleiss' κ, Cohen's κ, gold accuracy,
  the machine labeller against people;
* :mod:`~vocablens.campaign.export`: Parquet / JSONL export;
* :mod:`~vocablens.campaign.app`: the web app and JSON API (FastAPI).

The database is SQLite (a file) or any SQLAlchemy URL (PostgreSQL for a team); alembic migrates
the schema whenever a campaign is created or opened.
"""

from __future__ import annotations

from vocablens.campaign.store import CampaignStore, Person

__all__ = ["CampaignStore", "Person"]
