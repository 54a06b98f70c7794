"""A chain of n dependent tasks, inc(prev): prints {"msPerHop", "seconds"}.

All n client.submit calls are made up front, each taking the previous future, so the scheduler
runs them one after another as dependencies resolve (Dask's way to express a chain); timed from
the first submit to the last result, on a LocalCluster already up and warmed by one task.
"""
import time

from distributed import Client, LocalCluster

from _common import argn, cluster_kwargs, emit


def inc(x):
    return x + 1


def main():
    n = argn(1000)
    with LocalCluster(**cluster_kwargs()) as cluster, Client(cluster) as client:
        client.wait_for_workers(2)
        client.submit(inc, -1, pure=False).result()
        t0 = time.perf_counter()
        x = client.submit(inc, 0, pure=False)
        for _ in range(n - 1):
            x = client.submit(inc, x, pure=False)
        value = x.result()
        seconds = time.perf_counter() - t0
        if value != n:
            raise SystemExit(f"chain ended at {value}, expected {n}")
        del x
    emit({"msPerHop": seconds * 1000 / n, "seconds": seconds})


if __name__ == "__main__":
    main()
