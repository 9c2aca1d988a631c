"""What the book's chapters import: the chapter session, the folders, data, a short training run
and the figures.

``chapter.start`` is every chapter's first call (profile, device, seed, results file);
``paths`` names the repository's folders; ``data`` loads the datasets a chapter shows;
``training.short_run`` trains a chapter's model once per profile; ``figures`` draws the image
grids, overlays and ranked lists; ``tabs`` shows one dataset's tables and figures at a time. The
tables come from ``reid_lib.reports``, the training sweeps from ``reid_lib.studies``.
"""
