"""The Social dock (profile, people, feed) and the Copy trading dock (issue 18)."""
from widgets.social.copy import CopyTradingWidget
from widgets.social.people import SocialWidget

__all__ = ["CopyTradingWidget", "SocialWidget"]
