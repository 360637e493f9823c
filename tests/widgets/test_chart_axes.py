"""Chart axis labels use the app's number formats (engine.formatting)."""
from widgets.chart import PriceAxis, VolumeAxis


def test_price_axis_has_thousands_separators(qtbot):
    axis = PriceAxis("right")
    assert axis.tickStrings([100_100.0, 100_150.0], 1.0, 50.0) == ["100,100", "100,150"]  # was "100150"
    assert axis.tickStrings([12.5, 13.0], 1.0, 0.5) == ["12.5", "13.0"]


def test_volume_axis_is_compact(qtbot):
    assert VolumeAxis("right").tickStrings([0.0, 250_000.0, 1_500_000.0], 1.0, 250_000.0) == ["0", "250K", "1.5M"]
