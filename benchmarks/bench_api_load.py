"""Load benchmark of the service API: `runze serve` (uvicorn) on PostgreSQL, N concurrent clients (aiohttp)
reading and updating work orders for a bounded time; prints p50/p90/p99/max latency, throughput and errors.

    python benchmarks/bench_api_load.py [--clients 50] [--seconds 30] [--think-ms 0|1000,500,250,100,0]
                                        [--workers 1]
                                        [--db postgresql+psycopg://postgres@127.0.0.1:5432/DB]

Without --db it creates a database `runze_bench_<random>` on 127.0.0.1, loads the demo records into it
(`runze init --demo`: ~1,100 work orders) and drops it at the end.  Each client logs in once (before timing),
then loops: 40 % list a filtered page of 20 work orders, 40 % read one work order, 20 % read-then-update one of
300 open orders made for the run (PATCH with the version read; a 409 from a concurrent writer is optimistic
locking working and is counted as `conflict`, not as an error).  The first --warmup seconds (default 5: pool connections opening, first-use
caches) run but are not recorded.  --think-ms adds a pause between a client's requests (0: closed loop, as fast as
the server answers); a list of values is a sweep: one step (warm-up + --seconds) per value on the same server and
clients, then a table of req/s, p50, p99 and errors per step, which shows where p99 leaves the target.  The
client runs on the same machine as the server, so both share its CPUs.
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


async def prepare(base: str, clients: int) -> tuple[list[str], list[int], list[int]]:
    """Tokens (one login per client), the ids to read and the open orders to edit (made for the run)."""
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as c:
        # logins before timing: argon2 is deliberately slow, once per client
        async def login() -> str:
            r = await c.post("/api/auth/token", data={"username": "dispatcher", "password": DEMO_PASSWORD})
            r.raise_for_status()
            return r.json()["access_token"]

        tokens = [await login() for _ in range(clients)]
        auth = {"Authorization": f"Bearer {tokens[0]}"}
        page = (await c.get("/api/workorders", params={"limit": 500}, headers=auth)).json()
        ids = [w["id"] for w in page["items"]]  # the newest 500, mostly closed: read only
        open_ids = []  # open orders that the clients edit (a closed order refuses edits)
        for i in range(OPEN_ORDERS):
            r = await c.post("/api/workorders", headers=auth, json={
                "kind": "leak_investigation", "title": f"夜间听漏 {i}", "address": "建设路"})
            r.raise_for_status()
            open_ids.append(r.json()["id"])
    return tokens, ids + open_ids, open_ids


async def run_load(base: str, prepared: tuple[list[str], list[int], list[int]], clients: int, seconds: float,
                   think_s: float, warmup: float, server_pid: int) -> dict[str, float]:
    """One step of load; prints its figures and returns the summary line's numbers."""
    tokens, ids, open_ids = prepared
    server_cpu: list[float] = []

    async def server_cpu_at(t: float) -> None:  # the server's CPU counter when recording starts and ends
        await asyncio.sleep(max(0.0, t - time.perf_counter()))
        server_cpu.append(tree_cpu_s(server_pid))

    lat: dict[str, list[float]] = {"list": [], "get": [], "update": []}
    counts = {"ok": 0, "errors": 0, "conflicts": 0}
    load_before = os.getloadavg()
    cpu_before = time.process_time()
    started = time.perf_counter() + warmup
    deadline = started + seconds
    await asyncio.gather(server_cpu_at(started), server_cpu_at(deadline),
                         *(client_loop(base, tokens[i], ids, open_ids, started, deadline, think_s, i, lat, counts)
                           for i in range(clients)))
    elapsed = time.perf_counter() - started
    client_cpu = time.process_time() - cpu_before
    load_after = os.getloadavg()[0]
    every = [x for v in lat.values() for x in v]
    total = len(every)
    print(f"clients {clients}, {elapsed:.1f} s after {warmup:.0f} s warm-up, think {think_s * 1000:.0f} ms, machine "
          f"load average before {load_before[0]:.2f} after {load_after:.2f} ({os.cpu_count()} CPUs); the load client "
          f"itself used {client_cpu:.1f} CPU-s in {elapsed + warmup:.0f} s")
    cpu_per_request = (server_cpu[1] - server_cpu[0]) / max(total, 1) * 1000.0
    print(f"requests {total} ({total / elapsed:.0f}/s), ok {counts['ok']}, conflicts (409) {counts['conflicts']}, "
          f"errors {counts['errors']}; server CPU {server_cpu[1] - server_cpu[0]:.1f} s, {cpu_per_request:.2f} ms "
          f"per request")
    for op, samples in lat.items():
        print(f"  {op:7s} {percentiles(samples)}")
    print(f"  {'all':7s} {percentiles(every)}", flush=True)
    p50, p99 = np.percentile(np.asarray(every) * 1000.0, [50, 99]) if every else (float("nan"), float("nan"))
    return {"think_ms": think_s * 1000.0, "rps": total / elapsed, "p50": p50, "p99": p99,
            "errors": counts["errors"], "conflicts": counts["conflicts"], "load": load_before[0],
            "cpu_ms": cpu_per_request}


def print_sweep(rows: list[dict[str, float]], workers: int, clients: int) -> None:
    """The sweep's table: where the knee is (p99 leaves the target as think time shrinks)."""
    print(f"\nsweep: {clients} clients, {workers} worker(s); target p99 < 100 ms, 0 errors")
    print(f"{'think ms':>9s} {'req/s':>7s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>7s} {'409s':>6s} "
          f"{'srv CPU ms/req':>15s} {'load':>6s}")
    for r in rows:
        mark = "" if r["p99"] < 100.0 and r["errors"] == 0 else "  <- over target"
        print(f"{r['think_ms']:9.0f} {r['rps']:7.0f} {r['p50']:8.1f} {r['p99']:8.1f} {r['errors']:7d} "
              f"{r['conflicts']:6d} {r['cpu_ms']:15.2f} {r['load']:6.2f}{mark}")


async def run_steps(base: str, clients: int, seconds: float, thinks_s: list[float], warmup: float,
                    workers: int, server_pid: int) -> None:
    prepared = await prepare(base, clients)
    rows = []
    for think_s in thinks_s:
        rows.append(await run_load(base, prepared, clients, seconds, think_s, warmup, server_pid))
    if len(rows) > 1:
        print_sweep(rows, workers, clients)


def tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) used so far by process `root` and its descendants (the uvicorn workers), from
    /proc: the server's CPU per request is a figure that other load on the machine hardly moves."""
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        parent[int(entry)] = int(fields[1])
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, ppid in parent.items():
            if ppid == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


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
    ap.add_argument("--think-ms", default="0", help="pause between a client's requests; a comma-separated list "
                    "(e.g. 1000,500,250,100,0) runs one step per value and prints a table (the sweep)")
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
            thinks = [float(t) / 1000.0 for t in args.think_ms.split(",") if t.strip()]
            asyncio.run(run_steps(base, args.clients, args.seconds, thinks, args.warmup, args.workers, proc.pid))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        if own_db:
            with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{own_db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
