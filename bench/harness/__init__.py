"""The pieces of syncframe's benchmark (``python bench/run.py``).

``measure`` runs one process and reads its wall time, CPU time and peak RSS;
``sims`` starts the Graph and pascom simulators in the harness's own process;
``scenarios`` holds the six measurements; ``report`` writes the JSON and the table.
The ``*_worker`` modules run in their own subprocesses so each one's memory is its own.
"""
