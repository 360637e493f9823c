"""Chart transforms and drawings (Qt-free)."""
