"""Dask executor for batch mode: scenario chunks on a dask.distributed cluster (sweeps beyond one machine).

    solve_batch(net, scenarios, executor="dask", scheduler="tcp://10.0.0.5:8786")   # or a Client

The network is scattered once (broadcast to every worker); each worker process builds its `BatchEngine` once
per batch (kept in a module-level cache keyed by a batch token, so the second chunk on a worker reuses the
compiled kernel and base factorisation) and returns raw arrays for its chunk, merged in scenario order.
"""

from __future__ import annotations

import uuid

from runze.hydraulics.batch import BatchEngine, BatchError, chunked, merge_raw

MESSAGES = {
    "no_scheduler": "executor='dask' 需要 scheduler (地址或 Client) / executor='dask' needs scheduler= "
                    "(an address such as tcp://host:8786, or a dask.distributed.Client)",
    "no_workers": "Dask 集群没有 worker / the Dask cluster at {address} has no workers",
}

_ENGINES: dict[str, BatchEngine] = {}


def _solve_chunk(token: str, net, pda: bool, accuracy, fast: bool, plans, times) -> dict:
    engine = _ENGINES.get(token)
    if engine is None:
        _ENGINES.clear()  # one batch at a time per worker process: drop the previous batch's engine
        engine = _ENGINES[token] = BatchEngine(net, pda=pda, accuracy=accuracy, fast=fast)
    return engine.solve_plans(plans, times)


def solve_dask(net, plans, times, scheduler, *, pda: bool = False, accuracy=None, fast: bool = True,
               chunks_per_worker: int = 2) -> dict:
    """Raw results (internal units) of `plans` × `times`, computed on the cluster behind `scheduler`."""
    from dask.distributed import Client

    if scheduler is None:
        raise BatchError(MESSAGES["no_scheduler"])
    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        workers = client.scheduler_info().get("workers", {})
        if not workers:
            raise BatchError(MESSAGES["no_workers"].format(address=client.scheduler.address))
        token = uuid.uuid4().hex
        [net_future] = client.scatter([net], broadcast=True)
        chunks = chunked(plans, len(workers) * max(1, chunks_per_worker))
        futures = [client.submit(_solve_chunk, token, net_future, pda, accuracy, fast, chunk, list(times),
                                 pure=False) for chunk in chunks]
        parts = client.gather(futures)
    finally:
        if own:
            client.close()
    return merge_raw(parts)
