"""Loading report entries (being written)."""

__all__: list[str] = []
