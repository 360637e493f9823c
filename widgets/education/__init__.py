"""Education views: the Learn dock (courses, articles, quizzes, exercises), the Glossary dock,
glossary tooltips for metric and indicator names, and the feature-tour overlay."""
from widgets.education.glossary import GlossaryWidget
from widgets.education.learn import LearnWidget
from engine.education.glossary import METRIC_TERMS
from widgets.education.tooltips import GlossaryTooltips, link_term, term_html
from widgets.education.tour import TourOverlay

__all__ = ["GlossaryTooltips", "GlossaryWidget", "LearnWidget", "METRIC_TERMS", "TourOverlay", "link_term", "term_html"]
