"""What `GET /healthz` reports besides the database: noted as things happen (an update
arriving, a dispatcher tick), read by the web layer. No Telegram and no database here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass
class Vitals:
    # When the last update reached the Application (webhook or polling), aware UTC.
    last_update_at: datetime | None = None
    # When the dispatch job last ran (it returns at once while a long fan-out is still
    # sending), and when a dispatch last finished: together they tell ticking from stuck.
    last_tick_at: datetime | None = None
    last_dispatch_done_at: datetime | None = None
    # Whether this process holds the lease and does the work (walkbot/lease.py), or waits as
    # a hot standby. A web app built without the runner (tests) is the only process: leader.
    role: Literal["leader", "standby"] = "leader"
