"""微党课 competition scoring: weighted totals, trimming with 5 judges, none with 3, ties and prizes."""

from __future__ import annotations

import pytest

from runze.ops.competition import (
    CompetitionConfig,
    Criterion,
    PrizeBand,
    ScoringError,
    score_competition,
)

CRITERIA = (
    Criterion("content", "内容", "content", 0.4),
    Criterion("delivery", "表达", "delivery", 0.3),
    Criterion("effect", "效果", "effect", 0.3),
)
CONFIG = CompetitionConfig(CRITERIA)


def panel(per_contestant: dict[str, list]) -> dict:
    """scores[judge][contestant][criterion] from {contestant: [per judge: total or (content, delivery, effect)]}."""
    out: dict = {}
    for contestant, per_judge in per_contestant.items():
        for ji, s in enumerate(per_judge):
            c, d, e = (s, s, s) if not isinstance(s, tuple) else s
            out.setdefault(f"J{ji + 1}", {})[contestant] = {"content": c, "delivery": d, "effect": e}
    return out


def test_five_judges_drop_highest_and_lowest_with_ties():
    scores = panel({
        # J1: 0.4×95 + 0.3×85 + 0.3×87.5 = 38 + 25.5 + 26.25 = 89.75
        # totals 89.75, 85, 88, 70, 95 -> drop 95 (J5) and 70 (J4) -> (89.75+85+88)/3 = 87.5833 -> 87.58
        "A": [(95, 85, 87.5), 85, 88, 70, 95],
        "B": [88, 87, 87, 90, 86],  # drop 90, 86 -> 87.33
        "C": [80, 80, 80, 80, 80],  # 80
        "D": [84, 86, 85, 83, 90],  # drop 90, 83 -> 85.00; median 85; mean of all 85.6
        "E": [85, 85, 85, 70, 99],  # drop 99, 70 -> 85.00; median 85; mean of all 84.8
        "G": [83, 86, 86, 60, 99],  # drop 99, 60 -> 85.00; median 86
        "H": [80, 80, 80, 80, 80],  # identical to C on everything: a real tie
        "I": [70, 70, 70, 70, 70],
    })
    res = score_competition(scores, CONFIG)
    assert res.trimmed
    table = [(s.contestant, s.score, s.rank, s.prize) for s in res.standings]
    assert table == [
        ("A", 87.58, 1, "一等奖 First prize"),
        ("B", 87.33, 2, "二等奖 Second prize"),
        ("G", 85.0, 3, "二等奖 Second prize"),  # 85.00 three ways: G wins on the higher median (86)
        ("D", 85.0, 4, "三等奖 Third prize"),  # D and E: same median, D has the higher mean of all judges
        ("E", 85.0, 5, "三等奖 Third prize"),
        ("C", 80.0, 6, "三等奖 Third prize"),  # C and H share rank 6 and the prize
        ("H", 80.0, 6, "三等奖 Third prize"),
        ("I", 70.0, 8, None),  # competition ranking: after two 6th places comes 8th
    ]
    a = res.standings[0]
    assert a.judge_totals["J1"] == pytest.approx(89.75) and a.dropped == ("J5", "J4")
    assert res.standings[5].tied_with == ("H",) and res.standings[3].tied_with == ()
    assert [w["code"] for w in res.warnings] == ["competition.tie_unbroken"]
    assert "C、H" in res.warnings[0]["zh"]
    assert res.to_dict()["standings"][0]["contestant"] == "A"


def test_three_judges_plain_mean_and_configurable_tie_break():
    scores = panel({"A": [90, 60, 84], "B": [80, 80, 80]})
    res = score_competition(scores, CONFIG)
    assert not res.trimmed and res.standings[0].dropped == ()
    # no trimming with 3 judges: A = (90+60+84)/3 = 78.0 < B = 80.0 (trimmed, A would have been 84)
    assert [(s.contestant, s.score, s.rank) for s in res.standings] == [("B", 80.0, 1), ("A", 78.0, 2)]

    tie = panel({"X": [80, 70, 90], "Y": [80, 80, 80]})  # mean 80 and median 80 for both
    res = score_competition(tie, CONFIG)
    assert [(s.contestant, s.rank) for s in res.standings] == [("X", 1), ("Y", 1)]
    assert res.standings[0].prize == res.standings[1].prize == "一等奖 First prize"
    # with "the more consistent lecture wins" as a tie-break, Y (lowest judge total 80) beats X (70)
    conf = CompetitionConfig(CRITERIA, tie_breaks=("median", "min_total"))
    res = score_competition(tie, conf)
    assert [(s.contestant, s.rank) for s in res.standings] == [("Y", 1), ("X", 2)]
    assert res.warnings == []


def test_weights_are_normalised_with_a_warning_or_rejected():
    raw = (Criterion("content", "内容", "content", 40), Criterion("delivery", "表达", "delivery", 30),
           Criterion("effect", "效果", "effect", 30))
    scores = panel({"A": [(95, 85, 87.5), 85, 88, 70, 95]})
    res = score_competition(scores, CompetitionConfig(raw))
    assert res.weights == pytest.approx({"content": 0.4, "delivery": 0.3, "effect": 0.3})
    assert res.standings[0].score == 87.58
    assert res.warnings[0]["code"] == "competition.weights_normalised" and "100" in res.warnings[0]["en"]
    with pytest.raises(ScoringError, match="not 1"):
        score_competition(scores, CompetitionConfig(raw, normalise_weights=False))


def test_missing_and_out_of_range_scores_are_all_listed():
    scores = panel({"A": [80, 80, 80], "B": [80, 80, 80]})
    del scores["J2"]["B"]["delivery"]
    scores["J3"]["A"]["effect"] = 120
    with pytest.raises(ScoringError) as info:
        score_competition(scores, CONFIG)
    en = [p["en"] for p in info.value.problems]
    assert en == ["Judge J2 gave no 'delivery' score to contestant B",
                  "Judge J3 scored contestant A 120 on 'effect', outside 0.0–100.0"]
    assert "表达" in info.value.problems[0]["zh"]
    with pytest.raises(ValueError, match="tie-break"):
        CompetitionConfig(CRITERIA, tie_breaks=("coin_toss",))


def test_custom_prize_bands_and_trim_threshold():
    conf = CompetitionConfig(CRITERIA, trim_min_judges=3, prize_bands=(PrizeBand("优胜奖", 1, 2),))
    res = score_competition(panel({"A": [90, 60, 84], "B": [80, 80, 80], "C": [10, 10, 10]}), conf)
    # trimming now applies with 3 judges: A keeps only its middle total, 84
    assert [(s.contestant, s.score, s.prize) for s in res.standings] == [
        ("A", 84.0, "优胜奖"), ("B", 80.0, "优胜奖"), ("C", 10.0, None)]
