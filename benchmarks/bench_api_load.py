"""Load benchmark of the service API: `runze serve` (uvicorn) on PostgreSQL, N concurrent clients (aiohttp)
reading and updating work orders for a bounded time; prints p50/p90/p99/max latency, throughput and errors.

    python benchmarks/bench_api_load.py [--clients 50] [--seconds 30] [--think-ms 0] [--workers 1]
                                        [--db postgresql+psycopg://postgres@127.0.0.1:5432/DB]

Without --db it creates a database `runze_bench_<random>` on 127.0.0.1, loads the demo records into it
(`runze init --demo`: ~1,100 work orders) and drops it at the end.  Each client logs in once (before timing),
then loops: 40 % list a filtered page of 20 work orders, 40 % read one work order, 20 % read-then-update one of
300 open orders made for the run (PATCH with the version read; a 409 from a concurrent writer is optimistic locking working and is counted as
`conflict`, not as an error).  The first --warmup seconds (default 5: pool connections opening, first-use
caches) run but are not recorded.  --think-ms adds a pause between a client's requests (0: closed loop, as fast as
the server answers).  The client runs on the same machine as the server, so both share its CPUs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
import uuid

import aiohttp
import httpx
import numpy as np
import psycopg

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
DEMO_PASSWORD = "runze-demo-2025"
OPEN_ORDERS = 300


def _scratch_lat() -> dict[str, list[float]]:
    return {"list": [], "get": [], "update": []}


def percentiles(samples: list[float]) -> str:
    if not samples:
        return "n=0"
    a = np.asarray(samples) * 1000.0
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    return f"n={a.size:6d}  p50 {p50:7.1f} ms  p90 {p90:7.1f} ms  p99 {p99:7.1f} ms  max {a.max():7.1f} ms"


async def client_loop(base: str, token: str, ids: list[int], open_ids: list[int], record_from: float,
                      deadline: float, think_s: float, seed: int, lat: dict[str, list[float]],
                      counts: dict[str, int]) -> None:
    """One client: its own connection (keep-alive), requests one after another, `think_s` apart on average."""
    rng = random.Random(seed)
    real_lat, real_counts = lat, counts
    headers = {"Authorization": f"Bearer {token}"}
    statuses = ["reported", "dispatched", "closed", "cancelled"]
    kinds = ["emergency_repair", "planned_repair", "meter_work", "new_connection_works"]
    timeout = aiohttp.ClientTimeout(total=30.0)
    connector = aiohttp.TCPConnector(limit=1)  # one connection per client, like one browser tab's API calls
    async with aiohttp.ClientSession(base, headers=headers, timeout=timeout, connector=connector) as client:
        if think_s:  # clients with think time start spread over one think time, not all at once
            await asyncio.sleep(rng.uniform(0.0, think_s))
        while time.perf_counter() < deadline:
            if time.perf_counter() < record_from:  # warm-up: requests run, nothing is recorded
                lat, counts = _scratch_lat(), {"ok": 0, "errors": 0, "conflicts": 0}
            else:
                lat, counts = real_lat, real_counts
            roll = rng.random()
            try:
                if roll < 0.4:
                    op = "list"
                    params = {"limit": 20, "offset": rng.randrange(0, 200), "status": rng.choice(statuses),
                              "kind": rng.choice(kinds)}
                    t = time.perf_counter()
                    async with client.get("/api/workorders", params=params) as r:
                        await r.read()
                    lat[op].append(time.perf_counter() - t)
                elif roll < 0.8:
                    op = "get"
                    t = time.perf_counter()
                    async with client.get(f"/api/workorders/{rng.choice(ids)}") as r:
                        await r.read()
                    lat[op].append(time.perf_counter() - t)
                else:
                    op = "update"
                    wo_id = rng.choice(open_ids)
                    t = time.perf_counter()
                    async with client.get(f"/api/workorders/{wo_id}") as current:
                        current_body = await current.json()
                    lat["get"].append(time.perf_counter() - t)
                    if current.status != 200:
                        counts["errors"] += 1
                        continue
                    body = {"description": f"巡查备注 {rng.random():.6f}", "version": current_body["version"]}
                    t = time.perf_counter()
                    async with client.patch(f"/api/workorders/{wo_id}", json=body) as r:
                        await r.read()
                    lat[op].append(time.perf_counter() - t)
                    if r.status == 409:
                        counts["conflicts"] += 1
                        continue
                if r.status != 200:
                    counts["errors"] += 1
                    if counts["errors"] <= 5:
                        print(f"error: {op} -> {r.status} {(await r.text())[:200]}", file=sys.stderr)
                else:
                    counts["ok"] += 1
            except (TimeoutError, aiohttp.ClientError) as exc:
                counts["errors"] += 1
                if counts["errors"] <= 5:
                    print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
            if think_s:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think_s)


async def run_load(base: str, clients: int, seconds: float, think_s: float, warmup: float) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as c:
        # logins before timing: argon2 is deliberately slow, once per client
        async def login() -> str:
            r = await c.post("/api/auth/token", data={"username": "dispatcher", "password": DEMO_PASSWORD})
            r.raise_for_status()
            return r.json()["access_token"]

        tokens = [await login() for _ in range(clients)]
        token0 = tokens[0]
        auth = {"Authorization": f"Bearer {token0}"}
        page = (await c.get("/api/workorders", params={"limit": 500}, headers=auth)).json()
        ids = [w["id"] for w in page["items"]]  # the newest 500, mostly closed: read only
        open_ids = []  # open orders that the clients edit (a closed order refuses edits)
        for i in range(OPEN_ORDERS):
            r = await c.post("/api/workorders", headers=auth, json={
                "kind": "leak_investigation", "title": f"夜间听漏 {i}", "address": "建设路"})
            r.raise_for_status()
            open_ids.append(r.json()["id"])
        ids += open_ids
    lat: dict[str, list[float]] = {"list": [], "get": [], "update": []}
    counts = {"ok": 0, "errors": 0, "conflicts": 0}
    load_before = os.getloadavg()
    cpu_before = time.process_time()
    started = time.perf_counter() + warmup
    deadline = started + seconds
    await asyncio.gather(*(client_loop(base, tokens[i], ids, open_ids, started, deadline, think_s, i, lat, counts)
                           for i in range(clients)))
    elapsed = time.perf_counter() - started
    client_cpu = time.process_time() - cpu_before
    total = sum(len(v) for v in lat.values())
    print(f"clients {clients}, {elapsed:.1f} s after {warmup:.0f} s warm-up, think {think_s * 1000:.0f} ms, machine load average before "
          f"{load_before[0]:.2f} after {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs); the load client itself used "
          f"{client_cpu:.1f} CPU-s in {elapsed + warmup:.0f} s")
    print(f"requests {total} ({total / elapsed:.0f}/s), ok {counts['ok']}, conflicts (409) {counts['conflicts']}, "
          f"errors {counts['errors']}")
    for op, samples in lat.items():
        print(f"  {op:7s} {percentiles(samples)}")
    print(f"  {'all':7s} {percentiles([x for v in lat.values() for x in v])}")


def wait_for(base: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("server did not come up")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--think-ms", type=float, default=0.0)
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds of load before recording starts")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--port", type=int, default=8791)
    ap.add_argument("--db", default=None, help="PostgreSQL URL of a database that `runze init --demo` filled")
    args = ap.parse_args()

    own_db = None
    url = args.db
    if url is None:
        own_db = f"runze_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{own_db}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{own_db}"
    runze = [sys.executable, "-m", "runze"]
    try:
        if own_db:
            subprocess.run([*runze, "init", "--demo", "--db", url], check=True, stdout=subprocess.DEVNULL)
        proc = subprocess.Popen([*runze, "serve", "--db", url, "--port", str(args.port), "--workers",
                                 str(args.workers)], stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{args.port}"
        try:
            wait_for(base, proc)
            asyncio.run(run_load(base, args.clients, args.seconds, args.think_ms / 1000.0, args.warmup))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        if own_db:
            with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{own_db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
