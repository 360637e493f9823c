"""The chart feature: multi-instance chart docks, the active chart, symbol routing
(``app/chart_registry.py``), the toolbar's Presets (kept in the store's kv table through
``ctx.ui``) and Export menus."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.features import Area, CliVerb, DockSpec, Feature, ServiceSpec, SettingKey, Subscription

if TYPE_CHECKING:
    import argparse

    from PySide6.QtWidgets import QWidget

    from app.context import AppContext

DOCK_ID = "chart"
#: where intraday chart times are drawn (widgets.chart.axes.TIME_ZONES)
TIME_ZONE_CHOICES = ("exchange", "local", "utc")


def _registry(ctx: "AppContext") -> object:
    from app.chart_registry import ChartRegistry

    return ChartRegistry(ctx, DOCK_ID)


def _chart(ctx: "AppContext", instance_id: str) -> "QWidget":
    from widgets.chart import ChartWidget
    from widgets.chart.transform_types import register_transform_types

    register_transform_types()
    w = ChartWidget(ctx.data, ctx.tasks)
    from engine.charts.drawings import DrawingStore

    w.set_drawing_store(DrawingStore(ctx.db))
    w.set_formula_source(ctx.formulas.parse, lambda: sorted(ctx.formulas.custom_map()))
    from app.features.news import attach_sentiment_study

    attach_sentiment_study(ctx, w)
    zone = str(ctx.settings.get("chart/time_zone", "exchange"))
    w.set_time_zone(zone if zone in TIME_ZONE_CHOICES else "exchange")
    _add_tools(ctx, w)
    ctx.chart_registry.add(instance_id, w)
    return w


def _add_chart_transform(parser: "argparse.ArgumentParser") -> None:
    from app.chart_cli import add_chart_transform

    add_chart_transform(parser)


def _run_chart_transform(args: "argparse.Namespace") -> int:
    from app.chart_cli import run_chart_transform

    return run_chart_transform(args)


def _add_tools(ctx: "AppContext", chart: Any) -> None:
    """The toolbar's Presets and Export menus; a new chart (no saved state: no symbol yet
    once the dock restored what it had) opens with the default preset."""
    from PySide6.QtCore import QTimer

    from widgets.chart.export import ExportButton
    from widgets.chart.presets import PresetButton, PresetStore, apply_preset

    store = PresetStore(ctx.ui)
    chart.presets = store
    chart.add_tool_button(PresetButton(chart, store))
    chart.add_tool_button(ExportButton(chart))

    def apply_default() -> None:
        preset = store.default()
        if preset is not None and not chart.symbol and not chart.overlay_names():
            apply_preset(chart, preset)

    QTimer.singleShot(0, chart, apply_default)  # after the dock's restore_state, which comes right after


def _on_custom_indicators(ctx: "AppContext", _event: Any) -> None:
    for chart in ctx.charts:
        chart.refresh_overlays()


def _apply_time_zone(ctx: "AppContext", value: Any) -> None:
    for chart in ctx.charts:
        chart.set_time_zone(str(value))


def _on_settings(ctx: "AppContext", event: Any) -> None:
    if event.key == "data/source":  # every open chart, not only the active one
        ctx.chart_registry.reload_all()


FEATURE = Feature(
    id="chart",
    title="Charts",
    services=(ServiceSpec("app.chart_registry:ChartRegistry", _registry),),
    docks=(
        DockSpec(DOCK_ID, "Chart", _chart, Area.RIGHT, shortcut="Ctrl+1", multi=True,
                 new_text="New &chart", new_shortcut="Ctrl+N", linkable=True),
    ),
    settings=(
        SettingKey("chart/time_zone", str, "exchange",
                   "intraday chart times: exchange (the market calendar's zone), local or utc",
                   choices=TIME_ZONE_CHOICES, apply=_apply_time_zone, label="Intraday time zone"),
    ),
    cli_verbs=(
        CliVerb("chart-transform", "a bar CSV as Renko, Kagi, Point & Figure, Line Break, range or "
                "Heikin-Ashi elements", _add_chart_transform, _run_chart_transform),
    ),
    subscriptions=(
        Subscription("engine.formula.events:CustomIndicatorsChanged", _on_custom_indicators),
        Subscription("engine.events:SettingsChanged", _on_settings),
    ),
)
