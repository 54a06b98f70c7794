"""Start and stop of a 2-worker LocalCluster with its Client: prints {"startSeconds", "stopSeconds"}.

Start: LocalCluster(...) and Client(cluster) until both workers are connected.
Stop: client.close() and cluster.close(). The argument (n) is ignored.
"""
import time

from distributed import Client, LocalCluster

from _common import cluster_kwargs, emit


def main():
    t0 = time.perf_counter()
    cluster = LocalCluster(**cluster_kwargs())
    client = Client(cluster)
    client.wait_for_workers(2)
    t1 = time.perf_counter()
    client.close()
    cluster.close()
    t2 = time.perf_counter()
    emit({"startSeconds": t1 - t0, "stopSeconds": t2 - t1})


if __name__ == "__main__":
    main()
