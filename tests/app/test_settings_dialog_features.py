"""The Settings dialog edits every preference key the features declare: the hand-made General
and Paper trading tabs, then a tab per other feature built from its ``Feature.settings``; a
value its validator refuses is shown as the validator's sentence and nothing is saved."""
from __future__ import annotations

from PySide6.QtCore import QSettings

from app.features import FEATURES, Feature, SettingKey
from app.settings import AppSettings
from app.settings_dialog import SettingsDialog


def test_every_declared_key_is_editable(home, qtbot):
    settings = AppSettings()
    dlg = SettingsDialog(settings)
    qtbot.addWidget(dlg)
    declared = {k.key for f in FEATURES for k in f.settings}
    assert declared == SettingsDialog.FIXED_KEYS | set(dlg.fields)
    titles = [dlg.tabs.tabText(i) for i in range(dlg.tabs.count())]
    assert titles[:2] == ["General", "Paper trading"]
    for f in FEATURES:
        if any(k.key in dlg.fields for k in f.settings) and f.id != "trading":
            assert f.title in titles


def test_generic_fields_validate_and_save(home, qtbot):
    settings = AppSettings()
    dlg = SettingsDialog(settings)
    qtbot.addWidget(dlg)
    _spec, minutes = dlg.fields["news/refresh_min"]
    minutes.setText("0")
    dlg.accept()
    assert dlg.error.text() and not dlg.result()
    assert settings.get("news/refresh_min") == 15
    minutes.setText("30")
    _spec, trades = dlg.fields["journal/review_min_trades"]
    trades.setText("12.5")
    dlg.accept()
    assert "whole number" in dlg.error.text() and not dlg.result()
    trades.setText("12")
    _spec, tray = dlg.fields["app/close_to_tray"]
    tray.setChecked(True)
    _spec, zone = dlg.fields["chart/time_zone"]
    zone.setCurrentIndex(zone.findData("utc"))
    dlg.accept()
    assert dlg.result() and not dlg.error.text()
    assert dlg.changed == {"news/refresh_min": 30, "journal/review_min_trades": 12,
                           "app/close_to_tray": True, "chart/time_zone": "utc"}
    raw = QSettings(str(settings.path), QSettings.Format.IniFormat)
    assert int(raw.value("news/refresh_min")) == 30 and raw.value("chart/time_zone") == "utc"


def test_a_new_features_key_gets_a_tab(home, qtbot):
    extra = Feature(id="demo_feature", title="Demo feature", settings=(
        SettingKey("demo/limit", int, 3, "how many (1-9)",
                   validator=lambda v: None if 1 <= v <= 9 else "how many must be 1 to 9", label="Limit"),))
    features = [*FEATURES, extra]
    from app.features import setting_keys

    settings = AppSettings(schema={k.key: k for k in setting_keys(features)})
    dlg = SettingsDialog(settings, features=features, section="demo_feature")
    qtbot.addWidget(dlg)
    assert dlg.tabs.tabText(dlg.tabs.currentIndex()) == "Demo feature"
    _spec, edit = dlg.fields["demo/limit"]
    edit.setText("10")
    dlg.accept()
    assert dlg.error.text() == "how many must be 1 to 9"
    edit.setText("4")
    dlg.accept()
    assert dlg.changed == {"demo/limit": 4} and settings.get("demo/limit") == 4
