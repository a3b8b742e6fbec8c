"""What lives as long as the server process, kept out of the garbage collector's way.

Python's full (generation-2) collection walks every container object the process holds. After a
screen's first run that is mostly what lives as long as the server: the libraries the screen
imported (pandas, NumPy, SQLAlchemy, Streamlit), its modules, the engine. With ~200,000 such
objects a full collection paused the server for about 100 ms (one came in 40 changes of
campaign, 70 s of clicking; measured with a gc.callbacks logger, issue 15); with them frozen,
1.3 ms. `freeze_after_first_run` moves everything alive after each screen's first run into the
permanent generation (gc.freeze), so a full collection walks only what later runs create.
Objects frozen are still freed when their last reference goes; only a reference cycle among them
is never collected, and they are made once per screen per process, so that is bounded.
"""
from __future__ import annotations

import gc
import threading

_frozen: set[str] = set()
_lock = threading.Lock()


def freeze_after_first_run(screen: str) -> None:
    """Call after a screen's run: the first time per screen in this process, freeze what is alive."""
    if screen in _frozen:
        return
    with _lock:
        if screen not in _frozen:
            _frozen.add(screen)
            gc.freeze()
