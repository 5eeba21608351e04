"""Persistence: SQLAlchemy 2 models and the async database handle."""
