"""The news dock (``dock.NewsWidget``) and its feeds dialog."""
from widgets.news.dock import NewsWidget, score_text, sentiment_colour

__all__ = ["NewsWidget", "score_text", "sentiment_colour"]
