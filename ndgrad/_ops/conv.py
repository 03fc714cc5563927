"""nn-related ops registered in the op table (conv family); `__all__` names torch has at top level."""
from __future__ import annotations

__all__: list[str] = []
METHODS: dict = {}
