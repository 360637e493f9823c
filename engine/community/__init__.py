"""Community: strategies shared through the service and their published composite score.

* ``score``: the composite score (performance, risk, consistency, efficiency, community),
  the one function the service ranks by.
* ``strategies``: a strategy definition (rules in the formula language, sizing, stops,
  category), its local store and its backtest on a universe.
"""
