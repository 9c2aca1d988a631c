"""The executable book: chapters (``*.ipynb``), their runner and the site build.

``book.run`` executes the chapters with papermill; ``book.site`` builds the HTML from the executed
copies; ``book.chapter`` is what every chapter imports first (profile, device, results file).
"""
