"""Chart presets: type + timeframe + studies + styles; save, load, clone, rename, default; persisted."""
import pytest

from engine.events import EventBus
from engine.formula import FormulaService
from engine.store.kv import KeyValueStore
from app.ui_state import UiState
from tests.widgets.stubs import FakeData, SyncTasks
from widgets.chart import ChartWidget
from widgets.chart.presets import ChartPreset, PresetButton, PresetStore, apply_preset


@pytest.fixture
def formulas(db):
    return FormulaService(db, EventBus())


def _chart(qtbot, formulas):
    w = ChartWidget(FakeData(), SyncTasks())
    w.set_formula_source(formulas.parse, lambda: sorted(formulas.custom_map()))
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    return w


class DictBackend:
    def __init__(self):
        self.d = {}

    def get(self, name, default=None):
        return self.d.get(name, default)

    def set(self, name, value):
        self.d[name] = value


def test_a_preset_round_trips_through_the_store(qtbot, formulas, db):
    src = _chart(qtbot, formulas)
    src.open_symbol("ACME", "1wk")
    src.set_chart_type("hollow")
    src.set_scale("log")
    src.set_volume_visible(False)
    src.add_formula_overlay("sma(close, 20)")
    src.add_formula_overlay("rsi(close, 14)")
    store = PresetStore(UiState(KeyValueStore(db)))
    store.save(ChartPreset.from_chart(src, "Swing"))

    again = PresetStore(UiState(KeyValueStore(db)))  # a fresh reader: what was persisted
    p = again.get("Swing")
    assert (p.kind, p.timeframe, p.scale, p.volume) == ("hollow", "1wk", "log", False)
    assert p.overlays == ("sma(close, 20)", "rsi(close, 14)")

    dst = _chart(qtbot, formulas)
    dst.open_symbol("GLOBX")
    dst.add_formula_overlay("ema(close, 50)")  # not in the preset: removed
    apply_preset(dst, p)
    assert dst.symbol == "GLOBX" and dst.timeframe == "1wk" and dst.chart_type == "hollow"
    assert dst.scale == "log" and dst.volume_pane.isHidden()
    assert dst.overlay_names() == ["sma(close, 20)", "rsi(close, 14)"]
    assert dst.overlay_pane("rsi(close, 14)") == "lower" and dst.overlay_pane("sma(close, 20)") == "price"
    assert ChartPreset.from_chart(dst, "Swing") == p  # applying and reading back gives the same preset


def test_clone_rename_delete_and_default():
    store = PresetStore(DictBackend())
    store.save(ChartPreset("Day", "candles", "5m", ("ema(close, 9)",)))
    store.clone("Day", "Day 2")
    store.set_default("Day")
    store.rename("Day", "Scalp")
    assert store.names() == ["Scalp", "Day 2"]
    assert store.default().name == "Scalp"  # the default follows a rename
    assert store.get("Day 2").overlays == ("ema(close, 9)",)
    with pytest.raises(ValueError, match="exists already"):
        store.clone("Scalp", "Day 2")
    with pytest.raises(ValueError, match="needs a name"):
        store.rename("Scalp", "   ")
    with pytest.raises(KeyError):
        store.set_default("nope")
    store.delete("Scalp")
    assert store.names() == ["Day 2"] and store.default() is None


def test_bad_entries_are_refused_or_skipped():
    with pytest.raises(ValueError, match="unknown price scale"):
        ChartPreset.from_dict({"name": "x", "styles": {"scale": "cubic"}})
    with pytest.raises(ValueError, match="studies must be a list"):
        ChartPreset.from_dict({"name": "x", "overlays": "sma(close, 5)"})
    b = DictBackend()
    b.set("chart_presets", {"presets": [{"name": "ok"}, {"name": 3}, "junk"], "default": "gone"})
    store = PresetStore(b)
    assert store.names() == ["ok"] and store.default() is None


def test_preset_menu_lists_presets_and_applies_one(qtbot, formulas):
    chart = _chart(qtbot, formulas)
    chart.open_symbol("ACME")
    store = PresetStore(DictBackend())
    store.save(ChartPreset("Lines", "line", "1d"))
    store.set_default("Lines")
    btn = PresetButton(chart, store)
    chart.add_tool_button(btn)
    btn.menu_.aboutToShow.emit()
    texts = [a.text() for a in btn.menu_.actions()]
    assert "★ Lines" in texts and "Save current as…" in texts
    next(a for a in btn.menu_.actions() if a.text() == "★ Lines").trigger()
    assert chart.chart_type == "line"


def test_a_new_chart_gets_the_toolbar_menus_and_opens_with_the_default_preset(qtbot, formulas):
    from types import SimpleNamespace

    from app.features.chart import _add_tools
    from widgets.chart.export import ExportButton

    ui = DictBackend()
    store = PresetStore(ui)
    store.save(ChartPreset("Weekly lines", "line", "1wk", ("sma(close, 10)",)))
    store.set_default("Weekly lines")
    fresh = _chart(qtbot, formulas)
    _add_tools(SimpleNamespace(ui=ui), fresh)
    restored = _chart(qtbot, formulas)
    _add_tools(SimpleNamespace(ui=ui), restored)
    restored.restore_state({"symbol": "ACME", "timeframe": "1d", "kind": "candles"})  # a dock with saved state
    qtbot.wait(20)
    assert fresh.findChild(PresetButton, "chartPresets") and fresh.findChild(ExportButton, "chartExport")
    assert (fresh.chart_type, fresh.timeframe, fresh.overlay_names()) == ("line", "1wk", ["sma(close, 10)"])
    fresh.open_symbol("ACME")
    assert fresh.bars.timeframe == "1wk"
    assert (restored.chart_type, restored.timeframe, restored.overlay_names()) == ("candles", "1d", [])
