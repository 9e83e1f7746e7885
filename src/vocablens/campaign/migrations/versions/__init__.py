"""Alembic revisions of the campaign schema, oldest first."""
