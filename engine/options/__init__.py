"""Options analytics: Black-Scholes-Merton prices and Greeks (``bsm``), American prices
(``american``: Bjerksund-Stensland 2002 and a CRR tree), implied volatility (``iv``), SVI
volatility surfaces (``surface``), multi-leg strategies (``strategy``) and option chains with
OCC symbols and an offline demo chain (``chain``). Qt-free; imported lazily by the app.
"""
