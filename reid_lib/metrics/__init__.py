"""Evaluation: distances, CMC/mAP/mINP, multi-query pooling, re-ranking, feature extraction."""
