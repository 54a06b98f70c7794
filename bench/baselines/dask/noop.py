"""n no-op tasks through client.map, then gather: prints {"tasksPerSec", "seconds"}.

Timed from client.map to the end of gather, on a LocalCluster already up with both workers
connected and warmed by one task (cluster start is measured by startstop.py).
Dask's defaults are kept (worker-saturation queuing on), as a Dask user would get them.
"""
import time

from distributed import Client, LocalCluster

from _common import argn, cluster_kwargs, emit


def noop(i):
    return None


def main():
    n = argn(10000)
    with LocalCluster(**cluster_kwargs()) as cluster, Client(cluster) as client:
        client.wait_for_workers(2)
        client.submit(noop, -1, pure=False).result()
        t0 = time.perf_counter()
        futures = client.map(noop, range(n), pure=False)
        client.gather(futures)
        seconds = time.perf_counter() - t0
        del futures
    emit({"tasksPerSec": n / seconds, "seconds": seconds})


if __name__ == "__main__":
    main()
