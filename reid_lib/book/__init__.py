"""What the book's chapters import: the chapter session, the folders, data, a short training run
and the figures.

``set_up.set_up_chapter`` is every chapter's first call (``chapter.start``: profile, device,
seed, results file; then its data); ``legibility`` measures each figure a chapter shows, for
``tools.page_defects``; ``paths`` names the repository's folders; ``data`` loads the datasets a
chapter shows; ``training.short_run`` trains a chapter's model once per profile; ``figures``
draws the image grids, overlays and ranked lists; ``tabs`` shows one dataset's tables and figures
at a time. The tables come from ``reid_lib.reports``, the training sweeps from ``reid_lib.studies``.
"""
