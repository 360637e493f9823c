"""Contingent orders of a paper account: bracket children (take-profit and stop-loss) that
wait for their entry, and OCO groups where a fill of one member reduces (a full fill
cancels) the others.

A bracket's children are activated, sized to what the entry has filled, when it fills; they
resize as it fills further and as they fill themselves; if an exit closes the whole trade,
its sibling and the entry's rest are cancelled.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from engine.paper.orders import (
    Fill,
    Order,
    OrderActivated,
    OrderCancelled,
    OrderHeld,
    OrderModified,
    OrderRequest,
    OrderState,
    OrderSubmitted,
    OrderType,
    Role,
    Side,
    TimeInForce,
)

if TYPE_CHECKING:
    from engine.paper.account import PaperAccount


def add_children(acct: PaperAccount, parent: Order, req: OrderRequest, now_ms: int) -> None:
    """Bracket ``parent``: its take-profit and/or stop-loss as an OCO pair of GTC exits,
    waiting (``held``) until the entry fills."""
    group = f"B{parent.order_id}"
    exit_side = Side.SELL if req.side is Side.BUY else Side.BUY
    legs: list[tuple[Role, OrderType, Decimal | None, Decimal | None]] = []
    if req.take_profit is not None:
        legs.append((Role.TAKE_PROFIT, OrderType.LIMIT, req.take_profit, None))
    if req.stop_loss is not None:
        legs.append((Role.STOP_LOSS, OrderType.STOP, None, req.stop_loss))
    for role, type_, limit, stop in legs:
        cid = acct.ids.order_id()
        ev = OrderSubmitted(
            cid, now_ms, acct.name, req.symbol, exit_side, req.qty, type_, TimeInForce.GTC,
            limit, stop, None, None, parent.order_id, group, role, now_ms, req.tag,
        )
        c = acct._new_order(ev)
        acct._emit(c, OrderHeld(cid, now_ms))
        acct._children.setdefault(parent.order_id, []).append(c)
        acct._groups.setdefault(group, []).append(c)
        acct._activate_working(c)


def sync_children(acct: PaperAccount, parent: Order, t: int, price: Decimal) -> None:
    """A bracket entry filled: activate the children, sized to what is open."""
    kids = acct._children[parent.order_id]
    open_qty = parent.filled_qty - sum(c.filled_qty for c in kids)
    for c in kids:
        if not c.is_working:
            continue
        target = c.filled_qty + open_qty
        if c.state is OrderState.WAITING:
            acct._emit(c, OrderActivated(c.order_id, t, qty=target))
            acct._late.append((c, price))
        elif target != c.qty and target > c.filled_qty:
            acct._emit(c, OrderModified(c.order_id, t, qty=target, reason="entry filled further"))


def after_oco_fill(acct: PaperAccount, o: Order, fill: Fill, t: int) -> None:
    """``o`` of an OCO group filled (``fill``): bracket exits are sized to what is still
    open (all cancelled, and the entry's rest too, once nothing is); a plain OCO partner
    shrinks by the fill, or is cancelled when ``o`` filled completely."""
    siblings = [s for s in acct._groups.get(o.oco_group, ()) if s is not o and s.is_working]  # type: ignore[arg-type]
    if not siblings:
        return
    if o.parent_id is not None:  # bracket exits: size to what is still open
        parent = acct.orders[o.parent_id]
        kids = acct._children[o.parent_id]
        open_qty = parent.filled_qty - sum(c.filled_qty for c in kids)
        if open_qty <= 0:
            for s in siblings:
                acct._emit(s, OrderCancelled(s.order_id, t, reason=f"OCO: {o.role.value} {o.order_id} filled"))
            if parent.is_working:  # the exit closed the trade: the entry's rest is void
                acct._emit(parent, OrderCancelled(parent.order_id, t, reason=f"bracket exit {o.order_id} filled"))
            return
        for s in siblings:
            target = s.filled_qty + open_qty
            if target != s.qty:
                acct._emit(s, OrderModified(s.order_id, t, qty=target, reason=f"OCO: {o.order_id} filled in part"))
        return
    for s in siblings:
        target = s.qty - fill.qty
        if o.state is OrderState.FILLED or target <= s.filled_qty:
            acct._emit(s, OrderCancelled(s.order_id, t, reason=f"OCO: order {o.order_id} filled"))
        else:
            acct._emit(s, OrderModified(s.order_id, t, qty=target, reason=f"OCO: {o.order_id} filled in part"))
