"""The demo credit model's version name, importable without the training stack (``loanbridge
up`` checks it to know whether the demo was seeded before)."""

from __future__ import annotations

from typing import Final

DEMO_VERSION: Final = "cm-demo-synthetic-2026.11"
