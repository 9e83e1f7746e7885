"""Alembic migrations of the campaign schema (run by :func:`vocablens.campaign.db.migrate`)."""
