"""Screen 4's engine: the live queries behind the real-time tiles.

- core.live.windows: the time arithmetic of "the last N minutes" and "the same minutes yesterday".
- core.live.tiles: every live tile's numbers in one snapshot (rollup up to its watermark plus
  the raw events it has not folded in yet, so the numbers are exact and current).
- core.live.brin: keeps the BRIN summaries of the newest event partitions current.

The live event simulator is part of the demo world (core.demo.simulator).
May import: core.platform, core.analytics; never streamlit.
"""
