"""Durable storage: SQLAlchemy 2 tables, engine set-up, Alembic migrations."""
