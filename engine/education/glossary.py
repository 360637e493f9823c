"""Glossary search (``engine.fuzzy``: typed letters in order, word starts first) over each
term's name, aliases and id; an exact name or alias match comes first."""
from __future__ import annotations

from engine import fuzzy
from engine.education.content import Glossary, Term


def _best(query: str, t: Term) -> int | None:
    scores = [s for s in (fuzzy.score(query, name) for name in (t.term, *t.aliases, t.id)) if s is not None]
    return max(scores) if scores else None


def search(glossary: Glossary, query: str, limit: int = 50) -> list[Term]:
    """Terms matching ``query``, best first (all terms by name for an empty query)."""
    q = query.strip()
    if not q:
        return sorted(glossary.terms, key=lambda t: t.term.lower())[:limit]
    low = q.lower()
    exact = [t for t in glossary.terms if t.term.lower() == low or low in (a.lower() for a in t.aliases) or t.id == low]
    scored = [(s, t) for t in glossary.terms if t not in exact and (s := _best(q, t)) is not None]
    scored.sort(key=lambda st: (-st[0], len(st[1].term), st[1].term.lower()))
    return (exact + [t for _s, t in scored])[:limit]


def lookup(glossary: Glossary, name: str) -> Term | None:
    """The term whose id, name or alias is ``name`` (case-insensitive), else None."""
    low = name.strip().lower()
    hit = glossary.get(low)
    if hit is not None:
        return hit
    return next((t for t in glossary.terms if t.term.lower() == low or low in (a.lower() for a in t.aliases)), None)
