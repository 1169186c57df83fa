#!/usr/bin/env python3
"""Helpers of bench/run: process CPU and memory from /proc, run records, the results table.

  suite.py snap <pids.json>                       CPU ticks (utime+stime) per process group
  suite.py mem <pids.json>                        VmHWM / VmRSS (kB) per process group
  suite.py add <runs.jsonl> <workload> <run> <tool-output> <before> <after> [key=value...]
  suite.py render <runs.jsonl> <meta.json> <out.md>

<pids.json> maps a group name to root pids; a group counts its roots and their children
(nginx workers, Postgres backends).
"""
import json
import os
import statistics
import sys

HZ = os.sysconf("SC_CLK_TCK")


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        if int(s[s.rfind(")") + 2:].split()[1]) == pid:
            out.append(int(d))
    return out


def group_pids(roots):
    pids = set(roots)
    for r in roots:
        pids.update(children(r))
    return sorted(pids)


def stat_ticks(path, prefix=""):
    """utime+stime of a /proc stat file, or 0 when it is gone or its name lacks `prefix`."""
    try:
        with open(path) as f:
            s = f.read()
    except OSError:
        return 0
    if not s[s.find("(") + 1:s.rfind(")")].startswith(prefix):
        return 0
    fields = s[s.rfind(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def ticks(pid):
    return stat_ticks(f"/proc/{pid}/stat")


def thread_ticks(pid, prefix):
    """CPU ticks of the threads of `pid` whose name starts with `prefix`."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    return sum(stat_ticks(f"/proc/{pid}/task/{tid}/stat", prefix) for tid in tids)


# threads counted apart inside a group ("group/part": a share of the group's CPU, not added to
# totals): identity's password-hashing threads
THREAD_PARTS = {"identity/bcrypt": ("identity", "bcrypt-")}


def status(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def load(path):
    with open(path) as f:
        return json.load(f)


def snap(pids_file):
    groups = load(pids_file)
    out = {g: sum(ticks(p) for p in group_pids(r)) for g, r in groups.items()}
    for part, (group, prefix) in THREAD_PARTS.items():
        if group in groups:
            out[part] = sum(thread_ticks(p, prefix) for p in group_pids(groups[group]))
    print(json.dumps(out))


def mem(pids_file):
    groups = load(pids_file)
    out = {}
    for g, roots in groups.items():
        ps = group_pids(roots)
        # the largest process of the group (nginx: a worker; postgres: shared memory makes
        # sums meaningless, so the largest backend)
        out[g] = {"hwm_kb": max((status(p, "VmHWM") for p in ps), default=0),
                  "rss_kb": max((status(p, "VmRSS") for p in ps), default=0)}
    print(json.dumps(out))


def tool_json(path):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("JSON "):
                return json.loads(line[5:])
            if line.startswith("{"):
                return json.loads(line)
    raise SystemExit(f"no JSON result in {path}")


def add(runs, workload, run, tool_out, before, after, *extra):
    t = tool_json(tool_out)
    b, a = load(before), load(after)
    cpu_ms = {g: (a[g] - b.get(g, 0)) * 1000.0 / HZ for g in a}
    if "requests" in t:  # wrk
        rec = {"ops": t["requests"], "secs": t["secs"], "errors": t["errors"] + t["non2xx"],
               "p50_ms": t["p50_ms"], "p99_ms": t["p99_ms"], "max_ms": t["max_ms"]}
        rec["rps"] = rec["ops"] / rec["secs"]
    else:
        rec = dict(t)
    rec.update({"workload": workload, "run": int(run), "cpu_ms": cpu_ms})
    for kv in extra:
        k, v = kv.split("=", 1)
        try:
            rec[k] = json.loads(v)
        except ValueError:
            rec[k] = v
    with open(runs, "a") as f:
        f.write(json.dumps(rec) + "\n")
    ops = rec.get("ops") or (rec.get("me") or {}).get("ops") or 0
    print(f"  {workload} run {run}: " + (f"{rec['rps']:.1f}/s p99 {rec['p99_ms']:.2f} ms errors {rec['errors']}"
          if "rps" in rec else json.dumps({k: v for k, v in rec.items() if k != 'cpu_ms'})[:300]),
          file=sys.stderr)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, nd=1):
    if x is None:
        return "—"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{nd}f}"


def render(runs_file, meta_file, out):
    meta = load(meta_file)
    runs = []
    if os.path.exists(runs_file):
        with open(runs_file) as f:
            runs = [json.loads(l) for l in f if l.strip()]
    by = {}
    for r in runs:
        by.setdefault(r["workload"], []).append(r)

    def cpu_per_op(rs, group, ops_key=None):
        vals = []
        for r in rs:
            ops = r[ops_key]["ops"] if ops_key else r.get("ops", 0)
            if ops:
                vals.append(r["cpu_ms"].get(group, 0) / ops)
        return med(vals)

    def total_cpu_per_op(rs):
        return med([sum(v for g, v in r["cpu_ms"].items() if g not in THREAD_PARTS) / r["ops"]
                    for r in rs if r.get("ops")])

    rows = []  # workload, measured, bar, verdict, owner cpu, total cpu
    verdicts = []

    def verdict(ok):
        verdicts.append(ok)
        return "met" if ok else "**not met**"

    w1 = meta.get("w1")
    if w1:
        cold, bare = w1.get("verify_cold_ns"), w1.get("decode_claims_ns")
        if cold and bare:
            ok = cold <= 2000 and cold <= 1.25 * bare
            rows.append(("W1 `jwt-verify` verify (criterion)",
                         f"{cold / 1000:.2f} µs median ({cold / bare:.2f}x bare decode {bare / 1000:.2f} µs; "
                         f"cached {w1.get('verify_warm_ns', 0) / 1000:.2f} µs)",
                         "≤ 2 µs, ≤ 1.25x bare decode", verdict(ok), "—", "—"))
    rs = by.get("W2")
    if rs:
        rps, p99 = med([r["rps"] for r in rs]), med([r["p99_ms"] for r in rs])
        err = sum(r["errors"] for r in rs)
        ok = rps >= 11000 and p99 < 10 and err == 0
        rows.append(("W2 `GET /auth/me` via ingress, 64 conns",
                     f"{fmt(rps)} rps, p50 {fmt(med([r['p50_ms'] for r in rs]), 2)} ms, p99 {fmt(p99, 2)} ms, errors {err}",
                     "≥ 11,000 rps, p99 < 10 ms", verdict(ok),
                     f"identity {fmt(cpu_per_op(rs, 'identity'), 3)}", fmt(total_cpu_per_op(rs), 3)))
    rs = by.get("W3")
    if rs:
        rps, p99 = med([r["rps"] for r in rs]), med([r["p99_ms"] for r in rs])
        err = sum(r["errors"] for r in rs)
        per = cpu_per_op(rs, "identity")
        hash_ms = meta.get("hash_cpu_ms")
        beyond = per - hash_ms if per is not None and hash_ms else None
        hashing = cpu_per_op(rs, "identity/bcrypt")
        path = per - hashing if per is not None and hashing is not None else None
        ok = rps >= 9.2 and beyond is not None and beyond <= 10 and err == 0
        rows.append(("W3 `POST /auth/login` bcrypt 12, 4 conns",
                     f"{fmt(rps, 2)} logins/s, p99 {fmt(p99, 0)} ms; identity CPU {fmt(per, 1)} ms/login = "
                     f"hash {fmt(hash_ms, 1)} + {fmt(beyond, 1)} ms (by thread: hashing threads "
                     f"{fmt(hashing, 1)}, the rest {fmt(path, 1)}), errors {err}",
                     "≥ 9.2 logins/s; ≤ 10 ms CPU beyond the hash", verdict(ok),
                     f"identity {fmt(per, 1)}", fmt(total_cpu_per_op(rs), 1)))
    rs = by.get("W4")
    if rs:
        rps, p99 = med([r["rps"] for r in rs]), med([r["p99_ms"] for r in rs])
        err = sum(r["errors"] for r in rs)
        stm = med([r.get("statements_per_op") for r in rs])
        ok = rps >= 1000 and p99 < 50 and err == 0 and (stm is None or stm <= 2.05)
        rows.append(("W4 `POST /auth/refresh`, 32 chains",
                     f"{fmt(rps)} rotations/s, p50 {fmt(med([r['p50_ms'] for r in rs]), 2)} ms, p99 {fmt(p99, 2)} ms, "
                     f"{fmt(stm, 2)} statements/rotation, errors {err}",
                     "≥ 1,000/s, p99 < 50 ms, ≤ 2 round trips", verdict(ok),
                     f"session {fmt(cpu_per_op(rs, 'session'), 3)}", fmt(total_cpu_per_op(rs), 3)))
    rs = by.get("W5")
    if rs:
        p99 = med([r["p99_ms"] for r in rs])
        stale = sum(r.get("stale_accepts", 0) for r in rs)
        rounds = sum(r.get("rounds", 0) for r in rs)
        ok = p99 < 100 and stale == 0
        rows.append(("W5 logout-all → refusal by identity",
                     f"p50 {fmt(med([r['p50_ms'] for r in rs]), 2)} ms, p99 {fmt(p99, 2)} ms, max "
                     f"{fmt(max(r['max_ms'] for r in rs), 2)} ms over {rounds} rounds; stale accepts {stale}",
                     "p99 < 100 ms, 0 stale accepts", verdict(ok), "—", "—"))
    memo = meta.get("memory")
    if memo:
        svc = {g: v for g, v in memo.items() if g in ("identity", "session", "authz", "audit")}
        worst = max(v["hwm_kb"] for v in svc.values()) / 1024 if svc else None
        ok = worst is not None and worst <= 64
        rows.append(("W7 peak RSS per service (whole suite incl. mixed)",
                     ", ".join(f"{g} {v['hwm_kb'] / 1024:.1f} MB" for g, v in svc.items()),
                     "≤ 64 MB each", verdict(ok), "—", "—"))
    rs = by.get("W8")
    if rs:
        rps, p99 = med([r["rps"] for r in rs]), med([r["p99_ms"] for r in rs])
        err = sum(r["errors"] for r in rs)
        ok = rps >= 16000 and p99 < 15 and err == 0
        rows.append(("W8 `POST /oauth/token` client_credentials, 64 conns",
                     f"{fmt(rps)} grants/s, p50 {fmt(med([r['p50_ms'] for r in rs]), 2)} ms, p99 {fmt(p99, 2)} ms, errors {err}",
                     "≥ 16,000/s, p99 < 15 ms", verdict(ok),
                     f"authz {fmt(cpu_per_op(rs, 'authz'), 3)}", fmt(total_cpu_per_op(rs), 3)))
    solo, mixed = by.get("solo"), by.get("mixed")
    if solo and mixed:
        sp99 = med([r["me"]["p99_ms"] for r in solo])
        mp99 = med([r["me"]["p99_ms"] for r in mixed])
        lg = med([r["login"]["rps"] for r in mixed])
        rf = med([r["refresh"]["rps"] for r in mixed])
        err = sum(r["me"]["errors"] + r["refresh"]["errors"] + r["login"]["errors"] for r in mixed)
        ok = mp99 < 2 * sp99 and err == 0
        rows.append(("mixed 100 me : 8 refresh : 1 login, open loop",
                     f"`/auth/me` p99 {fmt(mp99, 2)} ms mixed vs {fmt(sp99, 2)} ms solo ({mp99 / sp99:.2f}x) at "
                     f"{fmt(med([r['me']['rps'] for r in mixed]), 0)}/s; refresh {fmt(rf, 0)}/s (p99 "
                     f"{fmt(med([r['refresh']['p99_ms'] for r in mixed]), 1)} ms), logins {fmt(lg, 1)}/s, errors {err}",
                     "me p99 < 2x solo while logins saturate hashing", verdict(ok), "—", "—"))

    lines = []
    lines.append(f"Run {meta.get('started', '')} · `{meta.get('command', 'bench/run')}` · "
                 f"{meta.get('runs', 3)} runs per workload, median · load average before "
                 f"{meta.get('load_before', '?')}, after {meta.get('load_after', '?')}")
    lines.append("")
    lines.append("| workload | measured (median) | bar | verdict | owner CPU ms/op | all processes CPU ms/op |")
    lines.append("|---|---|---|---|---|---|")
    for r in rows:
        lines.append("| " + " | ".join(r) + " |")
    lines.append("")
    groups = ["identity", "session", "authz", "audit", "nginx", "postgres", "redis", "nats"]
    lines.append("Server CPU per operation (ms, median of runs), by process:")
    lines.append("")
    lines.append("| workload | " + " | ".join(groups) + " |")
    lines.append("|---|" + "---|" * len(groups))
    for w in ("W2", "W3", "W4", "W8"):
        if w in by:
            lines.append(f"| {w} | " + " | ".join(fmt(cpu_per_op(by[w], g), 3) for g in groups) + " |")
    if "mixed" in by:
        lines.append("| mixed (per `/auth/me`) | " + " | ".join(fmt(cpu_per_op(by['mixed'], g, 'me'), 3) for g in groups) + " |")
    if memo:
        lines.append("")
        lines.append("Memory after the suite (kB; VmHWM = peak RSS; largest process of the group):")
        lines.append("")
        lines.append("| process | VmHWM | VmRSS |")
        lines.append("|---|---|---|")
        for g, v in memo.items():
            lines.append(f"| {g} | {v['hwm_kb']:,} | {v['rss_kb']:,} |")
    text = "\n".join(lines) + "\n"
    with open(out, "w") as f:
        f.write(text)
    print(text)
    met = sum(1 for v in verdicts if v)
    print(f"bars met: {met}/{len(verdicts)}", file=sys.stderr)


if __name__ == "__main__":
    cmd, *rest = sys.argv[1:]
    {"snap": snap, "mem": mem, "add": add, "render": render}[cmd](*rest)
