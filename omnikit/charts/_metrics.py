"""Charts of channel mix, waits, service level, patience (being written)."""

__all__: list[str] = []
