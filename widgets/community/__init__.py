"""The community docks: My strategies (``strategies.MyStrategiesWidget``) and the Leaderboard
(``leaderboard.LeaderboardWidget``), thin views over ``sync.strategies.CommunityService``
(received, never imported: widgets do not import sync)."""
from widgets.community.leaderboard import LeaderboardWidget
from widgets.community.strategies import MyStrategiesWidget

__all__ = ["LeaderboardWidget", "MyStrategiesWidget"]
