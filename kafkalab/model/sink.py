"""The application's sink: where processing has its side effect (a "database")."""

from __future__ import annotations

from collections.abc import Sequence


class Sink:
    """Counts how often each message id was applied; an idempotent sink applies each once."""

    def __init__(self, messages: int, idempotent: bool):
        self.idempotent = idempotent
        self.applied = [0] * messages
        self.total = 0

    def apply_many(self, ids: Sequence[int]) -> list[bool]:
        """Apply each id in order; True where it was applied."""
        applied = self.applied
        if not self.idempotent:
            for m in ids:
                applied[m] += 1
            self.total += len(ids)
            return [True] * len(ids)
        out = []
        for m in ids:
            if self.idempotent and applied[m]:
                out.append(False)
                continue
            applied[m] += 1
            out.append(True)
        self.total += out.count(True)
        return out
