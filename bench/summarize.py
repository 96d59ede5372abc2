#!/usr/bin/env python3
"""Medians and superline/peer ratios from bench/run.sh's raw results (one loadgen JSON per line).

    python3 bench/summarize.py bench/out/<time>.jsonl

A run counts only if every connection joined and every expected delivery arrived; the table says
how many runs of each counted. Ratios compare superline, on each wire, with every other system: for
throughput superline / peer (above 1: superline is faster), for memory peer / superline (above 1:
superline uses less). In w3 superline's rows instead compare two nodes with its own single node (w1).
A baseline build (bench/run.sh --baseline REF: "superline@base", "superline-pb@base") is compared
with the current build of the same wire only: the change's after/before.
"""
import json
import statistics
import sys
from collections import defaultdict

TITLES = {
    "w1-1k": "W1 room broadcast, 1 KB to 1,000 connections (deliveries/s)",
    "w1-10k": "W1 room broadcast, 1 KB to 10,000 connections (deliveries/s)",
    "w2": "W2 bursts, 10 senders to a room of 1,000 (deliveries/s)",
    "w3": "W3 two nodes through redis, 1,000 subscribers split (deliveries/s)",
    "w4": "W4 memory per idle connection at 10,000 connections (server RSS bytes)",
    "w5": "W5 request/response, 100 connections (round trips/s)",
    "w6": "W6 connection storm, 10,000 upgrades + joins (upgrades/s)",
    "w7": "W7 slow consumers: 1,000 connections, one 1 KB message in flight (healthy deliveries/s)",
}


SUPERLINE = ("superline", "superline-pb")


def valid(r):
    if r.get("errors", -1) != 0 or r.get("joined") != r.get("conns"):
        return False
    return r.get("workload") == "connect" or r.get("deliveries") == r.get("expected")


def cpu_us_per_op(r):
    ops = r.get("deliveries") or 0
    return r["server_cpu_s"] * 1e6 / ops if ops else None


def median(values):
    values = [v for v in values if v is not None and v >= 0]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def main(path):
    runs = defaultdict(list)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                runs[(r["bench"], r["system"])].append(r)
    benches = [b for b in TITLES if any(k[0] == b for k in runs)]
    single_node = {}
    for bench in benches:
        print(f"\n### {TITLES[bench]}\n")
        memory = bench == "w4"
        rows = []
        for (b, system), rs in runs.items():
            if b != bench:
                continue
            ok = [r for r in rs if valid(r)]
            metric = median([r["rss_per_conn_bytes"] if memory else r["per_s"] for r in ok])
            rows.append((system, len(ok), len(rs), metric, median([r["p50_us"] for r in ok]),
                         median([r["p99_us"] for r in ok]), median([cpu_us_per_op(r) for r in ok])))
            if bench == "w1-1k":
                single_node[system] = metric
        ours = {name: next((row[3] for row in rows if row[0] == name), None) for name in SUPERLINE}
        print("| system | runs ok | median | p50 µs | p99 µs | server CPU µs/op | superline (json) ratio |"
              " superline-pb ratio |")
        print("|---|---|---|---|---|---|---|---|")
        for system, ok, total, metric, p50, p99, cpu in rows:
            ratios = []
            for name in SUPERLINE:
                ratio = "-"
                other_wire = system.endswith("@base") and system != name + "@base"
                if ours[name] and metric and system not in SUPERLINE and not other_wire:
                    ratio = f"{(metric / ours[name] if memory else ours[name] / metric):.2f}x"
                ratios.append(ratio)
            if bench == "w3" and single_node.get(system) and metric:
                ratios[0 if system != "superline-pb" else 1] = f"{metric / single_node[system]:.2f}x of own single node"
            timing = bench not in ("w4", "w6")
            print(f"| {system} | {ok}/{total} | {fmt(metric)} | {fmt(p50, 1) if timing else '-'} | "
                  f"{fmt(p99, 1) if timing else '-'} | {fmt(cpu, 2) if timing else '-'} | {ratios[0]} | {ratios[1]} |")
        if bench == "w7":
            for (b, system), rs in sorted(runs.items()):
                if b == "w7-rss":
                    print(f"\nserver RSS after the run, {system}: median {fmt(median([r['rss_kb'] for r in rs]))} KB")

if __name__ == "__main__":
    main(sys.argv[1])
