"""The price pane's grid: drawn at the axes' major ticks only (every minor tick looked busy)."""
from tests.widgets.stubs import FakeData, SyncTasks
from widgets.chart import ChartWidget


def test_grid_lines_sit_on_major_ticks_only(qtbot):
    chart = ChartWidget(FakeData(), SyncTasks())
    qtbot.addWidget(chart)
    chart.resize(1280, 800)
    chart.show()
    chart.open_symbol("ACME")
    qtbot.wait(10)
    pane = chart.price_pane
    (x0, x1), (y0, y1) = pane.vb.viewRange()
    ylevels = pane.axis.tickValues(y0, y1, pane.vb.height())
    assert len(ylevels) > 1 and ylevels[1][1]  # the axis has minor ticks here
    assert sorted(pane._grid_y()) == sorted(ylevels[0][1])
    xlevels = pane.date_axis.tickValues(x0, x1, pane.vb.width())
    assert sorted(pane._grid_x()) == sorted(xlevels[0][1])
    assert len(pane._grid_y()) <= 8  # calm at 1280×800
