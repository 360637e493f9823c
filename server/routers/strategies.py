"""Strategies and the leaderboard: my strategies, publishing results, sharing, ranking.

* ``/strategies`` — the caller's own strategies (every id through ``load_owned``): create,
  list, read, replace, delete; ``PUT .../results`` publishes a backtest's and the live paper
  account's equity points and trades (money in cents) and rescores; ``POST .../recalculate``
  rescores (owner or admin); ``POST .../share`` sets public / unlisted (a new random link token,
  shown once, stored as SHA-256, with an expiry) / private, ``DELETE .../share`` revokes: the
  token is cleared in the same commit, so the next request with it is refused.
* ``POST /strategies/shared`` — open an unlisted strategy by its token (in the body, never in
  a URL that proxies log).
* ``/leaderboard`` — listed strategies (public and ranked) by timeframe and category, searched
  by name, in pages; ``/leaderboard/categories``; ``/leaderboard/{id}`` the detail of a strategy
  the caller may see (own, public, or unlisted with its token); ``.../clone`` copies it into the
  caller's strategies (``parent_id`` keeps the lineage; the source's ``clone_count`` counts
  clones by other users); ``.../review`` rates and reviews it (one per user, editable; not
  one's own).

Scores come from ``engine.community.score.composite_score`` (the published formula). The
leaderboard reads ``strategy_rankings``: one row per listed strategy and timeframe, rebuilt
whenever a strategy is rescored or its visibility or category changes, so a page is one index
range scan (``ix_strategy_rankings_board``) and a primary-key join for the page's rows only.
Day, week and month scores are of the live paper results in that window as of ``scored_at``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, StringConstraints, model_validator
from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.deps import CurrentIdentity, CurrentUser, Db, ObjectId, State, audit, load_owned
from server.entitlements import RequireEntitlement
from server.errors import ERROR_RESPONSES, ApiError
from server.models import Strategy, StrategyRanking, StrategyReview, User, aware, utcnow
from server.schemas import NoControl, StatusOut, Strict
from server.routers.social import record_activity
from server.social_models import Activity

router = APIRouter(tags=["strategies"], responses=ERROR_RESPONSES)

CATEGORIES: dict[str, str] = {
    "trend_following": "Trend following", "mean_reversion": "Mean reversion", "breakout": "Breakout",
    "momentum": "Momentum", "swing": "Swing", "day_trading": "Day trading",
    "options_income": "Options income", "long_term": "Long term",
}
Category = Literal["trend_following", "mean_reversion", "breakout", "momentum", "swing", "day_trading",
                   "options_income", "long_term"]
#: leaderboard timeframe -> the live window in days (None: all time, backtest and live)
TIMEFRAMES: dict[str, int | None] = {"all": None, "month": 30, "week": 7, "day": 1}
Timeframe = Literal["all", "month", "week", "day"]
#: per run: with the service's 64 KiB body limit a run of this size still fits in one request
MAX_POINTS = 1_000
CURVE_POINTS = 500
REVIEWS_SHOWN = 50
SHARE_TOKEN_BYTES = 24

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), NoControl]
Formula = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), NoControl]
LongText = Annotated[str, StringConstraints(max_length=4000), NoControl]
Token = Annotated[str, StringConstraints(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
Epoch = Annotated[int, Field(ge=0, le=2**33)]
Cents = Annotated[int, Field(ge=-(10**15), le=10**15)]
PositiveCents = Annotated[int, Field(ge=1, le=10**15)]


class SizingIn(Strict):
    """``fixed_qty``: ``value`` shares; ``percent_equity``: ``value`` % of equity;
    ``risk_per_trade``: risk ``value`` % of equity with a stop ``stop_pct`` % below entry."""

    kind: Literal["fixed_qty", "percent_equity", "risk_per_trade"]
    value: float = Field(gt=0, le=1_000_000)
    stop_pct: float | None = Field(default=None, gt=0, lt=100)

    @model_validator(mode="after")
    def _check(self) -> SizingIn:
        if self.kind == "fixed_qty" and self.value != int(self.value):
            raise ValueError("a fixed quantity is a whole number of shares")
        if self.kind == "percent_equity" and self.value > 100:
            raise ValueError("a percentage of equity is at most 100")
        if self.kind == "risk_per_trade" and (self.stop_pct is None or self.value > 100):
            raise ValueError("risk per trade needs a percentage (at most 100) and stop_pct")
        return self


class RulesIn(Strict):
    """The rules in the formula language: entry and exit conditions, sizing, stops, targets."""

    entry: Formula
    exit: Formula | None = None
    sizing: SizingIn = SizingIn(kind="fixed_qty", value=100)
    stop_loss_pct: float | None = Field(default=None, gt=0, lt=100)
    take_profit_pct: float | None = Field(default=None, gt=0, le=1000)
    timeframe: Literal["1d", "1h", "30m", "15m", "5m", "1m"] = "1d"
    universe: Annotated[str, StringConstraints(max_length=200), NoControl] = ""


class StrategyIn(Strict):
    name: Name
    category: Category
    description: LongText = ""
    rules: RulesIn


class RunIn(Strict):
    """One run: equity points ``[epoch s, equity cents]`` and closed trades ``[exit epoch s, P&L cents]``."""

    points: list[tuple[Epoch, PositiveCents]] = Field(max_length=MAX_POINTS)
    trades: list[tuple[Epoch, Cents]] = Field(default_factory=list, max_length=MAX_POINTS)


class ResultsIn(Strict):
    """A run given replaces the stored one; one left out is kept (so the backtest and the
    live results can be sent in separate requests)."""

    backtest: RunIn | None = None
    live: RunIn | None = None


class ShareIn(Strict):
    visibility: Literal["private", "public", "unlisted"]
    expires_in_days: int = Field(default=30, ge=1, le=365)


class SharedIn(Strict):
    token: Token


class CloneIn(Strict):
    name: Name | None = None
    share_token: Token | None = None


class ReviewIn(Strict):
    rating: int = Field(ge=1, le=5)
    text: LongText = ""
    share_token: Token | None = None


class ShareOut(BaseModel):
    visibility: str
    #: the unlisted link's token: shown once (only its hash is kept)
    token: str | None
    expires_at: dt.datetime | None


class ReviewOut(BaseModel):
    author: str
    rating: int
    text: str
    updated_at: dt.datetime
    mine: bool


class LineageOut(BaseModel):
    #: null for an ancestor the caller may not see
    id: int | None
    name: str


class StrategyOut(BaseModel):
    id: int
    name: str
    category: str
    description: str
    rules: dict[str, Any]
    owner: str
    mine: bool
    visibility: str
    share_expires_at: dt.datetime | None
    parent_id: int | None
    lineage: list[LineageOut]
    clone_count: int
    followers: int
    trades: int
    ranked: bool
    score_is: float | None
    score_oos: float | None
    rank_score: float | None
    rating: float | None
    rating_count: int
    #: components, metrics and weights (engine.community.score.ScoreCard.as_dict) plus timeframes
    scorecard: dict[str, Any]
    scored_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class StrategyDetail(StrategyOut):
    #: ``[epoch s, equity dollars]``, at most 500 points each (thinned evenly)
    backtest_curve: list[tuple[int, float]]
    live_curve: list[tuple[int, float]]
    reviews: list[ReviewOut]


class BoardRow(BaseModel):
    rank: int
    id: int
    name: str
    category: str
    owner: str
    score: float
    score_is: float | None
    score_oos: float | None
    trades: int
    clone_count: int
    followers: int
    rating: float | None
    rating_count: int


class BoardPage(BaseModel):
    items: list[BoardRow]
    timeframe: str
    category: str | None
    page: int
    per_page: int
    more: bool


class CategoryOut(BaseModel):
    key: str
    label: str
    #: strategies listed in it (all time)
    count: int


# ------------------------------------------------------------------ helpers
def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _owner_name(user: User | None, user_id: int) -> str:
    name = user.display_name.strip() if user is not None else ""
    return name or f"trader {user_id}"


def _check_rules(rules: RulesIn) -> None:
    """The formulas must parse as conditions (the same check as a local backtest)."""
    from engine.formula import FormulaError

    from engine.paper.backtest import rule_formula

    for what, text in (("entry", rules.entry), ("exit", rules.exit)):
        if text is None:
            continue
        try:
            rule_formula(text, what)
        except FormulaError as exc:
            raise ApiError(422, "invalid_formula", f"The {what} rule: {exc}") from None
        except (ValueError, RecursionError):
            raise ApiError(422, "invalid_formula", f"The {what} rule is not a valid formula.") from None


def _share_valid(s: Strategy, token: str | None) -> bool:
    if token is None or s.visibility != "unlisted" or s.share_token_hash is None:
        return False
    if s.share_expires_at is None or aware(s.share_expires_at) <= utcnow():
        return False
    return hmac.compare_digest(s.share_token_hash, token_hash(token))


def load_visible(db: Session, strategy_id: int, user_id: int, share_token: str | None = None) -> Strategy:
    """Strategy ``strategy_id`` when the caller may see it: their own, public, or unlisted with
    a valid unexpired token; 404 otherwise (the same answer as for a missing one)."""
    s = db.get(Strategy, strategy_id)
    if s is None or not (s.user_id == user_id or s.visibility == "public" or _share_valid(s, share_token)):
        raise ApiError(404, "not_found", "No such strategy, or it is not shared with you.")
    return s


def _history(run: dict[str, Any] | None) -> Any:
    from engine.community.score import History

    if not run or not run.get("points"):
        return None
    pts = run["points"]
    trades = run.get("trades", [])
    return History([p[0] for p in pts], [p[1] / 100 for p in pts], [t[0] for t in trades],
                   [t[1] / 100 for t in trades])


def recalculate(db: Session, s: Strategy, now: dt.datetime | None = None) -> None:
    """Rescore ``s`` from its stored results and reviews, then rebuild its leaderboard rows."""
    from engine.community.score import Community, composite_score, community_component, score_period, window

    now = now or utcnow()
    results = json.loads(s.results or "{}")
    ratings = [int(r) for r in db.execute(select(StrategyReview.rating).where(
        StrategyReview.strategy_id == s.id)).scalars()]
    s.rating_count, s.rating_sum = len(ratings), sum(ratings)
    bt, live = _history(results.get("backtest")), _history(results.get("live"))
    community = Community(ratings, s.clone_count, s.followers)
    card: dict[str, Any] = {}
    if bt is None:
        s.trades, s.score_is, s.score_oos, s.rank_score = 0, None, None, None
        card = {"ranked": False, "reason": "no results published yet", "timeframes": {}}
    else:
        try:
            sc = composite_score(bt, community, live)
        except ValueError as exc:
            raise ApiError(422, "invalid_results", f"These results cannot be scored: {exc}.") from None
        card = sc.as_dict()
        s.trades = sc.trades
        s.score_is = sc.in_sample.total if sc.in_sample else None
        s.score_oos = sc.out_of_sample.total if sc.out_of_sample else None
        s.rank_score = sc.rank_score
        frames: dict[str, float] = {}
        if sc.ranked and sc.rank_score is not None:
            frames["all"] = sc.rank_score
            if live is not None:
                comm = community_component(community)
                for tf, days in TIMEFRAMES.items():
                    if days is None:
                        continue
                    part = score_period(window(live, int((now - dt.timedelta(days=days)).timestamp())), comm)
                    if part is not None:
                        frames[tf] = part.total
        card["timeframes"] = frames
    s.scorecard = json.dumps(card, allow_nan=False, default=lambda v: None)
    s.scored_at = now
    relist(db, s)


def relist(db: Session, s: Strategy) -> None:
    """Rebuild ``s``'s leaderboard rows: one per timeframe it has a score in, when public."""
    db.execute(delete(StrategyRanking).where(StrategyRanking.strategy_id == s.id))
    if s.visibility != "public" or s.rank_score is None:
        return
    frames = json.loads(s.scorecard or "{}").get("timeframes", {})
    rows = [{"strategy_id": s.id, "timeframe": tf, "category": s.category, "score": float(v)}
            for tf, v in frames.items() if tf in TIMEFRAMES and isinstance(v, (int, float)) and math.isfinite(v)]
    if rows:
        db.execute(insert(StrategyRanking), rows)


def _curve(run: dict[str, Any] | None) -> list[tuple[int, float]]:
    pts = (run or {}).get("points") or []
    if len(pts) > CURVE_POINTS:
        step = math.ceil(len(pts) / CURVE_POINTS)
        pts = pts[::step] + ([pts[-1]] if (len(pts) - 1) % step else [])
    return [(int(p[0]), p[1] / 100) for p in pts]


def _lineage(db: Session, s: Strategy, user_id: int) -> list[LineageOut]:
    out: list[LineageOut] = []
    pid = s.parent_id
    while pid is not None and len(out) < 10:
        p = db.get(Strategy, pid)
        if p is None:
            break
        if p.user_id == user_id or p.visibility == "public":
            out.append(LineageOut(id=p.id, name=p.name))
        else:
            out.append(LineageOut(id=None, name="(a private strategy)"))
            break
        pid = p.parent_id
    return out


def _out(db: Session, s: Strategy, user_id: int) -> dict[str, Any]:
    mine = s.user_id == user_id
    card = json.loads(s.scorecard or "{}")
    lineage = _lineage(db, s, user_id)
    return dict(
        id=s.id, name=s.name, category=s.category, description=s.description, rules=json.loads(s.rules),
        owner=_owner_name(db.get(User, s.user_id), s.user_id), mine=mine, visibility=s.visibility,
        share_expires_at=aware(s.share_expires_at) if (mine and s.share_expires_at) else None,
        parent_id=lineage[0].id if lineage else None, lineage=lineage, clone_count=s.clone_count, followers=s.followers, trades=s.trades,
        ranked=bool(card.get("ranked")), score_is=s.score_is, score_oos=s.score_oos, rank_score=s.rank_score,
        rating=(s.rating_sum / s.rating_count) if s.rating_count else None, rating_count=s.rating_count,
        scorecard=card, scored_at=aware(s.scored_at) if s.scored_at else None,
        created_at=aware(s.created_at), updated_at=aware(s.updated_at))


def _detail(db: Session, s: Strategy, user_id: int) -> StrategyDetail:
    results = json.loads(s.results or "{}")
    rows = db.execute(select(StrategyReview, User).join(User, User.id == StrategyReview.user_id).where(
        StrategyReview.strategy_id == s.id).order_by(StrategyReview.updated_at.desc(), StrategyReview.id.desc())
        .limit(REVIEWS_SHOWN)).all()
    reviews = [ReviewOut(author=_owner_name(u, u.id), rating=r.rating, text=r.text, updated_at=aware(r.updated_at),
                         mine=r.user_id == user_id) for r, u in rows]
    return StrategyDetail(**_out(db, s, user_id), backtest_curve=_curve(results.get("backtest")),
                          live_curve=_curve(results.get("live")), reviews=reviews)


def _summary(db: Session, s: Strategy, user_id: int) -> StrategyOut:
    return StrategyOut(**_out(db, s, user_id))


# ------------------------------------------------------------------ my strategies
@router.get("/strategies", response_model=list[StrategyOut])
def list_mine(user: CurrentUser, db: Db) -> list[StrategyOut]:
    """The caller's strategies, newest first."""
    rows = db.execute(select(Strategy).where(Strategy.user_id == user.id).order_by(Strategy.id.desc())).scalars()
    return [_summary(db, s, user.id) for s in rows]


@router.post("/strategies", response_model=StrategyDetail, status_code=201)
def create(body: StrategyIn, user: CurrentUser, db: Db) -> StrategyDetail:
    """A new private strategy of the caller's."""
    _check_rules(body.rules)
    s = Strategy(user_id=user.id, name=body.name, category=body.category, description=body.description,
                 rules=body.rules.model_dump_json(), visibility="private", clone_count=0, followers=0,
                 results="{}", trades=0, scorecard="{}", rating_count=0, rating_sum=0)
    db.add(s)
    db.flush()
    recalculate(db, s)
    db.commit()
    return _detail(db, s, user.id)


@router.get("/strategies/{strategy_id}", response_model=StrategyDetail)
def read_mine(strategy_id: ObjectId, user: CurrentUser, db: Db) -> StrategyDetail:
    return _detail(db, load_owned(db, Strategy, strategy_id, user), user.id)


@router.put("/strategies/{strategy_id}", response_model=StrategyDetail)
def replace(strategy_id: ObjectId, body: StrategyIn, user: CurrentUser, db: Db) -> StrategyDetail:
    """Replace name, category, description and rules (results and score are kept)."""
    s = load_owned(db, Strategy, strategy_id, user)
    _check_rules(body.rules)
    s.name, s.category, s.description = body.name, body.category, body.description
    s.rules = body.rules.model_dump_json()
    s.updated_at = utcnow()
    relist(db, s)
    db.commit()
    return _detail(db, s, user.id)


@router.delete("/strategies/{strategy_id}", response_model=StatusOut)
def remove(strategy_id: ObjectId, user: CurrentUser, db: Db) -> StatusOut:
    """Delete the strategy, its reviews and leaderboard rows (clones of it keep their rules)."""
    s = load_owned(db, Strategy, strategy_id, user)
    db.execute(update(Strategy).where(Strategy.parent_id == s.id).values(parent_id=None))
    _unfeed(db, s)
    db.delete(s)
    db.commit()
    return StatusOut(status="deleted")


@router.put("/strategies/{strategy_id}/results", response_model=StrategyDetail)
def publish_results(strategy_id: ObjectId, body: ResultsIn, user: CurrentUser, db: Db) -> StrategyDetail:
    """Publish the backtest's and/or the live paper account's equity points and trades; rescores."""
    s = load_owned(db, Strategy, strategy_id, user)
    if body.backtest is None and body.live is None:
        raise ApiError(422, "invalid_results", "Send a backtest run, a live run or both.")
    for what, run in (("backtest", body.backtest), ("live", body.live)):
        if run is None:
            continue
        times = [p[0] for p in run.points]
        if any(b <= a for a, b in zip(times, times[1:])):
            raise ApiError(422, "invalid_results", f"The {what} points' times must increase.")
    results = json.loads(s.results or "{}")
    for what, run in (("backtest", body.backtest), ("live", body.live)):
        if run is not None:
            results[what] = run.model_dump(mode="json")
    s.results = json.dumps(results)
    s.updated_at = utcnow()
    recalculate(db, s)
    db.commit()
    return _detail(db, s, user.id)


@router.post("/strategies/{strategy_id}/recalculate", response_model=StrategyDetail)
def rescore(strategy_id: ObjectId, user: CurrentUser, db: Db) -> StrategyDetail:
    """Rescore from the stored results (owner, or an admin for anyone's)."""
    if user.role == "admin":
        s = db.get(Strategy, strategy_id)
        if s is None:
            raise ApiError(404, "not_found", "No such strategy.")
        if s.user_id != user.id:
            audit(db, "admin.strategy_recalculate", user_id=s.user_id, actor_id=user.id, strategy_id=s.id)
    else:
        s = load_owned(db, Strategy, strategy_id, user)
    recalculate(db, s)
    db.commit()
    return _detail(db, s, user.id)


def published_after(db: Session, user: User, request: Request) -> int:
    """The caller's published (public or unlisted) strategies once this one is shared: the
    ``published_strategies`` quota. Making a strategy private again is ``DELETE …/share``
    (never gated), so a user over the quota can always step back."""
    try:
        this = int(request.path_params.get("strategy_id", 0))
    except (TypeError, ValueError):
        this = 0
    others = db.scalar(select(func.count()).select_from(Strategy).where(
        Strategy.user_id == user.id, Strategy.visibility != "private", Strategy.id != this)) or 0
    return int(others) + 1


@router.post("/strategies/{strategy_id}/share", response_model=ShareOut,
             dependencies=[RequireEntitlement("published_strategies", count=published_after)])
def share(strategy_id: ObjectId, body: ShareIn, user: CurrentUser, db: Db) -> ShareOut:
    """Set the visibility. ``unlisted`` makes a new link token (any earlier one stops working)
    valid for ``expires_in_days``; the token is in this answer only."""
    s = load_owned(db, Strategy, strategy_id, user)
    token: str | None = None
    was_public = s.visibility == "public"
    s.visibility = body.visibility
    if body.visibility == "unlisted":
        token = secrets.token_urlsafe(SHARE_TOKEN_BYTES)
        s.share_token_hash = token_hash(token)
        s.share_expires_at = utcnow() + dt.timedelta(days=body.expires_in_days)
    else:
        s.share_token_hash, s.share_expires_at = None, None
    s.updated_at = utcnow()
    relist(db, s)
    if body.visibility == "public" and not was_public:
        record_activity(db, user.id, "strategy", s.id, f"published the strategy {s.name}")
    elif body.visibility != "public":
        _unfeed(db, s)  # an unlisted strategy is for those with its link, not for followers
    db.commit()
    return ShareOut(visibility=s.visibility, token=token,
                    expires_at=aware(s.share_expires_at) if s.share_expires_at else None)


@router.delete("/strategies/{strategy_id}/share", response_model=ShareOut)
def revoke(strategy_id: ObjectId, user: CurrentUser, db: Db) -> ShareOut:
    """Make the strategy private at once: off the leaderboard, its link token refused."""
    s = load_owned(db, Strategy, strategy_id, user)
    s.visibility, s.share_token_hash, s.share_expires_at = "private", None, None
    s.updated_at = utcnow()
    relist(db, s)
    _unfeed(db, s)
    db.commit()
    return ShareOut(visibility="private", token=None, expires_at=None)


def _unfeed(db: Session, s: Strategy) -> None:
    """Take ``s``'s publication off its followers' feeds (it is no longer public)."""
    db.execute(delete(Activity).where(Activity.user_id == s.user_id, Activity.kind == "strategy",
                                      Activity.ref_id == s.id))


@router.post("/strategies/shared", response_model=StrategyDetail)
def open_shared(body: SharedIn, user: CurrentIdentity, db: Db) -> StrategyDetail:
    """An unlisted strategy by its link token (404 when unknown, expired or revoked)."""
    s = db.execute(select(Strategy).where(Strategy.share_token_hash == token_hash(body.token))).scalar_one_or_none()
    if s is None or not _share_valid(s, body.token):
        raise ApiError(404, "not_found", "This link is unknown, expired or revoked.")
    return _detail(db, s, user.user_id)


# ------------------------------------------------------------------ leaderboard
@router.get("/leaderboard/categories", response_model=list[CategoryOut])
def categories(user: CurrentIdentity, db: Db) -> list[CategoryOut]:
    """Every category with the number of strategies listed in it (all time)."""
    counts = {str(k): int(v) for k, v in db.execute(select(StrategyRanking.category, func.count()).where(
        StrategyRanking.timeframe == "all").group_by(StrategyRanking.category)).all()}
    return [CategoryOut(key=k, label=v, count=int(counts.get(k, 0))) for k, v in CATEGORIES.items()]


@router.get("/leaderboard", response_model=BoardPage)
def leaderboard(user: CurrentIdentity, st: State, timeframe: Timeframe = "all", category: Category | None = None,
                q: Annotated[str | None, Query(max_length=80, description="part of the name")] = None,
                page: Annotated[int, Query(ge=1, le=10_000)] = 1,
                per_page: Annotated[int, Query(ge=1, le=100)] = 25) -> BoardPage:
    """Listed strategies by rank score (out-of-sample where there is one), best first."""
    r = StrategyRanking
    ids = select(r.strategy_id, r.score).where(r.timeframe == timeframe)
    if category is not None:
        ids = ids.where(r.category == category)
    text = (q or "").strip()
    if text:
        if any(ord(ch) < 32 for ch in text):
            raise ApiError(422, "invalid_request", "q must not contain control characters.")
        ids = ids.join(Strategy, Strategy.id == r.strategy_id).where(
            func.lower(Strategy.name).contains(text.lower(), autoescape=True))
    sub = ids.order_by(r.score.desc(), r.strategy_id.desc()).offset((page - 1) * per_page).limit(per_page + 1
                                                                                            ).subquery()
    m = Strategy
    # only the listed columns: a strategy's results (its curves) can be large
    q_rows = (select(sub.c.score, m.id, m.name, m.category, m.user_id, User.display_name, m.score_is, m.score_oos,
                     m.trades, m.clone_count, m.followers, m.rating_sum, m.rating_count)
              .join(m, m.id == sub.c.strategy_id).join(User, User.id == m.user_id)
              .order_by(sub.c.score.desc(), sub.c.strategy_id.desc()))
    # one statement in autocommit: no BEGIN/ROLLBACK round trips around a read of one snapshot
    with st.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        rows = conn.execute(q_rows).all()
    items = [BoardRow(rank=(page - 1) * per_page + k + 1, id=row.id, name=row.name, category=row.category,
                      owner=(row.display_name or "").strip() or f"trader {row.user_id}", score=row.score,
                      score_is=row.score_is, score_oos=row.score_oos, trades=row.trades, clone_count=row.clone_count,
                      followers=row.followers, rating=(row.rating_sum / row.rating_count) if row.rating_count else None,
                      rating_count=row.rating_count)
             for k, row in enumerate(rows[:per_page])]
    return BoardPage(items=items, timeframe=timeframe, category=category, page=page, per_page=per_page,
                     more=len(rows) > per_page)


@router.get("/leaderboard/{strategy_id}", response_model=StrategyDetail)
def detail(strategy_id: ObjectId, user: CurrentIdentity, db: Db) -> StrategyDetail:
    """Equity curves, metrics, component scores with the weights, lineage and reviews."""
    return _detail(db, load_visible(db, strategy_id, user.user_id), user.user_id)


@router.post("/leaderboard/{strategy_id}/clone", response_model=StrategyDetail, status_code=201)
def clone(strategy_id: ObjectId, body: CloneIn, user: CurrentUser, db: Db) -> StrategyDetail:
    """Copy the strategy's rules into a new private strategy of the caller's (``parent_id`` =
    the source). A clone by someone other than the owner counts in the source's ``clone_count``."""
    src = load_visible(db, strategy_id, user.id, body.share_token)
    s = Strategy(user_id=user.id, name=body.name or f"{src.name} (clone)"[:120], category=src.category,
                 description=src.description, rules=src.rules, visibility="private", parent_id=src.id,
                 clone_count=0, followers=0, results="{}", trades=0, scorecard="{}", rating_count=0, rating_sum=0)
    db.add(s)
    if src.user_id != user.id:
        db.execute(update(Strategy).where(Strategy.id == src.id).values(clone_count=Strategy.clone_count + 1))
        db.flush()
        db.refresh(src)
        recalculate(db, src)
    db.flush()
    recalculate(db, s)
    db.commit()
    return _detail(db, s, user.id)


@router.put("/leaderboard/{strategy_id}/review", response_model=StrategyDetail)
def review(strategy_id: ObjectId, body: ReviewIn, user: CurrentUser, db: Db) -> StrategyDetail:
    """Rate (1–5 stars) and review a strategy: one per user, a second call edits it. Owners
    cannot rate their own."""
    s = load_visible(db, strategy_id, user.id, body.share_token)
    if s.user_id == user.id:
        raise ApiError(409, "own_strategy", "You cannot rate your own strategy.")
    mine = db.execute(select(StrategyReview).where(and_(StrategyReview.strategy_id == s.id,
                                                        StrategyReview.user_id == user.id))).scalar_one_or_none()
    if mine is None:
        db.add(StrategyReview(strategy_id=s.id, user_id=user.id, rating=body.rating, text=body.text))
    else:
        mine.rating, mine.text, mine.updated_at = body.rating, body.text, utcnow()
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise ApiError(409, "conflict", "Another review of yours arrived at the same time; send it again.") from None
    recalculate(db, s)
    db.commit()
    return _detail(db, s, user.id)
