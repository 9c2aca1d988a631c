"""Evaluation: distances, CMC/mAP/mINP, multi-query pooling, re-ranking, feature extraction."""

from reid_lib.metrics.distance import METRICS, compute_distance
from reid_lib.metrics.feature_extraction import extract_features
from reid_lib.metrics.multi_query import POOLINGS, pool_multi_query
from reid_lib.metrics.ranking import (
    AP_RULES,
    NoValidQueryError,
    RankResult,
    evaluate,
    ranked_gallery,
)
from reid_lib.metrics.re_ranking import re_ranking, re_ranking_features

__all__ = [
    "AP_RULES",
    "METRICS",
    "POOLINGS",
    "NoValidQueryError",
    "RankResult",
    "compute_distance",
    "evaluate",
    "extract_features",
    "pool_multi_query",
    "ranked_gallery",
    "re_ranking",
    "re_ranking_features",
]
