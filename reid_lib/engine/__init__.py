"""Training engine: configuration, loop, checkpoints, provenance and results files."""
