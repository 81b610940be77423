"""BattLeDIM 2020 scoring of leak detections against the ground truth.

A detection (pipe, time) counts for a leak when the time lies between the leak's start and its repair (end) and
the network distance, midpoint to midpoint, between the detected pipe and the leaking pipe is at most
`max_distance_m` (300 m).  It earns `eur_per_m3` (0.80) for every m³ the leak still loses after the detection,
minus (distance / 300 m) × €500; a detection that counts for no leak costs €500; a second detection of a leak
already found earns nothing.  The perfect score is every leak found at its start on its own pipe.

Leak outflow over time (for volumes): abrupt leaks lose `peak_m3h` from start to end; incipient leaks grow
linearly from 0 at the start to `peak_m3h` at the end, as the generator makes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from runze.i18n import bilingual
from runze.network.model import Network
from runze.network.topology import NetworkGraph, pipe_distance

TRUTH_COLUMNS = ("pipe", "start", "end", "kind", "peak_m3h")
DETECTION_COLUMNS = ("pipe_id", "detected_at")


class ScoreInputError(ValueError):
    pass


@dataclass
class ScoreConfig:
    max_distance_m: float = 300.0
    eur_per_m3: float = 0.80
    distance_penalty_eur: float = 500.0
    false_positive_eur: float = 500.0
    size_threshold_m3h: float = 2.0


def volume_after(leaks: pd.DataFrame, t: pd.Timestamp | np.ndarray) -> np.ndarray:
    """m³ each leak still loses after time(s) t (broadcast over leaks)."""
    start = leaks["start"].to_numpy("datetime64[s]").astype("int64").astype(float)
    end = leaks["end"].to_numpy("datetime64[s]").astype("int64").astype(float)
    tt = np.asarray(pd.to_datetime(t), dtype="datetime64[s]").astype("int64").astype(float)
    tt = np.clip(tt, start, end)
    peak = leaks["peak_m3h"].to_numpy(float)
    span = np.maximum(end - start, 1.0)
    abrupt = peak * (end - tt) / 3600.0
    incipient = peak / span * (span ** 2 - (tt - start) ** 2) / 2.0 / 3600.0
    return np.where(leaks["kind"].str.lower().str.startswith("inc").to_numpy(), incipient, abrupt)


def _check(frame: pd.DataFrame, cols, name: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ScoreInputError(bilingual("leaks.score.missing_columns", name=name, missing=", ".join(missing),
                                        expected=",".join(cols)))


def score(truth: pd.DataFrame, detections: pd.DataFrame, net: Network,
          cfg: ScoreConfig | None = None) -> tuple[dict, pd.DataFrame]:
    """(summary, per-detection table) — see the module docstring."""
    cfg = cfg or ScoreConfig()
    _check(truth, TRUTH_COLUMNS, "truth")
    _check(detections, DETECTION_COLUMNS, "detections")
    truth = truth.copy()
    truth["start"] = pd.to_datetime(truth["start"])
    truth["end"] = pd.to_datetime(truth["end"])
    det = detections.dropna(subset=["pipe_id"]).copy()
    det["pipe_id"] = det["pipe_id"].astype(str)
    det["detected_at"] = pd.to_datetime(det["detected_at"])
    det = det.sort_values("detected_at", kind="stable").reset_index(drop=True)
    graph = NetworkGraph.from_network(net)
    for name, ids in (("truth", truth["pipe"].astype(str)), ("detections", det["pipe_id"])):
        unknown = sorted(set(ids) - set(graph.link_index))
        if unknown:
            raise ScoreInputError(bilingual("leaks.score.unknown_pipe", name=name, pipe=unknown[0]))
    total_volume = volume_after(truth, truth["start"].to_numpy())
    perfect = cfg.eur_per_m3 * float(total_volume.sum())
    dist = (pipe_distance(graph, graph.link_indices(list(det["pipe_id"])),
                          graph.link_indices(list(truth["pipe"].astype(str))))
            if len(det) and len(truth) else np.zeros((len(det), len(truth))))
    found_at: dict[int, tuple[pd.Timestamp, float]] = {}
    rows = []
    for i, d in det.iterrows():
        t = d["detected_at"]
        live = ((truth["start"] <= t) & (t <= truth["end"])).to_numpy() & (dist[i] <= cfg.max_distance_m)
        if not live.any():
            rows.append({"pipe_id": d["pipe_id"], "detected_at": t, "leak": None, "distance_m": None,
                         "outcome": "false_positive", "eur": -cfg.false_positive_eur})
            continue
        j = int(np.flatnonzero(live)[np.argmin(dist[i][live])])
        if j in found_at:
            rows.append({"pipe_id": d["pipe_id"], "detected_at": t, "leak": truth.at[j, "pipe"],
                         "distance_m": float(dist[i, j]), "outcome": "repeat", "eur": 0.0})
            continue
        found_at[j] = (t, float(dist[i, j]))
        eur = cfg.eur_per_m3 * float(volume_after(truth.iloc[[j]], t)[0]) \
            - dist[i, j] / cfg.max_distance_m * cfg.distance_penalty_eur
        rows.append({"pipe_id": d["pipe_id"], "detected_at": t, "leak": truth.at[j, "pipe"],
                     "distance_m": float(dist[i, j]), "outcome": "true_positive", "eur": eur})
    table = pd.DataFrame(rows, columns=["pipe_id", "detected_at", "leak", "distance_m", "outcome", "eur"])
    big = truth["peak_m3h"].to_numpy(float) >= cfg.size_threshold_m3h
    delays = {j: (t - truth.at[j, "start"]).total_seconds() / 3600.0 for j, (t, _) in found_at.items()}
    abrupt = truth["kind"].str.lower().str.startswith("ab").to_numpy()
    total = float(table["eur"].sum()) if len(table) else 0.0
    summary = {
        "leaks": int(len(truth)),
        "leaks_found": len(found_at),
        "leaks_over_threshold": int(big.sum()),
        "leaks_over_threshold_found": int(sum(1 for j in found_at if big[j])),
        "false_positives": int((table["outcome"] == "false_positive").sum()),
        "repeats": int((table["outcome"] == "repeat").sum()),
        "median_distance_m": float(np.median([d for _, d in found_at.values()])) if found_at else None,
        "median_delay_h": float(np.median(list(delays.values()))) if delays else None,
        "median_delay_abrupt_h": (float(np.median([v for j, v in delays.items() if abrupt[j]]))
                                  if any(abrupt[j] for j in delays) else None),
        "median_delay_incipient_h": (float(np.median([v for j, v in delays.items() if not abrupt[j]]))
                                     if any(not abrupt[j] for j in delays) else None),
        "score_eur": round(total, 2),
        "perfect_eur": round(perfect, 2),
        "score_pct_of_perfect": round(100.0 * total / perfect, 2) if perfect > 0 else None,
    }
    return summary, table
