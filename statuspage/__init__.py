"""statuspage: a self-hosted, automated public status page."""

__version__ = "0.1.0"
