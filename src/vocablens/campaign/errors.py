"""The campaign's typed errors; each carries the HTTP status the API answers with."""

from __future__ import annotations

from vocablens.campaign.db import CampaignError


class Unauthorized(CampaignError):
    """No token, or a token that is nobody's (HTTP 401)."""

    status = 401


class Forbidden(CampaignError):
    """The caller may not do this: not their item, not an adjudicator (HTTP 403)."""

    status = 403


class NotFound(CampaignError):
    """No such item (HTTP 404)."""

    status = 404


class Conflict(CampaignError):
    """The item is already adjudicated, or a name is taken (HTTP 409)."""

    status = 409


def http_status(exc: CampaignError) -> int:
    """The HTTP status of a campaign error (422 for bad labels and other bad input)."""
    return int(getattr(exc, "status", 422))
