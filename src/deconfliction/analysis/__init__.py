"""Analysis of recorded or simulated traffic: replays under protocols (what-if) and
the search of long histories on Dask (analyze).

``tracks`` reads track tables (the demo's ``tracks.csv`` and Parquet with the same
columns); ``engine`` is the single-machine engine both build on: conflicts at every
detection instant, losses of separation and conformance violations; ``whatif``
compares protocols on the same traffic; ``analyze`` runs the engine over partitions
of any size on a Dask cluster and gives the same result.
"""
