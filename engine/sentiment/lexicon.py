"""Finance vocabulary: noun classes, directional words, negators, comparatives and the
VADER-scale valences that differ in financial text.

Everything here is hand-written from general financial-news usage (no word was taken from
the labelled data). Valences use VADER's scale (about -4 … +4).
"""
from __future__ import annotations

from typing import Final

#: Financial quantities where *more* is good for the company (sign +1).
GOOD_NOUNS: Final[frozenset[str]] = frozenset("""
profit profits earnings ebit ebitda ebita income revenue revenues sales turnover margin margins
order orders intake backlog dividend dividends eps flow cashflow result results demand
growth volume volumes deliveries production output shipments value valuation rating ratings
guidance outlook forecast forecasts target targets jobs employment workforce headcount
customers subscribers traffic passengers occupancy efficiency productivity liquidity equity
price prices share shares stock stocks returns return yield market-share capacity exports
bookings gain gains surplus profitability ebt pretax pre-tax solvency
""".split())

#: Financial quantities where *more* is bad for the company (sign -1): the direction flips.
BAD_NOUNS: Final[frozenset[str]] = frozenset("""
loss losses cost costs expense expenses expenditure debt debts liabilities liability deficit
deficits charges charge impairment impairments writedown writedowns write-down write-downs
provisions unemployment layoffs redundancies risk risks gearing leverage borrowing borrowings
delays defaults arrears churn tax taxes inflation downtime absenteeism lay-offs job-cuts
""".split())

#: Words that say a quantity went up. "narrowed"/"widened" are directional too: a loss that
#: narrowed is good news, one that widened is bad.
UP_WORDS: Final[frozenset[str]] = frozenset("""
rose rise rises rising risen increase increased increases increasing grew grow grows growing
grown up higher climbed climb climbs jumped jump jumps surged surge surges soared soar soars
widened widen widens widening expanded expand expands boosted boost boosts raised raise raises
raising lifted lift lifts doubled tripled rebounded advanced larger bigger greater added
accelerated strengthened stronger more upward upped hiked hike
""".split())

DOWN_WORDS: Final[frozenset[str]] = frozenset("""
fell fall falls falling fallen decrease decreased decreases decreasing declined decline declines
declining dropped drop drops dropping down lower lowered lowering lowers cut cuts cutting
reduced reduce reduces reducing reduction slashed slash slashes slumped slump plunged plunge
tumbled tumble sank sink shrank shrunk shrink contracted contract narrowed narrow narrows
narrowing eased ease weakened weaker smaller less fewer halved diminished downward trimmed trim
dipped dip slid slide decelerated
""".split())

#: "set up", "step down" … are not movements of a quantity.
NOT_DIRECTION_BEFORE_UP: Final[frozenset[str]] = frozenset(
    "set sets setting pick picked sign signed build built follow followed draw drew drawn "
    "take took taken make made line lined open opened team teamed end ended wind wound "
    "start started back backed sum summed catch caught keep kept".split())
NOT_DIRECTION_BEFORE_DOWN: Final[frozenset[str]] = frozenset(
    "step stepped steps stepping turn turned break broke bring brought".split())

NEGATORS: Final[frozenset[str]] = frozenset(
    "not no n't never without neither nor failed fail fails cannot didn't don't doesn't "
    "wasn't weren't isn't aren't won't hasn't haven't hadn't".split())

#: Words that end the clause a directional word can reach across.
BOUNDARIES: Final[frozenset[str]] = frozenset(
    ", ; : . ! ? while whereas but although though and however ( )".split())

#: Expectation words for "beats estimates", "below expectations" …
EXPECTATIONS: Final[frozenset[str]] = frozenset(
    "estimate estimates expectation expectations forecast forecasts consensus guidance "
    "projections targets target expected anticipated predicted".split())
BEAT_WORDS: Final[frozenset[str]] = frozenset(
    "beat beats beating topped tops exceeded exceeds exceed surpassed surpasses outpaced above "
    "better".split())
MISS_WORDS: Final[frozenset[str]] = frozenset(
    "miss missed misses missing below short worse trailed lagged".split())

#: Words that mean a swing from one result to the other ("turned to a loss").
SWING_WORDS: Final[frozenset[str]] = frozenset(
    "turned turn turns swung swing swings returned return returns slipped moved fell dipped "
    "plunged back".split())

#: Finance-specific valences (VADER scale). Positive and negative news words VADER lacks, and
#: words VADER rates that are neutral in financial text ("shares", "gross margin",
#: "outstanding shares", "free cash flow", "crude oil", "Ltd").
FINANCE_VALENCE: Final[dict[str, float]] = {
    # good news
    "upgrade": 1.8, "upgraded": 1.8, "upgrades": 1.6, "outperform": 1.8, "outperformed": 1.8,
    "outperforms": 1.8, "overweight": 1.2, "beat": 1.4, "beats": 1.4, "topped": 1.2,
    "exceeded": 1.2, "surpassed": 1.2, "rebound": 1.3, "rebounded": 1.3, "recovery": 1.2,
    "recovered": 1.3, "record": 0.8, "buyback": 1.0, "profitable": 1.9, "profitability": 0.8,
    "rally": 1.5, "rallied": 1.5, "soared": 1.8, "surged": 1.6, "jumped": 1.2, "boosted": 1.2,
    "expansion": 0.8, "expanded": 0.8, "awarded": 1.2, "bullish": 2.0, "robust": 1.6,
    "improvement": 1.6, "upbeat": 1.7,
    # bad news
    "downgrade": -1.8, "downgraded": -1.8, "downgrades": -1.6, "underperform": -1.8,
    "underperformed": -1.8, "underweight": -1.2, "layoffs": -2.0, "layoff": -2.0,
    "lay-offs": -2.0, "redundancies": -1.8, "redundancy": -1.5, "insolvency": -2.5,
    "bankruptcy": -2.5, "bankrupt": -2.5, "default": -1.5, "defaulted": -1.8,
    "writedown": -1.5, "write-down": -1.5, "writedowns": -1.5, "impairment": -1.5,
    "plunged": -2.0, "plunge": -2.0, "tumbled": -1.8, "slumped": -1.8, "slump": -1.8,
    "sank": -1.5, "shortfall": -1.5, "recall": -1.2, "delisted": -1.5, "dilution": -1.0,
    "fined": -1.5, "penalty": -1.5, "bearish": -2.0, "deteriorated": -1.9, "weakened": -1.4,
    "halved": -1.2, "slashed": -1.5, "strike": -1.0, "warns": -1.4, "warned": -1.4,
    "lawsuit": -1.2, "probe": -1.0, "downturn": -1.5, "slowdown": -1.3, "recession": -2.0,
    # neutral in financial text although VADER rates them
    "share": 0.0, "shares": 0.0, "gross": 0.0, "outstanding": 0.0, "free": 0.0, "crude": 0.0,
    "limited": 0.0, "interest": 0.0, "credit": 0.0, "care": 0.0, "united": 0.0, "fair": 0.0,
    "solutions": 0.0, "security": 0.0, "securities": 0.0, "trust": 0.0, "natural": 0.0,
    "energy": 0.0, "value": 0.0, "like": 0.0, "well": 0.0, "please": 0.0, "yes": 0.0,
    "cancer": 0.0, "pay": 0.0, "top": 0.0, "rich": 0.0, "clean": 0.0,
}

#: The lexicon VADER uses on financial text: directional words carry no valence of their own
#: there ("cut" is good news for debt, bad for guidance); the rules give them their sign.
FINANCE_VADER_LEXICON: Final[dict[str, float]] = {
    **{w: 0.0 for w in UP_WORDS | DOWN_WORDS},
    **{w: v for w, v in FINANCE_VALENCE.items() if w not in UP_WORDS | DOWN_WORDS},
}

#: Words that mark a text as financial: only such texts get the finance layer; any other
#: text is scored exactly as plain VADER scores it.
FINANCE_CONTEXT: Final[frozenset[str]] = (
    GOOD_NOUNS | BAD_NOUNS
    | frozenset(w for w, v in FINANCE_VALENCE.items() if v != 0.0)
    | frozenset("""
company companies firm firms group corporation corp inc plc oyj ltd oy ab asa llc eur usd
euro euros dollar dollars sek nok dkk gbp pound yen mn million millions bn billion billions
percent % quarter quarterly fiscal year-on-year yoy analyst analysts investor investors
shareholder shareholders stake acquisition acquire acquired merger deal contract contracts
market markets exchange nasdaq nyse ipo bank banks bond bonds fund funds capital business
operating operations operator unit subsidiary plant factory products product services
customer supplier suppliers retail retailer brand ceo cfo chairman board executive
estimates expectations dividend eps $ € £ pct
technology technologies industry industrial project projects development investment investments
management software service system systems solution construction equipment transaction
patent patents employees employee staff personnel cooperation agreement agreements announced
disclosed financial supply delivery network networks mobile wireless devices device handset
handsets dealers engineering launch launched launches online store stores consumers consumer
data information mill mills steel paper pulp glass outlets offer businesses organization
organisation committee president partner partners partnership joint venture license licence
portfolio procurement production manufacturer manufacturing manufactures plant plants mw
telecom telecommunications trading trade purchase purchased sold sell buy order ordered
energy oil gas power electricity chain shop shops price priced pricing press release
""".split()))
