"""Pause the cyclic garbage collector while a run or a ledger allocates many small objects.

A 100,000-message run allocates hundreds of thousands of containers; each gen-0 collection
walks them, which tripled the ledger's cost. Nothing here makes reference cycles that need
collecting before the phase ends, and the collector is restored (and runs) afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
