"""Chart axis labels use the app's number formats (engine.formatting)."""
from widgets.chart import PriceAxis, VolumeAxis


def test_price_axis_has_thousands_separators(qtbot):
    axis = PriceAxis("right")
    assert axis.tickStrings([100_100.0, 100_150.0], 1.0, 50.0) == ["100,100", "100,150"]  # was "100150"
    assert axis.tickStrings([12.5, 13.0], 1.0, 0.5) == ["12.5", "13.0"]


def test_volume_axis_is_compact(qtbot):
    assert VolumeAxis("right").tickStrings([0.0, 250_000.0, 1_500_000.0], 1.0, 250_000.0) == ["0", "250K", "1.5M"]


def test_a_pane_shows_only_its_price_axis(qtbot):
    """The axes passed to the plot (for autoSIPrefix) are shown by pyqtgraph unless hidden: a
    bar-index axis appeared on top of every pane (seen in a 1280×800 screenshot)."""
    from widgets.chart.panes import Pane

    pane = Pane("price", "price", PriceAxis("right"))
    qtbot.addWidget(pane)
    pane.resize(600, 300)
    pane.show()
    shown = {name for name in ("left", "right", "top", "bottom") if pane.plot.getAxis(name).isVisible()}
    assert shown == {"right"}
