"""The six measurements. Each returns plain dicts (figures) for the JSON file.

1-3 run as one chain per N on fresh simulators and a fresh state file: the
initial import, then a no-change resync (it needs the import's state, as in
life), then 1 % churn. 4 runs the planner alone in subprocesses; 5 reads users
with syncframe and with msgraph-sdk in separate subprocesses; 6 reads under
throttling.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from .measure import Measured, run_measured, syncframe_argv, worker_argv, worker_env
from .sims import Lab, lower_bound_pages

Log = Callable[[str], None]


def _syncframe_run(lab: Lab, profile: Path, state: str, timeout: float) -> tuple[Measured, dict[str, Any], dict[str, Any]]:
    """One ``syncframe run --profile ... --yes --json`` against the lab; counters are reset first."""
    lab.reset_counters()
    argv = syncframe_argv("--state", state, "--json", "run", "--profile", str(profile), "--yes")
    measured = run_measured(argv, env=lab.environment(), timeout=timeout)
    counts = lab.counts()
    try:
        report = measured.json()
    except ValueError as exc:
        report = {"status": "no report", "error": str(exc)[:2000]}
    return measured, report, counts


def _run_figures(measured: Measured, report: dict[str, Any], counts: dict[str, Any]) -> dict[str, Any]:
    out = measured.summary()
    out.update({k: v for k, v in counts.items()})
    out["status"] = report.get("status")
    out["counts"] = {k: v for k, v in (report.get("counts") or {}).items() if v}
    out["applied"] = report.get("applied")
    out["read_stats"] = report.get("read_stats")
    out["report_bytes"] = len(measured.stdout)
    if report.get("error") or measured.returncode not in (0,):
        out["error"] = report.get("error") or measured.stderr[-1500:]
    return out


def sync_chain(n: int, graph_latency: float, pascom_latency: float, concurrency: int, log: Log, timeout: float = 2400) -> dict[str, Any]:
    """Scenarios 1-3 for ``n`` users."""
    with tempfile.TemporaryDirectory(prefix=f"sf-bench-{n}-") as tmp:
        workdir = Path(tmp)
        t0 = time.perf_counter()
        lab = Lab(n, graph_latency, pascom_latency, concurrency, workdir).start()
        try:
            setup_s = time.perf_counter() - t0
            profile = lab.write_profile()
            state = f"sqlite:///{workdir / 'state.db'}"
            in_scope = len(lab.in_scope_ids())
            pages = lower_bound_pages(n)
            log(f"  N={n:,}: lab ready in {setup_s:.1f} s ({in_scope:,} users in scope); initial import ...")

            # 1. initial import into an empty pascom, devices on
            m, report, counts = _syncframe_run(lab, profile, state, timeout)
            imp = _run_figures(m, report, counts)
            floor = in_scope * pascom_latency / concurrency + pages * graph_latency
            imp.update(
                users=n,
                in_scope=in_scope,
                graph_pages_bound=pages,
                pascom_writes_bound=in_scope,
                floor_s=round(floor, 3),
                floor_ratio=round(m.wall_s / floor, 3) if floor else None,
                pascom_users_after=lab.pascom_user_count(),
                graph_latency_s=graph_latency,
                pascom_latency_s=pascom_latency,
                concurrency=concurrency,
            )
            log(f"    import: {m.wall_s:.1f} s (floor {floor:.1f} s), Graph {counts['graph_requests']} req, "
                f"pascom {counts['pascom_writes']} writes, RSS {m.peak_rss_mb:.0f} MB, status {imp['status']}")

            # 2. resync with nothing changed
            m, report, counts = _syncframe_run(lab, profile, state, timeout)
            resync = _run_figures(m, report, counts)
            resync.update(users=n, in_scope=in_scope)
            log(f"    resync: {m.wall_s:.2f} s, Graph {counts['graph_requests']} req, pascom {counts['pascom_writes']} writes")

            # 3. 1 % churn: renames, updates, deletions
            before = lab.pascom_user_count()
            churn = lab.churn(0.01)
            m, report, counts = _syncframe_run(lab, profile, state, timeout)
            ch = _run_figures(m, report, counts)
            ch.update(users=n, in_scope=in_scope, churn=churn.as_dict(), changed_users=churn.total,
                      pascom_users_before=before, pascom_users_after=lab.pascom_user_count())
            log(f"    churn:  {m.wall_s:.2f} s, {churn.total} changed users, pascom {counts['pascom_writes']} writes, "
                f"Graph {counts['graph_requests']} req")
            return {"import": imp, "resync": resync, "churn": ch, "setup_s": round(setup_s, 2)}
        finally:
            lab.stop()


def planning(sizes: list[int], cases: list[str], log: Log, repeats: int = 2) -> list[dict[str, Any]]:
    """Scenario 4: the planner alone, one fresh subprocess per (size, case, repeat).

    Each (size, case) runs ``repeats`` times; the run with the least planning CPU
    is kept (the usual way to report a CPU cost on a shared machine), the others
    are listed under ``repeats``.
    """
    out = []
    for n in sizes:
        for case in cases:
            tries = []
            for _ in range(repeats):
                m = run_measured(worker_argv("plan_worker", str(n), case), env=worker_env(), timeout=900)
                figures = m.json() if m.returncode == 0 else {"users": n, "case": case, "error": m.stderr[-1500:]}
                figures.update(process=m.summary())
                tries.append(figures)
            ok = [t for t in tries if "plan_cpu_s" in t]
            best = dict(min(ok, key=lambda t: t["plan_cpu_s"]) if ok else tries[0])
            best["repeats"] = [{k: t.get(k) for k in ("plan_cpu_s", "plan_wall_s", "peak_rss_mb")} for t in tries]
            out.append(best)
            log(f"  plan {case:7s} N={n:,}: {best.get('plan_cpu_s')} CPU-s (best of {repeats}: "
                f"{', '.join(str(t.get('plan_cpu_s')) for t in tries)}), peak RSS {best.get('peak_rss_mb')} MB")
    return out


def _reader_env(lab: Lab) -> dict[str, str]:
    from syncframe_msuser.users import SELECT_PARAM

    sim = lab.graph_sim
    return {
        **worker_env(),
        **lab.environment(),
        "BENCH_GRAPH_URL": sim.graph_url,
        "BENCH_AUTHORITY_HOST": sim.url,
        "BENCH_CA_BUNDLE": sim.ca_bundle,
        "BENCH_TENANT": sim.tenant_id,
        "BENCH_CLIENT_ID": sim.client_id,
        "BENCH_CLIENT_SECRET": sim.client_secret,
        "BENCH_SELECT": SELECT_PARAM,
        "BENCH_TOP": "999",
    }


def _read(lab: Lab, worker: str, profile: Path, log: Log) -> dict[str, Any]:
    lab.reset_counters()
    argv = worker_argv(worker, str(profile))
    m = run_measured(argv, env=_reader_env(lab), timeout=900)
    counts = lab.counts()
    figures = m.json() if m.returncode == 0 else {"error": m.stderr[-2000:]}
    figures.update(process=m.summary(), graph_requests=counts["graph_requests"], login_requests=counts["login_requests"],
                   graph_throttled=counts["graph_throttled"], graph_by_path=counts["graph_by_path"])
    return figures


def sdk_comparison(n: int, graph_latency: float, rounds: dict[str, int], log: Log) -> dict[str, Any]:
    """Scenario 5: read ``n`` users with syncframe's source and with msgraph-sdk, same
    simulator, same ``$select`` and ``$top``, each reader in a fresh subprocess,
    ``rounds[name]`` times each (interleaved); the median of each figure is reported."""
    with tempfile.TemporaryDirectory(prefix="sf-bench-sdk-") as tmp:
        lab = Lab(n, graph_latency, 0.0, 8, Path(tmp)).start()
        try:
            profile = lab.write_profile()
            runs: dict[str, list[dict[str, Any]]] = {"syncframe": [], "msgraph-sdk": []}
            for round_no in range(max(rounds.values())):
                for name, worker in (("syncframe", "read_syncframe_worker"), ("msgraph-sdk", "read_sdk_worker")):
                    if round_no >= rounds[name]:
                        continue
                    figures = _read(lab, worker, profile, log)
                    runs[name].append(figures)
                    log(f"  {name:11s} read {figures.get('users')} users in {figures.get('read_s')} s "
                        f"(process {figures['process']['wall_s']} s, peak RSS {figures['process']['peak_rss_mb']} MB, "
                        f"{figures['graph_requests']} Graph requests)")
        finally:
            lab.stop()
    summary = {name: _median_read(items) for name, items in runs.items()}
    return {"users": n, "graph_latency_s": graph_latency, "rounds": rounds, "runs": runs, "median": summary}


def _median_read(items: list[dict[str, Any]]) -> dict[str, Any]:
    def med(values: list[float]) -> float | None:
        values = sorted(v for v in values if v is not None)
        return values[len(values) // 2] if values else None

    return {
        "users": items[0].get("users") if items else None,
        "read_s": med([i.get("read_s") for i in items]),
        "process_wall_s": med([i["process"]["wall_s"] for i in items]),
        "cpu_s": med([i["process"]["cpu_s"] for i in items]),
        "peak_rss_mb": med([i["process"]["peak_rss_mb"] for i in items]),
        "graph_requests": med([i.get("graph_requests") for i in items]),
    }


def throttled_read(n: int, graph_latency: float, every: int, retry_after: int, log: Log) -> dict[str, Any]:
    """Scenario 6: a full read while Graph answers every ``every``-th request with
    429 + ``Retry-After: retry_after``; compared with the same read unthrottled."""
    with tempfile.TemporaryDirectory(prefix="sf-bench-429-") as tmp:
        lab = Lab(n, graph_latency, 0.0, 8, Path(tmp)).start()
        try:
            profile = lab.write_profile()
            baseline = _read(lab, "read_syncframe_worker", profile, log)
            log(f"  unthrottled read: {baseline.get('users')} users, {baseline['graph_requests']} Graph requests, read {baseline.get('read_s')} s")
            lab.graph_sim.switches.throttle(every=every, retry_after=retry_after, scope="graph")
            throttled = _read_throttled(lab, profile, log)
        finally:
            lab.stop()
    announced = throttled["graph_throttled"] * retry_after
    waited = (throttled.get("stats") or {}).get("waited")
    extra_requests = throttled["graph_requests"] - baseline["graph_requests"] - throttled["graph_throttled"]
    return {
        "users": n,
        "throttle_every": every,
        "retry_after_s": retry_after,
        "baseline": baseline,
        "throttled": throttled,
        "throttled_responses": throttled["graph_throttled"],
        "announced_wait_s": announced,
        "waited_s": waited,
        "extra_wall_s": round(throttled["read_s"] - baseline["read_s"], 3) if throttled.get("read_s") and baseline.get("read_s") else None,
        "extra_requests": extra_requests,
    }


def _read_throttled(lab: Lab, profile: Path, log: Log) -> dict[str, Any]:
    figures = _read(lab, "read_syncframe_worker", profile, log)
    log(f"  throttled read: {figures.get('users')} users, {figures['graph_requests']} Graph requests "
        f"({figures['graph_throttled']} answered 429), read {figures.get('read_s')} s, stats {json.dumps(figures.get('stats'))}")
    return figures
