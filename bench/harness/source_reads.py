"""Scenario 10: the newer sources read N users: LDAP (a throwaway slapd) and Google
Workspace (its Directory API simulator).

Each read runs in its own subprocess (``harness/read_syncframe_worker.py``: the
profile loaded as the CLI loads it, the source opened through the registry, a full
read, every identity kept in memory), so its time and peak RSS are its own.
Requests: for LDAP the source's own count of LDAP operations (slapd counts none for
us), for Google the simulator's count of Directory API and token requests.
LDAP runs without simulated latency (the real server on loopback); Google with the
Graph latency, as the Graph reads do.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable

from syncframe.cli.sandbox import render_profile

from .measure import run_measured, worker_argv, worker_env

Log = Callable[[str], None]

LDAP_PASSWORD_ENV = "BENCH_LDAP_PASSWORD"


def ldap_people(n: int, people: str) -> str:
    """``n`` plain users under ``people`` (an inetOrgPerson each: uid, names, mail, phone)."""
    rows = [f"dn: {people}\nobjectClass: organizationalUnit\nou: {people.split(',', 1)[0].split('=', 1)[1]}\n"]
    for i in range(n):
        rows.append(f"dn: uid=user{i:06d},{people}\nobjectClass: inetOrgPerson\nuid: user{i:06d}\ncn: User {i}\n"
                    f"sn: {i}\ngivenName: User\nmail: user{i:06d}@example.org\ntelephoneNumber: +49 30 {i:07d}\n")
    return "\n".join(rows)


def source_reads(n: int, google_latency: float, log: Log) -> dict[str, Any]:
    """Read ``n`` users from each source; a source that cannot run here is reported as skipped."""
    out: dict[str, Any] = {"users": n}
    for name, read in (("ldap", _ldap_read), ("google", _google_read)):
        try:
            figures = read(n, google_latency)
        except (ImportError, OSError, RuntimeError) as exc:  # no slapd, no python-ldap
            figures = {"skipped": f"{type(exc).__name__}: {exc}"[:300]}
        out[name] = figures
        if figures.get("skipped"):
            log(f"  {name}: not run: {figures['skipped']}")
        else:
            log(f"  {name:6s} read {figures.get('users')} users in {figures.get('read_s')} s, {figures.get('requests')} requests, "
                f"peak RSS {figures['process']['peak_rss_mb']:.0f} MB")
    return out


def _read(profile: Path, env: dict[str, str]) -> dict[str, Any]:
    m = run_measured(worker_argv("read_syncframe_worker", str(profile)), env={**worker_env(), **env}, timeout=900)
    figures = m.json() if m.returncode == 0 else {"error": m.stderr[-2000:]}
    figures["process"] = m.summary()
    return figures


def _with_pascom(source_type: str, source: dict[str, Any], workdir: Path, env: dict[str, str], read: Callable[[Path, dict[str, str]], dict[str, Any]]) -> dict[str, Any]:
    """A profile needs a target; a pascom simulator stands in (the read never calls it)."""
    from syncframe_pascom.sandbox import PascomSandbox

    pascom = PascomSandbox(keep_log=False)
    pascom.start()
    try:
        profile = workdir / "read.toml"
        profile.write_text(render_profile(source_type, "pascom", source, pascom.profile_section(), title="bench read"), encoding="utf-8")
        return read(profile, {**env, **pascom.environment()})
    finally:
        pascom.stop()


def _ldap_read(n: int, _latency: float) -> dict[str, Any]:
    from syncframe_ldap import slapd
    from syncframe_ldap.sandbox import PEOPLE

    missing = slapd.available()
    if missing:
        raise RuntimeError(missing)
    import ldap  # noqa: F401 - the source needs python-ldap: fail here, not in the worker

    with tempfile.TemporaryDirectory(prefix="sf-bench-ldap-") as tmp, \
            slapd.ThrowawaySlapd(data={slapd.OPENLDAP_SUFFIX: ldap_people(n, PEOPLE)}) as server:
        section = {"url": server.ldaps_url, "ca_bundle": server.ca_bundle, "bind_dn": slapd.SERVICE_DN,
                   "bind_password_env": LDAP_PASSWORD_ENV, "base_dn": PEOPLE}
        figures = _with_pascom("LDAP", section, Path(tmp), {LDAP_PASSWORD_ENV: slapd.SERVICE_PASSWORD}, _read)
    stats = figures.get("stats") or {}
    figures["requests"] = stats.get("requests")
    figures["pages"] = stats.get("pages")
    return figures


def _google_read(n: int, latency: float) -> dict[str, Any]:
    from syncframe_google.sandbox import GoogleSandbox

    box = GoogleSandbox(users=n, seed=1)
    box.start()
    try:
        box.simulator.switches.set_latency(latency)
        with tempfile.TemporaryDirectory(prefix="sf-bench-google-") as tmp:
            box.simulator.log.clear()
            figures = _with_pascom("GOOGLE", box.profile_section(), Path(tmp), box.environment(), _read)
        counts = box.simulator.path_counts()
    finally:
        box.stop()
    token = sum(c for path, c in counts.items() if "token" in path)
    figures["requests"] = sum(counts.values()) - token
    figures["token_requests"] = token
    figures["by_path"] = counts
    figures["latency_s"] = latency
    return figures
