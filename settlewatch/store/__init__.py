"""The store: SQLAlchemy 2 Core tables, Alembic migrations and the queries the pipeline needs."""
