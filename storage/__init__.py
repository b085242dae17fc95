"""Persistence: SQLAlchemy 2.x models, engine setup, repositories and Alembic migrations."""
