"""Losses: label-smoothed cross-entropy, batch-hard triplet, and the combined ReID loss."""
