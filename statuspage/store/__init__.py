"""Storage: tables, queries and migrations behind one `Store` object."""

from statuspage.store.store import CheckRow, ComponentRow, Store, create_db_engine

__all__ = ["CheckRow", "ComponentRow", "Store", "create_db_engine"]
