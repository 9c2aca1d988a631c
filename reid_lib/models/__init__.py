"""The model: backbone, non-local blocks, TSA, MSG, WDP, heads and the assembled network."""
