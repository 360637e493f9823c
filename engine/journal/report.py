"""A period review as a report: self-contained HTML with SVG charts (no Qt, no network).

``review_html(review)`` is one HTML file with every chart inline (SVG), for the browser and
the HTML export. ``review_html(review, inline=False)`` refers to the charts as
``<img src="chart:NAME">`` and ``review_charts(review)`` returns those SVGs by name: the PDF
writer (``widgets/journal/pdf.py``, Qt) rasterises them, since Qt's rich text has no SVG.

Sections: the numbers (trade statistics, exposure, return metrics when the review had a
starting equity), equity and drawdown of the realised P&L, a calendar heatmap of daily
P&L, P&L by weekday and by hour of entry, the R histogram, P&L by emotion, plan adherence
and what breaking it cost, the costliest mistakes, the best and worst setups, and the
recommendations, each with the figures that triggered it.
"""
from __future__ import annotations

import base64
import calendar
import html
import math
from collections.abc import Sequence
from datetime import date, timedelta

from engine.journal.review import Review, fmt_money, fmt_pct, fmt_signed
from engine.performance.trades import TradeStats

GREEN = "#26a69a"
RED = "#ef5350"
INK = "#222222"
MUTED = "#777777"
GRIDC = "#dddddd"
FONT = "DejaVu Sans, Arial, sans-serif"


def _e(s: object) -> str:
    return html.escape(str(s), quote=True)


def _money_axis(v: float, span: float = 100.0) -> str:
    """An axis label: 1.2M, 35k, 1,250, or with decimals when the axis spans little."""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.1f}M"
    if a >= 1e4:
        return f"{v / 1e3:.0f}k"
    if span < 4:
        return f"{v:,.2f}"
    if span < 40:
        return f"{v:,.1f}"
    return f"{v:,.0f}"


def _svg(w: int, h: int, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
            f'font-family="{FONT}" font-size="11">'
            f'<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>' + "".join(body) + "</svg>")


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float], *, w: int = 520, h: int = 220,
              money: bool = True) -> str:
    """A bar chart (SVG text): green bars up, red down, zero line, values on the axis."""
    body = [f'<text x="8" y="16" font-size="13" fill="{INK}">{_e(title)}</text>']
    left, right, top, bottom = 56, 10, 28, 34
    pw, ph = w - left - right, h - top - bottom
    if not values:
        body.append(f'<text x="{w / 2}" y="{h / 2}" text-anchor="middle" fill="{MUTED}">no trades</text>')
        return _svg(w, h, body)
    vmax = max(max(values), 0.0)
    vmin = min(min(values), 0.0)
    if vmax == vmin:
        vmax += 1.0
    span = vmax - vmin

    def y(v: float) -> float:
        return top + (vmax - v) / span * ph

    for k in range(5):
        v = vmin + span * k / 4
        yy = y(v)
        body.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{w - right}" y2="{yy:.1f}" stroke="{GRIDC}" stroke-width="1"/>')
        body.append(f'<text x="{left - 4}" y="{yy + 4:.1f}" text-anchor="end" fill="{MUTED}">'
                    f'{_e(_money_axis(v, span) if money else f"{v:g}")}</text>')
    n = len(values)
    slot = pw / n
    bw = max(slot * 0.7, 1.0)
    for i, (lab, v) in enumerate(zip(labels, values)):
        x = left + i * slot + (slot - bw) / 2
        y0, y1 = sorted((y(0.0), y(v)))
        body.append(f'<rect x="{x:.1f}" y="{y0:.1f}" width="{bw:.1f}" height="{max(y1 - y0, 0.5):.1f}" '
                    f'fill="{GREEN if v >= 0 else RED}"/>')
        if n <= 24:
            body.append(f'<text x="{x + bw / 2:.1f}" y="{h - bottom + 14}" text-anchor="middle" fill="{INK}" '
                        f'font-size="{10 if n > 12 else 11}">{_e(lab)}</text>')
    body.append(f'<line x1="{left}" y1="{y(0.0):.1f}" x2="{w - right}" y2="{y(0.0):.1f}" stroke="{INK}" stroke-width="1"/>')
    return _svg(w, h, body)


def line_chart(title: str, labels: Sequence[str], values: Sequence[float], *, w: int = 520, h: int = 220,
               color: str = GREEN, fill_below: bool = False) -> str:
    """A line chart (SVG text) with the first and last label on the axis."""
    body = [f'<text x="8" y="16" font-size="13" fill="{INK}">{_e(title)}</text>']
    left, right, top, bottom = 56, 10, 28, 30
    pw, ph = w - left - right, h - top - bottom
    if not values:
        body.append(f'<text x="{w / 2}" y="{h / 2}" text-anchor="middle" fill="{MUTED}">no trades</text>')
        return _svg(w, h, body)
    vmax, vmin = max(max(values), 0.0), min(min(values), 0.0)
    if vmax == vmin:
        vmax += 1.0
    span = vmax - vmin

    def y(v: float) -> float:
        return top + (vmax - v) / span * ph

    def x(i: int) -> float:
        return left + (pw * i / (len(values) - 1) if len(values) > 1 else pw / 2)

    for k in range(5):
        v = vmin + span * k / 4
        body.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{w - right}" y2="{y(v):.1f}" stroke="{GRIDC}" stroke-width="1"/>')
        body.append(f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end" fill="{MUTED}">{_e(_money_axis(v, span))}</text>')
    pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    if fill_below:
        poly = f"{x(0):.1f},{y(0):.1f} {pts} {x(len(values) - 1):.1f},{y(0):.1f}"
        body.append(f'<polygon points="{poly}" fill="{color}" fill-opacity="0.35" stroke="none"/>')
    body.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
    if len(values) == 1:
        body.append(f'<circle cx="{x(0):.1f}" cy="{y(values[0]):.1f}" r="3" fill="{color}"/>')
    body.append(f'<line x1="{left}" y1="{y(0):.1f}" x2="{w - right}" y2="{y(0):.1f}" stroke="{INK}" stroke-width="1"/>')
    if labels:
        body.append(f'<text x="{left}" y="{h - 10}" fill="{MUTED}">{_e(labels[0])}</text>')
        body.append(f'<text x="{w - right}" y="{h - 10}" text-anchor="end" fill="{MUTED}">{_e(labels[-1])}</text>')
    return _svg(w, h, body)


def calendar_heatmap(title: str, daily: dict[date, float], start: date, end: date, *, w: int = 520) -> str:
    """Months of [start, end) as calendars, each day coloured by its P&L (green gain, red
    loss, deeper = larger), with the day's number and its P&L rounded."""
    months: list[tuple[int, int]] = []
    d = start.replace(day=1)
    while d < end:
        months.append((d.year, d.month))
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    cols = 1 if len(months) == 1 else (3 if len(months) <= 3 else 4)
    cell = (w - 20) / (7 * cols) - 2
    month_h = cell * 6 + 34
    rows = math.ceil(len(months) / cols)
    h = int(28 + rows * month_h)
    big = max([abs(v) for v in daily.values()] or [1.0]) or 1.0
    body = [f'<text x="8" y="16" font-size="13" fill="{INK}">{_e(title)}</text>']
    for k, (yy, mm) in enumerate(months):
        ox = 10 + (k % cols) * (cell + 2) * 7
        oy = 28 + (k // cols) * month_h
        body.append(f'<text x="{ox}" y="{oy + 12}" fill="{INK}" font-size="12">{calendar.month_name[mm]} {yy}</text>')
        for i, wd in enumerate("MTWTFSS"):
            body.append(f'<text x="{ox + i * (cell + 2) + cell / 2:.1f}" y="{oy + 26}" text-anchor="middle" '
                        f'fill="{MUTED}" font-size="9">{wd}</text>')
        first_wd = date(yy, mm, 1).weekday()
        for day in range(1, calendar.monthrange(yy, mm)[1] + 1):
            pos = first_wd + day - 1
            cx, cy = ox + (pos % 7) * (cell + 2), oy + 30 + (pos // 7) * (cell + 2)
            v = daily.get(date(yy, mm, day))
            if v is None:
                fill, op = "#f2f2f2", 1.0
            else:
                fill, op = (GREEN if v >= 0 else RED), 0.25 + 0.75 * min(abs(v) / big, 1.0)
            body.append(f'<rect x="{cx:.1f}" y="{cy:.1f}" width="{cell:.1f}" height="{cell * 0.8:.1f}" fill="{fill}" '
                        f'fill-opacity="{op:.2f}"/>')
            body.append(f'<text x="{cx + 3:.1f}" y="{cy + 10:.1f}" fill="{INK}" font-size="9">{day}</text>')
            if v is not None and cell >= 40:
                body.append(f'<text x="{cx + cell - 3:.1f}" y="{cy + cell * 0.8 - 4:.1f}" text-anchor="end" '
                            f'fill="{INK}" font-size="9">{_e(_money_axis(v))}</text>')
    return _svg(w, h, body)


# --------------------------------------------------------------------------- charts


def equity_points(review: Review) -> tuple[list[str], list[float], list[float]]:
    """(day labels, cumulative realised P&L, drawdown from its running peak ≤ 0) by traded day."""
    days = sorted(review.daily_pnl)
    eq: list[float] = []
    dd: list[float] = []
    total, peak = 0.0, 0.0
    for d in days:
        total += review.daily_pnl[d]
        peak = max(peak, total)
        eq.append(total)
        dd.append(total - peak)
    return [d.isoformat() for d in days], eq, dd


def review_charts(review: Review) -> dict[str, str]:
    """The report's charts as SVG text, by name."""
    labels, eq, dd = equity_points(review)
    wd = [(k, s.net_pnl) for k, s in review.by_weekday.items() if s.n]
    hr = [(k, s.net_pnl) for k, s in sorted(review.by_hour.items()) if s.n]
    rh = review.r_histogram
    r_labels = [f"<{hi:g}" if math.isinf(lo) else (f"≥{lo:g}" if math.isinf(hi) else f"{lo:g}") for lo, hi, _ in rh]
    end = review.period.end
    return {
        "equity": line_chart("Equity: cumulative net P&L", labels, eq, fill_below=False),
        "drawdown": line_chart("Drawdown from the peak", labels, dd, color=RED, fill_below=True),
        "calendar": calendar_heatmap("Daily P&L", review.daily_pnl, review.period.start, end),
        "weekday": bar_chart("Net P&L by weekday of entry", [k for k, _ in wd], [v for _, v in wd]),
        "hour": bar_chart("Net P&L by hour of entry", [k[:2] for k, _ in hr], [v for _, v in hr]),
        "r_histogram": bar_chart("R-multiples (trades with a stop)", r_labels, [float(c) for *_, c in rh],
                                 money=False),
    }


# --------------------------------------------------------------------------- tables


def _pf(x: float) -> str:
    return "n/a" if math.isnan(x) else ("∞" if math.isinf(x) else f"{x:.2f}")


def _r(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:+.2f} R"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], num_from: int = 1) -> str:
    th = "".join(f'<th align="{"left" if i < num_from else "right"}">{_e(h)}</th>' for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f'<td align="{"left" if i < num_from else "right"}">{_e(c)}</td>'
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f'<table cellspacing="0" cellpadding="3" border="1" width="100%"><tr>{th}</tr>{body}</table>'


def _group_rows(groups: dict[str, TradeStats]) -> list[list[str]]:
    return [[k, str(s.n), fmt_pct(s.win_rate) if s.n else "n/a", fmt_signed(s.net_pnl), fmt_signed(s.expectancy),
             _r(s.r_mean)] for k, s in sorted(groups.items(), key=lambda ks: ks[1].net_pnl)]


GROUP_HEAD = ("", "trades", "win rate", "net P&L", "expectancy", "mean R")


def numbers_rows(review: Review) -> list[list[str]]:
    s = review.stats
    rows = [
        ["Trades", str(s.n)], ["Wins / losses", f"{s.wins} / {s.losses}"],
        ["Win rate", fmt_pct(s.win_rate) if s.n else "n/a"], ["Net P&L", fmt_signed(s.net_pnl)],
        ["Profit factor", _pf(s.profit_factor)], ["Expectancy per trade", fmt_signed(s.expectancy)],
        ["Average win / loss", f"{fmt_money(s.avg_win) if s.wins else 'n/a'} / "
                               f"{fmt_money(s.avg_loss) if s.losses else 'n/a'}"],
        ["Payoff ratio", _pf(s.payoff_ratio)],
        ["Longest win / loss streak", f"{s.max_win_streak} / {s.max_loss_streak}"],
        ["Mean / median R", f"{_r(s.r_mean)} / {_r(s.r_median)} ({s.r_count} with a stop)"],
        ["Exposure (time with a position open)", fmt_pct(review.exposure)],
    ]
    _, _, dd = equity_points(review)
    rows.append(["Largest drawdown of realised P&L", fmt_money(min(dd)) if dd else "n/a"])
    m = review.returns
    if m is not None:
        rows += [["Sharpe (daily, 252 days, risk-free 0)", f"{m.sharpe:.2f}"], ["Sortino", f"{m.sortino:.2f}"],
                 ["Calmar", f"{m.calmar:.2f}"], ["CAGR", fmt_pct(m.cagr)],
                 ["Annual volatility", fmt_pct(m.volatility)], ["Max drawdown", fmt_pct(m.max_drawdown)]]
    return rows


def review_html(review: Review, *, inline: bool = True, title: str = "Trading review") -> str:
    """The report as one HTML document (see the module docstring)."""
    charts = review_charts(review)

    def chart(name: str) -> str:
        if inline:
            data = base64.b64encode(charts[name].encode()).decode()
            return f'<p><img alt="{name}" src="data:image/svg+xml;base64,{data}"/></p>'
        return f'<p><img alt="{name}" src="chart:{name}" width="520"/></p>'

    p = review.period
    last = p.end - timedelta(days=1)
    parts = [
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">",
        f"<title>{_e(title)} {p.label}</title>",
        "<style>body{font-family:DejaVu Sans,Arial,sans-serif;color:#222;max-width:1100px;margin:auto;padding:12px}"
        "table{border-collapse:collapse;margin-bottom:10px}td,th{border:1px solid #ccc;padding:3px 6px}"
        "h2{border-bottom:2px solid #26a69a;margin-top:18px}.muted{color:#777}</style></head><body>",
        f"<h1>{_e(title)}: {p.kind} {p.label}</h1>",
        f'<p class="muted">{p.start.isoformat()} to {last.isoformat()}; {review.stats.n} closed trades. '
        "Return metrics as empyrical: daily, 252 days a year, risk-free 0, drawdown a negative fraction.</p>",
        "<h2>Recommendations</h2>",
    ]
    if review.recommendations:
        parts.append("<ol>" + "".join(f"<li><b>{_e(r.advice)}</b><br/>{_e(r.evidence)}</li>"
                                      for r in review.recommendations) + "</ol>")
    else:
        parts.append("<p>None: no rule reached its minimum number of trades with a finding.</p>")
    parts += ["<h2>The numbers</h2>", _table(("", "value"), numbers_rows(review)),
              "<h2>Equity and drawdown</h2>", chart("equity"), chart("drawdown"),
              "<h2>Calendar</h2>", chart("calendar"),
              "<h2>When you trade</h2>", chart("weekday"), chart("hour"),
              "<h2>R distribution</h2>", chart("r_histogram"),
              "<h2>P&amp;L by emotion</h2>"]
    emo = {k: s for k, s in review.by_emotion_before.items() if s.n}
    parts.append(_table(("emotion before entry", *GROUP_HEAD[1:]), _group_rows(emo)) if emo
                 else "<p>No emotions recorded.</p>")
    pl = review.plan
    parts.append("<h2>Plan adherence</h2>")
    if pl.answered:
        cost = "n/a (needs on- and off-plan trades)" if pl.cost is None else fmt_money(pl.cost)
        rows = [["Followed the plan", f"{pl.followed} of {pl.answered} ({fmt_pct(pl.rate)})"],
                ["What breaking it cost", cost]]
        if pl.on_plan is not None:
            rows.append(["Expectancy on plan", fmt_signed(pl.on_plan.expectancy)])
        if pl.off_plan is not None:
            rows.append(["Expectancy off plan", fmt_signed(pl.off_plan.expectancy)])
        parts.append(_table(("", "value"), rows))
    else:
        parts.append("<p>Not answered on any trade.</p>")
    parts.append("<h2>Top mistakes by cost</h2>")
    parts.append(_table(("mistake", "trades", "net P&L", "cost"),
                        [[m.name, str(m.trades), fmt_signed(m.net_pnl), fmt_money(m.cost)] for m in review.top_mistakes])
                 if review.top_mistakes else "<p>No mistakes tagged.</p>")
    parts.append("<h2>Setups</h2>")
    if review.best_setups or review.worst_setups:
        parts.append(_table(("", *GROUP_HEAD), [["best", *r] for r in _group_rows(dict(review.best_setups))]
                            + [["worst", *r] for r in _group_rows(dict(review.worst_setups))], num_from=2))
    elif review.by_setup:
        parts.append(_table(("setup", *GROUP_HEAD[1:]), _group_rows(review.by_setup)))
    else:
        parts.append("<p>No setups tagged.</p>")
    if review.by_tag:
        parts += ["<h2>By tag</h2>", _table(("tag", *GROUP_HEAD[1:]), _group_rows(review.by_tag))]
    if review.by_symbol:
        parts += ["<h2>By symbol</h2>", _table(("symbol", *GROUP_HEAD[1:]),
                                               _group_rows({k: s for k, s in review.by_symbol.items() if s.n}))]
    parts.append("</body></html>")
    return "\n".join(parts)
