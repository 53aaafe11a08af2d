"""Charts of journeys and transitions (being written)."""

__all__: list[str] = []
