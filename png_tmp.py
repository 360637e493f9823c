"""Screens of the chart studies at 1280×800 (not committed)."""
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtWidgets import QApplication
app = QApplication([])
from engine.data.demo import DemoProvider, demo_symbols
from engine.events import EventBus
from engine.formula import FormulaService
from engine.store import open_database
from tests.widgets.stubs import SyncTasks
from tests.widgets.test_chart_studies import CsvData
from widgets.chart import ChartWidget
from widgets.chart.export import ExportButton
from widgets.chart.presets import PresetButton, PresetStore
import tempfile, pathlib

db = open_database(pathlib.Path(tempfile.mkdtemp()) / "s.db")
formulas = FormulaService(db, EventBus())

class Kv(dict):
    def get(self, k, d=None): return super().get(k, d)
    def set(self, k, v): self[k] = v

def chart(data):
    w = ChartWidget(data, SyncTasks())
    w.set_formula_source(formulas.parse, lambda: sorted(formulas.custom_map()))
    w.add_tool_button(PresetButton(w, PresetStore(Kv())))
    w.add_tool_button(ExportButton(w))
    w.resize(1280, 800); w.show()
    return w

out = pathlib.Path("/tmp/pngs"); out.mkdir(exist_ok=True)
w = chart(CsvData())
w.open_symbol("NVDA")
w.add_study("bbands"); w.add_study("ichimoku"); w.add_study("macd")
app.processEvents(); w.grab().save(str(out / "nvda_studies.png"))
w.compare.add("ORCL")
app.processEvents(); w.grab().save(str(out / "nvda_compare_orcl.png"))
w.pan(-0.4); app.processEvents()
import time; t=time.time()
while time.time()-t < 0.3: app.processEvents()
w.grab().save(str(out / "nvda_compare_panned.png"))
w.compare.remove("ORCL")
dlg = w.edit_legend_entry("study:ichimoku-2")
app.processEvents()
dlg.move(w.mapToGlobal(w.rect().center()) - dlg.rect().center())
# the chart with the editor over it: grab both and paint the editor onto the chart's picture
from PySide6.QtGui import QPainter
pic = w.grab(); p = QPainter(pic); p.drawPixmap(430, 120, dlg.grab()); p.end()
pic.save(str(out / "nvda_legend_editor.png"))
dlg.reject()

class Demo:
    def __init__(self): self.p = DemoProvider()
    def get_bars(self, symbol, timeframe="1d", refresh=False):
        from engine.data.bars import Bars
        return self.p.fetch(symbol, timeframe)
syms = demo_symbols()
d = chart(Demo())
d.open_symbol(syms[0]); d.add_study("macd")
d.compare.add(syms[1]); d.compare.add(syms[2])
app.processEvents(); d.grab().save(str(out / "demo_compare_2.png"))
print(syms[:3], [type(x) for x in [d.bars]])
