#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Render a `make bench` result directory (tools/bench/run.sh).

    tools/bench/report.py DIR

Reads DIR/results.jsonl (one measurement a line, from tools/bench/guest.sh),
DIR/meta.json and DIR/host.json; writes DIR/summary.json, DIR/table.md
(also printed on stdout) and, with gnuplot, DIR/*.png scaling plots.

Each cell is the median over the rounds, with the spread as +-half the
min..max range in percent. "ours/in-tree" is computed per round (the two
implementations alternate inside one boot: A B A B ...): the median of
the per-round ratios and their min..max. It is oriented so that > 1 means
ours is better, also for times and latencies (there it is in-tree/ours).
"""

import json
import os
import shutil
import statistics
import subprocess
import sys

IMPLS = ["ours", "in-tree", "veth", "macvlan", "bridge", "fwd", "nat",
         "loopback"]

# scenario -> (label, display unit, scale factor from the raw unit)
SCENARIOS = {
    "tcp_s2s": ("TCP slave → slave", "Gbit/s", 1e-3),
    "tcp_s2o": ("TCP slave → outside", "Gbit/s", 1e-3),
    "tcp_s2o_v6on": ("TCP slave → outside, IPv6 on", "Gbit/s", 1e-3),
    "tcp6_s2o": ("TCP over IPv6 slave → outside", "Gbit/s", 1e-3),
    "tcp_s2o_16": ("TCP slave → outside, 16 slaves on the port", "Gbit/s",
                   1e-3),
    "tcp_o2s": ("TCP outside → slave", "Gbit/s", 1e-3),
    "udp_s2s": ("UDP 64 B slave → slave, received", "kpps", 1e-3),
    "udp_s2o": ("UDP 64 B slave → outside, received", "kpps", 1e-3),
    "rr_s2s": ("ping -U RTT slave → slave (median)", "µs", 1),
    "rr_s2o": ("ping -U RTT slave → outside (median)", "µs", 1),
    "rrts_s2o": ("ping RTT slave → outside, to the rx timestamp",
                 "µs", 1),
    "rx_o2s": ("raw 64 B flood outside → slave, received", "kpps", 1e-3),
    "tap_g2o": ("tap guest → outside, 64 B UDP (macvtap in macvlan)",
                "kpps", 1e-3),
    "vm_tcp_g2o": ("TCP nested QEMU guest (vhost-net, tap) → outside "
                   "(macvtap in macvlan)", "Mbit/s", 1),
    "vm_tcp_o2g": ("TCP outside → nested QEMU guest (vhost-net, tap) "
                   "(macvtap in macvlan)", "Mbit/s", 1),
    "tcp_o2m": ("TCP outside → master's namespace (l2 port)", "Gbit/s",
                1e-3),
    "udp_o2m": ("UDP 64 B outside → master's namespace (l2 port)", "kpps",
                1e-3),
    "tcp_o2m_l3s": ("TCP outside → master's namespace, + an l3s port",
                    "Gbit/s", 1e-3),
    "udp_o2m_l3s": ("UDP 64 B outside → master's namespace, + an l3s port",
                    "kpps", 1e-3),
    "tcp_h2s": ("TCP master's namespace → slave (host path; veth: a pair)",
                "Gbit/s", 1e-3),
    "tcp_s2h": ("TCP slave → master's namespace (host path; veth: a pair)",
                "Gbit/s", 1e-3),
    "udp_h2s": ("UDP 64 B master's namespace → slave, received (host path)",
                "kpps", 1e-3),
    "udp_s2h": ("UDP 64 B slave → master's namespace, received (host path)",
                "kpps", 1e-3),
    "arp_bcast": ("broadcast ARP, {x} slaves, handled", "bcast/s", 1),
    "arp_answer": ("broadcast ARP requests answered, {x} slaves", "replies/s",
                   1),
    "arp_answer_nofilter": ("... ours with the ARP filter off, {x} slaves",
                            "replies/s", 1),
    "lookup_rx": ("unicast rx, {x} addresses on the port", "kpps", 1e-3),
    "addr_add": ("add {x} addresses to a slave (total)", "s", 1),
    "churn_create": ("create {x} slaves (ip -batch)", "s", 1),
    "churn_delete": ("delete {x} slaves (ip -batch)", "s", 1),
}


def load_jsonl(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                print(f"report.py: {path}:{n}: bad line skipped",
                      file=sys.stderr)
    return out


def load_json(path):
    try:
        with open(path) as f:
            return json.loads(f.read() or "{}")
    except (OSError, ValueError):
        return {}


def fmt(v):
    if v is None:
        return "—"
    a = abs(v)
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def stats(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return {"n": len(vals), "median": statistics.median(vals),
            "min": min(vals), "max": max(vals), "values": vals}


def cell(st, scale):
    if not st:
        return "—"
    med = st["median"] * scale
    if st["n"] < 2 or not st["median"]:
        return fmt(med)
    half = (st["max"] - st["min"]) / 2 / abs(st["median"]) * 100
    return f"{fmt(med)} ±{half:.0f}%"


def ratios(rows, better, other="in-tree"):
    """Per-round perf ratios ours vs OTHER (> 1: ours better)."""
    by = {}
    for r in rows:
        if r["value"] is None:
            continue
        by.setdefault(r["round"], {})[r["impl"]] = r["value"]
    out = []
    for rnd in sorted(by):
        o, t = by[rnd].get("ours"), by[rnd].get(other)
        if o is None or t is None or (t if better == "higher" else o) == 0:
            continue
        out.append(o / t if better == "higher" else t / o)
    return out


def summarize(results):
    groups = {}
    order = []
    for r in results:
        key = (r["scenario"], r.get("x"))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(r)
    scen_order = list(SCENARIOS)
    order.sort(key=lambda k: (scen_order.index(k[0])
                              if k[0] in scen_order else 99,
                              k[1] if k[1] is not None else -1))
    rows = []
    for key in order:
        rs = groups[key]
        better = rs[0].get("better", "higher")
        row = {"scenario": key[0], "x": key[1], "unit": rs[0].get("unit"),
               "better": better, "impls": {}}
        for impl in IMPLS:
            st = stats([r["value"] for r in rs if r["impl"] == impl])
            if st:
                row["impls"][impl] = st
        for key, other in (("ratio", "in-tree"), ("ratio_veth", "veth")):
            rt = ratios(rs, better, other)
            if rt:
                row[key] = {"median": statistics.median(rt), "min": min(rt),
                            "max": max(rt), "values": rt}
        rows.append(row)
    return rows


def ratio_cell(rt):
    if not rt:
        return "—"
    s = fmt(rt["median"])
    if len(rt["values"]) < 2:
        return s
    s += f" ({fmt(rt['min'])}–{fmt(rt['max'])})"
    if rt["max"] < 1:
        s += " ▼"
    elif rt["min"] > 1:
        s += " ▲"
    return s


def table(rows):
    present = [i for i in IMPLS
               if any(i in r["impls"] for r in rows)]
    cols = ["scenario", "unit"]
    for i in present:
        cols.append(i)
        if i == "in-tree":
            cols.append("ours/in-tree")
        if i == "veth":
            cols.append("ours/veth")
    lines = ["| " + " | ".join(cols) + " |",
             "|" + "|".join(["---"] * 2 + ["---:"] * (len(cols) - 2)) + "|"]
    for r in rows:
        label, unit, scale = SCENARIOS.get(
            r["scenario"], (r["scenario"], r["unit"], 1))
        label = label.format(x=r["x"])
        if r["better"] == "lower":
            unit += " ↓"
        cells = [label, unit]
        for i in present:
            cells.append(cell(r["impls"].get(i), scale))
            if i == "in-tree":
                cells.append(ratio_cell(r.get("ratio")))
            if i == "veth":
                cells.append(ratio_cell(r.get("ratio_veth")))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(outdir, rows, scenario, fname, title, xlabel, ylabel, scale=1,
         logy=True, series=None):
    """One curve per (scenario, impl, title) of SERIES (default: ours and
    in-tree of SCENARIO), medians with min..max error bars."""
    if series is None:
        series = [(scenario, "ours", "ours"), (scenario, "in-tree", "in-tree")]
    by_x = {}
    for i, (scn, impl, _) in enumerate(series):
        for r in rows:
            st = r["impls"].get(impl) if r["scenario"] == scn else None
            if r["x"] and st:
                by_x.setdefault(r["x"], {})[i] = st
    if not by_x or not shutil.which("gnuplot"):
        return None
    dat = os.path.join(outdir, f"{scenario}.dat")
    with open(dat, "w") as f:
        f.write("# x  " + "  ".join(f"{t}(med min max)" for _, _, t in series)
                + "\n")
        for x in sorted(by_x):
            line = [str(x)]
            for i in range(len(series)):
                st = by_x[x].get(i)
                if st:
                    line += [str(st["median"] * scale), str(st["min"] * scale),
                             str(st["max"] * scale)]
                else:
                    line += ["NaN"] * 3
            f.write(" ".join(line) + "\n")
    png = os.path.join(outdir, fname)
    curves = ", \\\n     ".join(
        f"'{dat}' using 1:{2 + 3 * i}:{3 + 3 * i}:{4 + 3 * i} with "
        f"yerrorlines lw 2 pt {7 - 2 * i} title \"{t}\""
        for i, (_, _, t) in enumerate(series))
    script = f"""
set terminal pngcairo size 900,560 font ",11"
set output '{png}'
set title "{title}"
set xlabel "{xlabel}"
set ylabel "{ylabel}"
set logscale x 2
{"set logscale y" if logy else "set yrange [0:*]"}
set grid
set key top right
set datafile missing "NaN"
plot {curves}
"""
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True,
                       capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        err = getattr(e, "stderr", "") or str(e)
        print(f"report.py: gnuplot failed for {fname}: {err}",
              file=sys.stderr)
        return None
    return png


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    outdir = sys.argv[1]
    results = load_jsonl(os.path.join(outdir, "results.jsonl"))
    if not results:
        print(f"report.py: no results in {outdir}", file=sys.stderr)
        return 1
    meta = load_json(os.path.join(outdir, "meta.json"))
    host = load_json(os.path.join(outdir, "host.json"))
    rows = summarize(results)

    md = []
    md.append(f"Benchmark {host.get('date', '?')}, commit "
              f"{host.get('commit', '?')}{' (dirty)' if host.get('dirty') else ''}"
              f", guest kernel {meta.get('kernel', '?')} under QEMU TCG, "
              f"{meta.get('cpus', '?')} vCPUs; "
              f"{meta.get('rounds', '?')} interleaved ours/in-tree rounds "
              f"(alternatives {meta.get('alt_rounds', '?')}, "
              f"host path {meta.get('host_rounds', '?')}, whole ARP "
              f"curves {meta.get('scale_rounds', '?')}, 1 slave every "
              f"round), "
              f"{meta.get('seconds_per_run', '?')} s per run "
              f"({meta.get('tcp_seconds', meta.get('seconds_per_run', '?'))}"
              f" s per TCP run).")
    if any(r["scenario"].startswith("vm_") for r in rows):
        order = meta.get("vhost_order", "ours in-tree macvlan")
        md.append(f"vhost part: one nested guest boot per implementation "
                  f"(in the order {order}: no A B B A), "
                  f"{meta.get('vhost_runs', '?')} iperf3 runs of "
                  f"{meta.get('vhost_seconds', '?')} s each way per boot; "
                  f"its ratio pairs run N of each boot.")
    hb, ha = host.get("host_before", {}), host.get("host_after", {})
    if hb:
        md.append(f"Host load before/after: {hb.get('loadavg')} / "
                  f"{ha.get('loadavg', '?')} on {host.get('host_cpus')} cores, "
                  f"{hb.get('qemu_processes')} / {ha.get('qemu_processes', '?')}"
                  f" QEMU processes running (ours included); "
                  f"wall time {host.get('wall_seconds', '?')} s.")
    md.append("")
    md.append(table(rows))
    md.append("")
    md.append("Cells: median ±half the min–max range. ours/in-tree: median "
              "of per-round ratios (min–max), > 1 = ours better (for ↓ rows "
              "it is in-tree/ours); ours/veth the same against a veth pair "
              "between the same namespaces (host path rows); "
              "▼ ours slower beyond the spread, ▲ faster. "
              "TCG guest: compare ratios, not absolute numbers.")
    text = "\n".join(md)

    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(outdir, "summary.json"), "w") as f:
        json.dump({"meta": meta, "host": host, "rows": rows}, f, indent=1)

    pngs = [
        plot(outdir, rows, "arp_answer", "arp_scaling.png",
             "Broadcast ARP requests answered vs. number of ipvlan slaves (l2)",
             "slaves on one master", "replies/s at the outside host",
             series=[("arp_answer", "ours", "ours, ARP filter on"),
                     ("arp_answer_nofilter", "ours", "ours, ARP filter off"),
                     ("arp_answer", "in-tree", "in-tree")]),
        plot(outdir, rows, "arp_bcast", "arp_fanout.png",
             "Broadcast ARP for an unowned address: copies handled per slave",
             "slaves on one master", "broadcasts/s handled per slave"),
        plot(outdir, rows, "lookup_rx", "lookup_scaling.png",
             "Unicast receive rate vs. addresses on the port",
             "addresses", "kpps received at the slave", scale=1e-3,
             logy=False),
        plot(outdir, rows, "addr_add", "addr_add_scaling.png",
             "Time to add addresses to one slave (cumulative)",
             "addresses", "seconds"),
    ]
    print(text)
    for p in pngs:
        if p:
            print(f"plot: {p}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
