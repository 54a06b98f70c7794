"""Shared set-up for the Dask distributed baselines (bench/baselines/dask.ts runs these).

Every script prints exactly one JSON line on stdout; Dask's own logging goes to stderr.
The cluster is the 2-worker LocalCluster weft's 2-worker LocalCluster is compared with.
"""
import json
import logging
import sys
import warnings

warnings.filterwarnings("ignore")
logging.getLogger("distributed").setLevel(logging.ERROR)


def cluster_kwargs():
    return dict(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)


def argn(default=0):
    return int(sys.argv[1]) if len(sys.argv) > 1 else default


def emit(result):
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
