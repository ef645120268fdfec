"""The instructor's demo app (``python -m helpers.demo``): search anything, ask anything, and the
retrieval methods side by side, over the course's store, in the browser.

An application package above the steps, as a notebook is: it may import any step package
(Step 2's store of every item, Step 4's ``ask()``), and nothing in ``helpers`` imports it.

- ``engine``    what the app computes, without a web page: search, ask, compare; a file's kind
- ``views``     hits, answers and comparisons as HTML cards with pictures and players
- ``app``       the Gradio app (Search, Ask and Compare tabs), offline, and its launch
- ``browser``   headless Chromium driven by Selenium, for the tests and the benchmark
- ``bench``     ``python -m helpers.demo.bench``: ``demo.startup_s`` and ``demo.search.p50_ms``
"""
