"""Run the benchmarks T1–T6, each in its own process, one after another (`make bench`).

Every scenario prints one JSON object on stdout and writes bench/results/<name>.json; this runner collects them
into bench/results/summary.json and prints a table of each target against the number measured, with the load
average before and after each scenario (other work on the machine skews everything: run it on a quiet machine).

    python -m bench.run                 # the full sizes of issue 4 (≈ 15-25 min on 2 cores)
    python -m bench.run --quick         # small sizes, a few minutes (results in bench/results/quick/)
    python -m bench.run --only t1 t4    # some of them
    python -m bench.run --profile       # also py-spy the server in every scenario (bench/results/*.pyspy.txt)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, loadavg, machine

FULL: dict[str, list[str]] = {
    "t1": ["bench.t1_fanout", "--n", "1000", "5000", "--rounds", "60"],
    "t2": ["bench.t2_tally", "--delegates", "125", "--rate", "1000", "--rounds", "20"],
    "t3": [
        "bench.t3_durable",
        "--sessions",
        "10",
        "--delegates",
        "50",
        "--rounds",
        "20",
        "--engine-delegates",
        "1000",
        "--engine-rounds",
        "10",
    ],
    "t4": ["bench.t4_idle", "--n", "10000", "--window", "10"],
    "t5": ["bench.t5_documents", "--n", "1000"],
    "t6": ["bench.t6_reconnect", "--n", "1000"],
    # The second wave's scenarios: CPU-bound, no sockets (so no pinning or profiling flags).
    "record": ["bench.record_minutes", "--repeat", "5"],
    "crypto": ["bench.ballot_crypto", "--repeat", "5"],
    "crypto-browser": ["bench.ballot_crypto_browser", "--repeat", "9"],
    "petitions": ["bench.petitions_fold", "--repeat", "3"],
    # The tablet page in chromium (issue 11): loads, JS shipped, the vote banner on 125 tablets.
    "web": ["bench.web_budgets", "--repeat", "5", "--pages", "8", "--rounds", "3"],
}
QUICK: dict[str, list[str]] = {
    "t1": ["bench.t1_fanout", "--n", "200", "--rounds", "10"],
    "t2": ["bench.t2_tally", "--delegates", "50", "--rate", "1000", "--rounds", "4"],
    "t3": [
        "bench.t3_durable",
        "--sessions",
        "3",
        "--delegates",
        "30",
        "--rounds",
        "4",
        "--engine-delegates",
        "200",
        "--engine-rounds",
        "4",
    ],
    "t4": ["bench.t4_idle", "--n", "1000", "--window", "2"],
    "t5": ["bench.t5_documents", "--n", "100"],
    "t6": ["bench.t6_reconnect", "--n", "200"],
    "record": ["bench.record_minutes", "--repeat", "1"],
    "crypto": ["bench.ballot_crypto", "--repeat", "1"],
    "crypto-browser": ["bench.ballot_crypto_browser", "--repeat", "1"],
    "petitions": ["bench.petitions_fold", "--repeat", "1"],
    "web": ["bench.web_budgets", "--repeat", "2", "--pages", "3", "--rounds", "1"],
}
PROFILED = {"t1", "t2", "t3", "t4", "t5", "t6"}


def headline(name: str, r: dict[str, Any]) -> list[str]:
    """One line per target: what was measured against what is wanted."""
    if r.get("skipped"):
        return [f"{name}: skipped — {r['skipped']}"]
    out: list[str] = []
    if name == "t1":
        for run in r["runs"]:
            k, b = run["kyhop"], run["baseline"]
            ttl, bttl = k["time_to_last_ms"], b["time_to_last_ms"]
            ratio = run["throughput_ratio_vs_baseline"]["median"]
            out.append(
                f"T1 {run['tablets']:>5} tablets: time-to-last p99 {ttl['p99']} ms (median {ttl['median']}; "
                f"target {run['target']['p99_time_to_last_ms']}), baseline p99 {bttl['p99']} ms; "
                f"throughput ratio {ratio} (target ≥ 0.7); {k['rss_per_connection_kib']} KiB/conn; "
                f"gaps {k['tablets_with_gap']}, dup {k['duplicates']}"
            )
    elif name == "t2":
        k, b = r["kyhop"], r["baseline"]
        lat, rec = k["cast_to_chair_ms"], k["reconcile"]
        out.append(
            f"T2 cast→chair p99 {lat['p99']} ms (median {lat['median']}; target ≤ 50) "
            f"at {k['achieved_send_rate_per_s']}/s, {r['delegates']} delegates; "
            f"baseline p99 {b['cast_to_chair_ms']['p99']} ms; "
            f"reconciled {rec['ballots_counted']}/{rec['ballots_sent']}"
        )
    elif name == "t3":
        w, e, b = r["kyhop_end_to_end"], r["kyhop_engine_only"], r["baseline_broadcast_only"]
        rec = w["reconcile"]
        out.append(
            f"T3 end-to-end {w['ballots_per_s_sustained']}/s ({w['sessions']} sessions × "
            f"{w['delegates_per_session']} delegates connected; broadcast-only baseline "
            f"{b['ballots_per_s_sustained']}/s); "
            f"engine alone {e['ballots_per_s_overall']}/s ({e['delegates']} delegates); "
            f"target ≥ 5000/s; lost {rec['lost']}, doubled {rec['doubled']}, retries replayed "
            f"{w['retries_answered_replayed']}/{w['retries_sent']}"
        )
    elif name == "t4":
        k, b = r["kyhop"], r["baseline"]
        out.append(
            f"T4 {k['connected_after_heartbeats']}/{k['tablets']} idle tablets, {k['rss_per_connection_kib']} KiB/conn "
            f"(target ≤ 16; baseline {b['rss_per_connection_kib']}), heartbeat p99 {k['heartbeat_rtt_ms']['p99']} ms "
            f"(target ≤ 100; baseline {b['heartbeat_rtt_ms']['p99']})"
        )
    elif name == "t5":
        out.append(
            f"T5 {r['kyhop']['downloads']} downloads: {r['kyhop']['throughput_mb_per_s']} MB/s vs raw "
            f"{r['raw']['throughput_mb_per_s']} MB/s = {r['throughput_ratio_vs_raw']} (target ≥ 0.8)"
        )
    elif name == "t6":
        k, rs = r["kyhop"], r["kyhop"]["resync_s"]
        out.append(
            f"T6 {k['resynced']}/{k['tablets']} resynced, slowest {rs['max']} s (median {rs['median']}; "
            f"target ≤ 3), baseline slowest {r['baseline']['resync_s']['max']} s; gaps {k['tablets_with_gap']}, "
            f"duplicates {k['duplicates']}, resumed {k['resumed']}"
        )
    elif name == "web":
        v = r["vote_banner"]
        out.append(
            f"web first load {r['first_load_ms']['median']} ms (target ≤ 1000), cached reload "
            f"{r['cached_reload_shown_ms']['median']} ms (target ≤ 300), static baseline "
            f"{r['baseline_static_first_ms']['median']}/{r['baseline_static_reload_ms']['median']} ms; "
            f"JS {r['js_bytes_first_load']} B (+ pdf.js {r['js_bytes_pdfjs_on_first_document']} B when a document "
            f"opens); vote banner max {v['banner_on_pages_ms']['max']} ms on {v['pages']} pages "
            f"+ {v['protocol_clients']} clients"
        )
    else:  # record, crypto, petitions: their own named targets
        out.append(f"{name}: bench/results/{r.get('name', name)}.json")
    verdict = "MEETS" if r.get("meets_targets") else "MISSES"
    out.append(
        f"   → {verdict} target: {json.dumps(r.get('meets_target') or [x['meets_target'] for x in r.get('runs', [])])}"
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=sorted(FULL), default=sorted(FULL))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--no-pin", action="store_true")
    args = ap.parse_args()
    plan = QUICK if args.quick else FULL
    env = dict(os.environ)
    if args.quick:  # a quick run must not overwrite the results of a full one
        env["BENCH_RESULTS"] = str(RESULTS / "quick")
    results = Path(env.get("BENCH_RESULTS") or RESULTS)
    summary: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S %z"), "machine": machine(), "scenarios": {}}
    lines: list[str] = []
    failed: list[str] = []
    for name in args.only:
        cmd = [sys.executable, "-m", *plan[name]]
        if args.no_pin and name in PROFILED:
            cmd.append("--no-pin")
        if args.profile and name in PROFILED:
            cmd.append("--profile")
        before = loadavg()
        print(f"== {name}: {' '.join(cmd[2:])}  (load {before})", file=sys.stderr, flush=True)
        t = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=False)
        took = round(time.monotonic() - t, 1)
        objs = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
        if proc.returncode != 0 or not objs:
            failed.append(name)
            summary["scenarios"][name] = {"error": f"exit {proc.returncode}", "seconds": took}
            lines.append(f"{name}: FAILED (exit {proc.returncode}); see the output above")
            continue
        result = objs[-1]
        result.pop("machine", None)
        result.setdefault("loadavg_before", before)
        result["seconds"] = took
        summary["scenarios"][name] = result
        print(json.dumps(result, ensure_ascii=False), flush=True)
        lines += headline(name, result)
    summary["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
    summary["loadavg_after"] = loadavg()
    results.mkdir(parents=True, exist_ok=True)
    (results / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    print("\n".join(["", *lines, "", f"written: {results / 'summary.json'}"]), file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
