"""Evaluation: distances, CMC/mAP/mINP, multi-query pooling, re-ranking, feature extraction."""

from reid_lib.metrics.distance import METRICS, compute_distance
from reid_lib.metrics.ranking import AP_RULES, NoValidQueryError, RankResult, evaluate
from reid_lib.metrics.re_ranking import re_ranking, re_ranking_features

__all__ = [
    "AP_RULES",
    "METRICS",
    "NoValidQueryError",
    "RankResult",
    "compute_distance",
    "evaluate",
    "re_ranking",
    "re_ranking_features",
]
