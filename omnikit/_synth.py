"""Seeded synthetic Customer Omnichannel Reports (being written)."""

__all__: list[str] = []
