"""Scoring of a micro party lecture (微党课) competition judged by a panel.  Pure logic, no storage.

Rules (all in :class:`CompetitionConfig`):

1. **Criteria** carry weights.  Weights that do not sum to 1 are normalised (each divided by the sum) and a
   ``competition.weights_normalised`` warning is returned; with ``normalise_weights=False`` they are an error.
2. A **judge's total** for a contestant is the weighted sum of that judge's criterion scores.
3. A contestant's **score** is the mean of the judges' totals; when there are at least ``trim_min_judges`` judges
   (5 by default), the single highest and the single lowest total are dropped first (one each, even if several
   judges gave the same extreme).  Scores are rounded to ``decimals`` places (2 by default) before ranking, as
   announced scores are; ``decimals=None`` ranks on exact values.
4. **Ties**: contestants with equal scores are compared by the tie-breaks in order (default: higher median of all
   judges' totals, then higher mean of all judges' totals including the dropped ones).  Available tie-breaks:
   ``median``, ``all_judges_mean``, ``min_total`` (higher lowest judge total: the more consistent lecture) and
   ``criterion:<key>`` (higher mean score on that criterion).  Contestants still equal on every tie-break
   **share the rank** (competition ranking 1, 2, 2, 4) and a ``competition.tie_unbroken`` warning names them.
5. **Prizes** go by rank bands (``PrizeBand(label, first_rank, last_rank)``); tied contestants share a rank and
   so share the prize of that rank, which can make a band hold more winners than planned (reported, not hidden).

Every score must be present and within the criterion's range; problems raise :class:`ScoringError` listing each
(judge, contestant, criterion).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from runze.i18n import both, t


@dataclass(frozen=True, slots=True)
class Criterion:
    key: str
    name_zh: str
    name_en: str
    weight: float
    min_score: float = 0.0
    max_score: float = 100.0


@dataclass(frozen=True, slots=True)
class PrizeBand:
    label: str  # e.g. "一等奖 First prize"
    first_rank: int
    last_rank: int


@dataclass(frozen=True)
class CompetitionConfig:
    criteria: tuple[Criterion, ...]
    trim_min_judges: int = 5
    tie_breaks: tuple[str, ...] = ("median", "all_judges_mean")
    prize_bands: tuple[PrizeBand, ...] = (PrizeBand("一等奖 First prize", 1, 1),
                                          PrizeBand("二等奖 Second prize", 2, 3),
                                          PrizeBand("三等奖 Third prize", 4, 6))
    decimals: int | None = 2
    normalise_weights: bool = True
    weight_tolerance: float = 1e-9

    def __post_init__(self) -> None:
        keys = [c.key for c in self.criteria]
        if not keys or len(set(keys)) != len(keys):
            raise ValueError(f"competition: criteria must be non-empty with unique keys, got {keys}")
        if any(c.weight < 0 for c in self.criteria) or sum(c.weight for c in self.criteria) <= 0:
            raise ValueError("competition: weights must be >= 0 with a positive sum")
        for tb in self.tie_breaks:
            if tb not in ("median", "all_judges_mean", "min_total") and not (
                    tb.startswith("criterion:") and tb.split(":", 1)[1] in keys):
                raise ValueError(f"competition: unknown tie-break {tb!r}")


class ScoringError(ValueError):
    """Missing or out-of-range scores (all of them listed), or inconsistent weights when not normalising."""

    def __init__(self, problems: list[dict]) -> None:
        self.problems = problems  # each {"zh": ..., "en": ...}
        super().__init__("; ".join(p["en"] for p in problems[:20])
                         + (f"; ... and {len(problems) - 20} more" if len(problems) > 20 else ""))


@dataclass(frozen=True, slots=True)
class Standing:
    contestant: str
    score: float
    rank: int
    prize: str | None
    judge_totals: dict  # judge -> weighted total
    dropped: tuple  # (judge with highest total, judge with lowest total) or ()
    tie_break_values: dict
    tied_with: tuple  # contestants sharing this rank

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class CompetitionResult:
    standings: list[Standing]
    weights: dict  # criterion -> weight actually used
    trimmed: bool
    warnings: list[dict] = field(default_factory=list)  # each {"code", "zh", "en"}

    def to_dict(self) -> dict:
        return {"standings": [s.to_dict() for s in self.standings], "weights": self.weights,
                "trimmed": self.trimmed, "warnings": self.warnings}


def _warning(code: str, **kw) -> dict:
    return {"code": code, **both(code, **kw)}


def _problem(code: str, criterion: Criterion, **kw) -> dict:
    """A problem text in both languages, naming the criterion in each language."""
    return {"zh": t(code, "zh", criterion=criterion.name_zh, **kw), "en": t(code, "en", criterion=criterion.name_en, **kw)}


def score_competition(
    scores: Mapping[str, Mapping[str, Mapping[str, float]]],
    config: CompetitionConfig,
    *,
    contestants: Sequence[str] | None = None,
    judges: Sequence[str] | None = None,
) -> CompetitionResult:
    """Rank contestants from ``scores[judge][contestant][criterion]``.

    ``contestants``/``judges`` fix the expected sets (and output order of equal ranks); by default they are
    everyone who appears.  Every judge must score every contestant on every criterion.
    """
    judges = list(judges) if judges is not None else list(scores)
    if contestants is None:
        seen: dict[str, None] = {}
        for j in judges:
            for c in scores.get(j, {}):
                seen.setdefault(c, None)
        contestants = list(seen)
    else:
        contestants = list(contestants)
    crit = config.criteria
    if not judges or not contestants:
        raise ValueError("competition: need at least one judge and one contestant")

    warnings = []
    weights = np.array([c.weight for c in crit], dtype=float)
    total_w = weights.sum()
    if abs(total_w - 1.0) > config.weight_tolerance:
        if not config.normalise_weights:
            raise ScoringError([both("competition.weights_normalised", total=total_w)])
        warnings.append(_warning("competition.weights_normalised", total=total_w))
        weights = weights / total_w

    # scores as an array (contestant, judge, criterion); collect every problem before failing
    arr = np.full((len(contestants), len(judges), len(crit)), np.nan)
    problems = []
    for ji, j in enumerate(judges):
        by_contestant = scores.get(j, {})
        for ci, c in enumerate(contestants):
            row = by_contestant.get(c, {})
            for ki, k in enumerate(crit):
                v = row.get(k.key)
                if v is None or not np.isfinite(float(v)):
                    problems.append(_problem("competition.missing_score", k, judge=j, contestant=c))
                    continue
                if not k.min_score <= float(v) <= k.max_score:
                    problems.append(_problem("competition.score_out_of_range", k, judge=j, contestant=c, score=v,
                                             low=k.min_score, high=k.max_score))
                arr[ci, ji, ki] = float(v)
    if problems:
        raise ScoringError(problems)

    totals = arr @ weights  # (contestant, judge)
    trimmed = len(judges) >= config.trim_min_judges
    order = np.argsort(totals, axis=1, kind="stable")
    if trimmed:
        kept = np.sort(totals, axis=1)[:, 1:-1]
        raw_scores = kept.mean(axis=1)
    else:
        raw_scores = totals.mean(axis=1)
    final = np.round(raw_scores, config.decimals) if config.decimals is not None else raw_scores

    tb_values = {}
    for tb in config.tie_breaks:
        if tb == "median":
            tb_values[tb] = np.median(totals, axis=1)
        elif tb == "all_judges_mean":
            tb_values[tb] = totals.mean(axis=1)
        elif tb == "min_total":
            tb_values[tb] = totals.min(axis=1)
        else:
            ki = [c.key for c in crit].index(tb.split(":", 1)[1])
            tb_values[tb] = arr[:, :, ki].mean(axis=1)
    # round tie-break values as well, so float noise never decides a prize
    keys = [np.round(final, 9)] + [np.round(v, 9) for v in tb_values.values()]
    # sort by score, then tie-breaks, all descending; np.lexsort uses the last key as primary
    ranking = np.lexsort([-k for k in reversed(keys)])
    key_rows = np.stack(keys, axis=1)

    standings = []
    rank = 0
    groups: list[list[int]] = []
    for pos, ci in enumerate(ranking):
        if pos == 0 or not np.array_equal(key_rows[ci], key_rows[ranking[pos - 1]]):
            rank = pos + 1
            groups.append([])
        groups[-1].append(int(ci))
        standings.append((rank, int(ci)))
    tied = {ci: tuple(contestants[x] for x in g if x != ci) for g in groups for ci in g}
    for g in groups:
        if len(g) > 1:
            warnings.append(_warning("competition.tie_unbroken", contestants="、".join(contestants[x] for x in g)))

    out = []
    for rank, ci in standings:
        prize = next((b.label for b in config.prize_bands if b.first_rank <= rank <= b.last_rank), None)
        dropped = (judges[order[ci, -1]], judges[order[ci, 0]]) if trimmed else ()
        out.append(Standing(
            contestant=contestants[ci], score=float(final[ci]), rank=rank, prize=prize,
            judge_totals={j: float(totals[ci, ji]) for ji, j in enumerate(judges)}, dropped=dropped,
            tie_break_values={tb: float(v[ci]) for tb, v in tb_values.items()}, tied_with=tied[ci]))
    return CompetitionResult(out, {c.key: float(w) for c, w in zip(crit, weights, strict=True)}, trimmed, warnings)
