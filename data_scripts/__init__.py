"""Scripts that obtain, verify and prepare datasets."""
