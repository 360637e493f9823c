"""Alerts in the local store (migration ``0007_alerts``): templates, per-(alert, symbol)
state, the trigger history and the delivery queue.

``record(fires, plan)`` writes, in one transaction, each trigger's history row, its new
state and one pending delivery per channel: after a crash either all of that is stored (so
the restart knows the bar was already alerted and only finishes the deliveries) or none of
it (so the trigger fires again) — never a trigger notified twice, never one lost.
"""
from __future__ import annotations

import builtins
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from engine.alerts.model import AlertError, AlertTemplate, Fire, HistoryEntry, InstanceState
from engine.store.db import Database

STATUSES = ("pending", "sent", "failed")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One channel's delivery of one history entry. Times are UTC epoch seconds."""

    id: int
    history_id: int
    channel: str
    status: str
    attempts: int
    next_try_at: int
    last_error: str
    updated_at: int


def _now() -> int:
    return int(time.time())


def _json_values(values: dict[str, float]) -> str:
    # NaN/inf are not JSON: store them as null (a leaf can be NaN during warm-up)
    return json.dumps({k: (v if math.isfinite(v) else None) for k, v in values.items()}, sort_keys=True)


class AlertStore:
    """Read and write alerts, their state, history and deliveries (plain sqlite3)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ templates
    def save(self, alert: AlertTemplate, now: int | None = None) -> AlertTemplate:
        """Insert (``id`` None) or replace an alert, checked first; returns it with its id.

        Replacing an alert keeps its history but forgets its trigger state (its conditions
        may have changed). Raises ``AlertError`` for a bad template or an unknown id.
        """
        a = alert.checked()
        t = _now() if now is None else int(now)
        with self.db.connect() as c:
            if a.id is None:
                cur = c.execute("INSERT INTO alerts(name, definition, done_at, created_at, updated_at) "
                                "VALUES (?, ?, NULL, ?, ?)", (a.name, a.to_json(), t, t))
                return AlertTemplate.from_json(a.to_json(), id=int(cur.lastrowid or 0))
            cur = c.execute("UPDATE alerts SET name=?, definition=?, done_at=NULL, updated_at=? WHERE id=?",
                            (a.name, a.to_json(), t, a.id))
            if cur.rowcount == 0:
                raise AlertError(f"There is no alert with id {a.id}.")
            c.execute("DELETE FROM alert_state WHERE alert_id=?", (a.id,))
        return AlertTemplate.from_json(a.to_json(), id=a.id)

    def delete(self, alert_id: int) -> None:
        """Delete an alert and its state (its history stays, without the link)."""
        with self.db.connect() as c:
            c.execute("DELETE FROM alert_state WHERE alert_id=?", (int(alert_id),))
            c.execute("UPDATE alert_history SET alert_id=NULL WHERE alert_id=?", (int(alert_id),))
            c.execute("DELETE FROM alerts WHERE id=?", (int(alert_id),))

    def list(self) -> builtins.list[AlertTemplate]:
        """Every stored alert, by id. A row that no longer reads as an alert is skipped
        (``bad()`` names it) rather than stopping the others."""
        return self._read()[0]

    def bad(self) -> builtins.list[tuple[int, str]]:
        """(id, reason) of stored rows that are not valid alerts."""
        return self._read()[1]

    def _read(self) -> tuple[builtins.list[AlertTemplate], builtins.list[tuple[int, str]]]:
        with self.db.connect(write=False) as c:
            rows = c.execute("SELECT id, definition, done_at FROM alerts ORDER BY id").fetchall()
        out, bad = [], []
        for i, d, done in rows:
            try:
                out.append(AlertTemplate.from_json(d, id=int(i), done=done is not None))
            except AlertError as exc:
                bad.append((int(i), str(exc)))
        return out, bad

    def get(self, alert_id: int) -> AlertTemplate:
        """The alert ``alert_id``. Raises ``KeyError`` if there is none."""
        for a in self.list():
            if a.id == alert_id:
                return a
        raise KeyError(f"no alert with id {alert_id}")

    # ------------------------------------------------------------------ state
    def states(self) -> dict[tuple[int, str], InstanceState]:
        """(alert id, symbol) → what it remembers."""
        with self.db.connect(write=False) as c:
            rows = c.execute("SELECT alert_id, symbol, last_fired_at, last_bar_time, cooldown_until, "
                             "snoozed_until FROM alert_state").fetchall()
        return {(int(r[0]), str(r[1])): InstanceState(*r[2:]) for r in rows}

    def record(self, fires: Sequence[Fire], states: Sequence[InstanceState], channels: dict[int, tuple[str, ...]],
               done: Sequence[int] = ()) -> builtins.list[int]:
        """Store ``fires`` (with their new ``states``, one per fire), one pending delivery per
        channel of the alert (``channels``: alert id → channels), and mark ``done`` "once"
        alerts, all in one transaction. Returns the history ids, in the order of ``fires``."""
        if len(states) != len(fires):
            raise ValueError("record needs one state per fire")
        ids: builtins.list[int] = []
        with self.db.connect() as c:
            for f, st in zip(fires, states):
                cur = c.execute(
                    "INSERT INTO alert_history(alert_id, alert_name, symbol, fired_at, bar_time, values_json, "
                    "message) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (f.alert_id, f.alert_name, f.symbol, f.at, f.bar_time, _json_values(f.values), f.message))
                hid = int(cur.lastrowid or 0)
                ids.append(hid)
                c.execute(
                    "INSERT INTO alert_state(alert_id, symbol, last_fired_at, last_bar_time, cooldown_until) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(alert_id, symbol) DO UPDATE SET "
                    "last_fired_at=excluded.last_fired_at, last_bar_time=excluded.last_bar_time, "
                    "cooldown_until=excluded.cooldown_until",
                    (f.alert_id, f.symbol, st.last_fired_at, st.last_bar_time, st.cooldown_until))
                for ch in channels.get(f.alert_id, ()):
                    c.execute("INSERT INTO alert_deliveries(history_id, channel, status, attempts, next_try_at, "
                              "last_error, updated_at) VALUES (?, ?, 'pending', 0, ?, '', ?)",
                              (hid, ch, f.at, f.at))
            for aid in done:
                c.execute("UPDATE alerts SET done_at=? WHERE id=?", (fires[0].at if fires else _now(), aid))
        return ids

    # ------------------------------------------------------------------ history
    _HISTORY_SQL = ("SELECT id, alert_id, alert_name, symbol, fired_at, bar_time, values_json, message, "
                    "acknowledged_at, snoozed_until FROM alert_history ")

    def _entries(self, tail: str, args: tuple[object, ...]) -> builtins.list[HistoryEntry]:
        with self.db.connect(write=False) as c:
            rows = c.execute(self._HISTORY_SQL + tail, args).fetchall()
        out = []
        for r in rows:
            vals = {k: (float("nan") if v is None else float(v)) for k, v in json.loads(r[6]).items()}
            out.append(HistoryEntry(int(r[0]), int(r[1] or 0), r[2], r[3], int(r[4]), int(r[5]), vals, r[7],
                                    r[8], r[9]))
        return out

    def history(self, limit: int = 500, unacknowledged: bool = False) -> builtins.list[HistoryEntry]:
        """The newest ``limit`` triggers, newest first."""
        where = "WHERE acknowledged_at IS NULL " if unacknowledged else ""
        return self._entries(where + "ORDER BY fired_at DESC, id DESC LIMIT ?", (int(limit),))

    def entry(self, history_id: int) -> HistoryEntry:
        """One history entry. Raises ``KeyError``."""
        hit = self._entries("WHERE id=?", (int(history_id),))
        if not hit:
            raise KeyError(f"no alert history entry {history_id}")
        return hit[0]

    def acknowledge(self, history_ids: Sequence[int], now: int | None = None) -> None:
        """Mark history entries as seen by the user."""
        t = _now() if now is None else int(now)
        with self.db.connect() as c:
            c.executemany("UPDATE alert_history SET acknowledged_at=? WHERE id=? AND acknowledged_at IS NULL",
                          [(t, int(i)) for i in history_ids])

    def snooze(self, history_id: int, until: int, now: int | None = None) -> tuple[int, str]:
        """Keep the entry's (alert, symbol) quiet until ``until`` (epoch s); acknowledges the
        entry too. Returns (alert id, symbol). Raises ``KeyError`` / ``AlertError``."""
        t = _now() if now is None else int(now)
        if isinstance(until, bool) or not isinstance(until, int) or until <= t:
            raise AlertError("A snooze must end in the future.")
        with self.db.connect() as c:
            r = c.execute("SELECT alert_id, symbol FROM alert_history WHERE id=?", (int(history_id),)).fetchone()
            if r is None:
                raise KeyError(f"no alert history entry {history_id}")
            if r[0] is None:
                raise AlertError("The alert of this entry was deleted; there is nothing to snooze.")
            c.execute("UPDATE alert_history SET snoozed_until=?, acknowledged_at=COALESCE(acknowledged_at, ?) "
                      "WHERE id=?", (until, t, int(history_id)))
            c.execute("INSERT INTO alert_state(alert_id, symbol, snoozed_until) VALUES (?, ?, ?) "
                      "ON CONFLICT(alert_id, symbol) DO UPDATE SET snoozed_until=excluded.snoozed_until",
                      (r[0], r[1], until))
        return int(r[0]), str(r[1])

    # ------------------------------------------------------------------ deliveries
    def deliveries(self, status: str | None = None, limit: int = 500) -> builtins.list[Delivery]:
        """Deliveries (newest first), optionally of one status."""
        sql = ("SELECT id, history_id, channel, status, attempts, next_try_at, last_error, updated_at "
               "FROM alert_deliveries")
        args: tuple[object, ...] = ()
        if status is not None:
            if status not in STATUSES:
                raise ValueError(f"unknown delivery status {status!r}")
            sql += " WHERE status=?"
            args = (status,)
        with self.db.connect(write=False) as c:
            rows = c.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, int(limit))).fetchall()
        return [Delivery(*r) for r in rows]

    def due(self, now: int) -> builtins.list[Delivery]:
        """Pending deliveries whose next try is at or before ``now``, oldest first."""
        with self.db.connect(write=False) as c:
            rows = c.execute(
                "SELECT id, history_id, channel, status, attempts, next_try_at, last_error, updated_at "
                "FROM alert_deliveries WHERE status='pending' AND next_try_at<=? ORDER BY id", (int(now),)).fetchall()
        return [Delivery(*r) for r in rows]

    def mark(self, delivery_id: int, status: str, attempts: int, now: int, next_try_at: int | None = None,
             error: str = "") -> None:
        """Record the outcome of a try."""
        if status not in STATUSES:
            raise ValueError(f"unknown delivery status {status!r}")
        with self.db.connect() as c:
            c.execute("UPDATE alert_deliveries SET status=?, attempts=?, next_try_at=?, last_error=?, updated_at=? "
                      "WHERE id=?", (status, attempts, now if next_try_at is None else next_try_at, error[:2000],
                                     now, int(delivery_id)))

    def retry(self, delivery_id: int, now: int | None = None) -> None:
        """Queue a failed delivery again (the user pressed Retry)."""
        t = _now() if now is None else int(now)
        with self.db.connect() as c:
            c.execute("UPDATE alert_deliveries SET status='pending', attempts=0, next_try_at=?, updated_at=? "
                      "WHERE id=? AND status='failed'", (t, t, int(delivery_id)))
