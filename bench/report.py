#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the console of a "make bench" VM run into a table, CSV, JSON and a plot.

usage: report.py CONSOLE_LOG LOAD_SAMPLES LABEL OUTDIR [--commit DESC]
                 [--results FILE [--first MD]]

CONSOLE_LOG holds the "R key=value ..." lines that bench/run.sh printed
between EPHPORT-BENCH-BEGIN and EPHPORT-BENCH-END; LOAD_SAMPLES the host's
"epoch load1 other_vms" lines taken while the VM ran. Writes
OUTDIR/{table,results}-LABEL.{txt,csv,json} and OUTDIR/sweep-LABEL.png
(with gnuplot, if it is installed), and prints the table.

With --results, also writes FILE: the run in Markdown, meant to be
committed (bench/results-LABEL.md): its date, the module's commit (DESC,
as bench.sh found it with git), the host's load, which goals were met,
the table and the per-round spreads. With --first, the Markdown in MD
(bench/icount.py's instruction counts) comes before the wall clock's.
"""
import csv
import json
import os
import statistics
import subprocess
import sys
import time

MODES = ("without", "observe", "random")
NA_RANDOM = "n/a (random mode not available)"
TPUT = (
    ("connect", "TCP connect()+close (RST), ops/s"),
    ("bind", "TCP bind(0)+close, ops/s"),
    ("udp", "UDP autobind+close, ops/s"),
    ("connect2", "TCP connect()+close (RST), 2 processes on 2 vCPUs, ops/s"),
    ("bind2", "TCP bind(0)+close, 2 processes on 2 vCPUs, ops/s"),
    ("udp2", "UDP autobind+close, 2 processes on 2 vCPUs, ops/s"),
)
TPUT_GOAL = {"observe": 0.98, "random": 0.95}
# Built with its tracepoints (disabled) against built without them
# (EPHPORT_NO_TRACE=1), both in observe mode: connect() as in case 1, and
# a connect() that finds no port, where ephport_port_fail sits.
TRACE = (
    ("connect", "TCP connect()+close (RST), ops/s"),
    ("connfail", "TCP connect() finding no port, ops/s"),
)
TRACE_GOAL = 0.98           # with tracepoints >= 98 % of without them
SWEEP_GOAL = 10.0           # random's port search at least 10x shorter at 99 % full
MEM_GOAL_KIB = {"observe": 20.0, "random": 160.0}
WARMUP_OPS = 200            # ephport_bench tput's untimed operations
MEM_KEYS = ("Slab", "Percpu", "VmallocUsed")


def parse(path):
    """The result records, as dicts, of the last complete run in the log."""
    records, inside = [], False
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("EPHPORT-BENCH-BEGIN"):
                records, inside = [], True
            elif line.startswith("EPHPORT-BENCH-END"):
                inside = False
            elif inside and line.startswith("R "):
                rec = {}
                for tok in line[2:].split():
                    k, sep, v = tok.partition("=")
                    if sep:
                        rec[k] = v
                records.append(rec)
    return records


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def nonneg(v):
    """A counter ephport_bench read (it prints -1 for one that is absent)."""
    return num(v) is not None and num(v) >= 0


def quantile(values, q):
    """Nearest-rank quantile, as ephport_bench computes it."""
    v = sorted(values)
    if not v:
        return None
    k = max(0, min(len(v) - 1, int(q * len(v) + 0.999999) - 1))
    return v[k]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_int(v):
    return "-" if v is None else f"{v:,.0f}"


def fmt(v, digits=1):
    return "-" if v is None else f"{v:,.{digits}f}"


def pct(v):
    return "-" if v is None else f"{100 * v:.1f} %"


def times(v):
    return "-" if v is None else f"{v:.2f}x"


def verdict(ok):
    return "-" if ok is None else ("yes" if ok else "no")


class Report:
    def __init__(self, records, load):
        self.recs = records
        self.info = next((r for r in records if r.get("case") == "info"), {})
        self.random = self.info.get("random") == "available"
        self.load = load
        self.summary = []   # rows for CSV/JSON
        self.checks = []    # lines under the table

    def of(self, case, mode=None, **kw):
        out = []
        for r in self.recs:
            if r.get("case") != case:
                continue
            if mode and r.get("mode") != mode:
                continue
            if all(r.get(k) == str(v) for k, v in kw.items()):
                out.append(r)
        return out

    def na(self, mode):
        return mode == "random" and not self.random

    def add(self, case, metric, unit, vals, ratios=None, goal="", met=None):
        row = {"case": case, "metric": metric, "unit": unit}
        for m in MODES:
            row[m] = NA_RANDOM if self.na(m) else vals.get(m)
        for m in MODES[1:]:
            r = (ratios or {}).get(m)
            row[m + "_ratio"] = NA_RANDOM if self.na(m) else r
        row["goal"] = goal
        row["goal_met"] = met
        self.summary.append(row)

    # 1 and 2: operations per second, paired by round
    def tput(self):
        rows = []
        for case, label in TPUT:
            for key, how in (("ops_s_med", "median batch"), ("ops_s", "wall")):
                if not any(key in r for r in self.of(case)):
                    continue
                rows.append(self.tput_row(case, f"{label} ({how})", key))
            self.tput_checks(case)
        return rows

    def tput_row(self, case, label, key):
        med, ratio, met = {}, {}, {}
        for m in MODES:
            med[m] = median(num(r.get(key)) for r in self.of(case, m))
        base = {r["round"]: num(r.get(key)) for r in self.of(case, "without")}
        for m in MODES[1:]:
            paired = [num(r.get(key)) / base[r["round"]]
                      for r in self.of(case, m)
                      if base.get(r["round"]) and num(r.get(key))]
            ratio[m] = median(paired)
            met[m] = None if ratio[m] is None else ratio[m] >= TPUT_GOAL[m]
            if len(paired) > 1:
                q = (statistics.quantiles(paired, n=4) if len(paired) > 2
                     else sorted(paired))
                self.checks.append(
                    f"{case} ({key}), {m}/without over {len(paired)} rounds: "
                    f"{100 * min(paired):.1f} % to {100 * max(paired):.1f} %"
                    f" (middle half {100 * q[0]:.1f} % to {100 * q[-1]:.1f} %)")
        goal = "observe >= 98 %, random >= 95 %"
        self.add(case, "ops_per_s" + ("_median_batch" if key == "ops_s_med" else "_wall"),
                 "ops/s", med, ratio, goal, {m: met[m] for m in MODES[1:]})
        return ([label] + [self.cell(m, fmt_int(med[m])) for m in MODES] +
                [self.short(m, pct(ratio[m])) for m in MODES[1:]] +
                [self.goal_text(met, "observe >= 98 %", "random >= 95 %")])

    def tput_checks(self, case, modes=("observe", "random")):
        for m in modes:
            recs = self.of(case, m)
            if not recs:
                continue
            seen = [num(r.get("hooked")) / (num(r["ops"]) + num(r["fail"]) + WARMUP_OPS)
                    for r in recs if nonneg(r.get("hooked"))]
            if seen:
                self.checks.append(
                    f"{case}, {m}: ephport's counter moved by {100 * min(seen):.1f} %"
                    f" to {100 * max(seen):.1f} % of the operations")
            if m == "random":
                chosen = [num(r.get("random_ok")) / num(r.get("hooked"))
                          for r in recs if nonneg(r.get("random_ok"))
                          and nonneg(r.get("hooked")) and num(r["hooked"]) > 0]
                if chosen:
                    self.checks.append(
                        f"{case}, random: ephport chose the port for "
                        f"{100 * min(chosen):.1f} % to {100 * max(chosen):.1f} %"
                        " of them per round (random_ok)")
                fb = [num(r["random_fallback"]) for r in recs
                      if nonneg(r.get("random_fallback"))]
                if fb:
                    self.checks.append(
                        f"{case}, random: the kernel chose instead (random_fallback)"
                        f" at most {max(fb):.0f} times in a round")
            fails = sum(num(r.get("fail")) or 0 for r in recs)
            if fails:
                self.checks.append(f"{case}, {m}: {fails:.0f} operations failed")

    # 6: the tracepoints, disabled: the same module built with and without
    def tracepoints(self):
        rows = []
        for case, label in TRACE:
            for key, how in (("ops_s_med", "median batch"), ("ops_s", "wall")):
                traced = {r["round"]: num(r.get(key)) for r in self.of(case, "observe")}
                bare = {r["round"]: num(r.get(key)) for r in self.of(case, "notrace")}
                paired = [traced[k] / bare[k] for k in traced
                          if bare.get(k) and traced[k]]
                if not paired:
                    continue
                ratio = median(paired)
                q = (statistics.quantiles(paired, n=4) if len(paired) > 2
                     else [min(paired), max(paired)])
                met = ratio >= TRACE_GOAL
                spread = (f"{100 * min(paired):.1f} % to {100 * max(paired):.1f} %,"
                          f" middle half {100 * q[0]:.1f} % to {100 * q[-1]:.1f} %")
                within = q[0] <= 1.0 <= q[-1]
                self.checks.append(
                    f"{case} ({key}), with/without tracepoints over {len(paired)}"
                    f" rounds: {spread}; 100 % is "
                    + ("inside" if within else "outside") + " the middle half")
                goal = "with >= 98 % of without"
                self.summary.append({
                    "case": "tracepoints_" + case,
                    "metric": "ops_per_s" + ("_median_batch" if key == "ops_s_med"
                                             else "_wall"),
                    "unit": "ops/s", "observe": median(traced.values()),
                    "notrace": median(bare.values()), "traced_ratio": ratio,
                    "traced_ratio_min": min(paired), "traced_ratio_max": max(paired),
                    "traced_ratio_q1": q[0], "traced_ratio_q3": q[-1],
                    "goal": goal, "goal_met": met})
                rows.append([f"{label} ({how})", fmt_int(median(traced.values())),
                             fmt_int(median(bare.values())), pct(ratio),
                             f"{goal} ({verdict(met)})"])
            # Case 1 checked observe mode's connect() already.
            self.tput_checks(case, ("notrace",) if case == "connect"
                             else ("observe", "notrace"))
        return rows

    # 3: occupancy sweep
    def sweep(self):
        rows, self.curve = [], {}
        pcts = sorted({int(r["pct"]) for r in self.of("sweep")})
        for p in pcts:
            med, p99 = {}, {}
            for m in MODES:
                samples = []
                for r in self.of("sweep", m, pct=p):
                    if r.get("samples"):
                        samples += [float(x) for x in r["samples"].split(",")]
                med[m] = quantile(samples, 0.5)
                p99[m] = quantile(samples, 0.99)
                self.curve[(p, m)] = (med[m], p99[m], len(samples))
            for what, vals in (("median", med), ("p99", p99)):
                speed = {m: (vals["without"] / vals[m]
                             if vals.get(m) and vals.get("without") else None)
                         for m in MODES[1:]}
                goal, met = "", None
                if what == "median":
                    goal = "random not slower than without"
                    met = {"random": None if speed["random"] is None
                           else speed["random"] >= 1.0}
                self.add(f"sweep_{p}", f"connect_{what}", "us", vals, speed,
                         goal, met)
                rows.append([f"connect() at {p} % full, {what} us"] +
                            [self.cell(m, fmt(vals[m])) for m in MODES] +
                            [self.short(m, times(speed[m])) for m in MODES[1:]] +
                            [self.goal_text(met, goal) if met else ""])
            # The port search alone (search_ns, from ephport's connect
            # hook): the kernel's in observe mode, ephport's in random.
            mean = {"without": None}
            for m in MODES[1:]:
                recs = [r for r in self.of("sweep", m, pct=p)
                        if nonneg(r.get("search_n")) and nonneg(r.get("search_sum_ns"))]
                n = sum(num(r["search_n"]) for r in recs)
                mean[m] = (sum(num(r["search_sum_ns"]) for r in recs) / n / 1000
                           if n else None)
            if mean["observe"] is not None:
                shorter = (mean["observe"] / mean["random"]
                           if mean.get("random") else None)
                goal, met = "", None
                if p == 99:
                    goal = "random >= 10x shorter"
                    met = {"random": None if shorter is None
                           else shorter >= SWEEP_GOAL}
                self.add(f"sweep_{p}", "search_mean", "us", mean,
                         {"random": shorter}, goal, met)
                rows.append([f"port search at {p} % full, mean us (kernel's in observe)",
                             "-", fmt(mean["observe"]),
                             self.cell("random", fmt(mean["random"])), "",
                             self.short("random", times(shorter))] +
                            [self.goal_text(met, goal) if met else ""])
        recs = self.of("sweep", "random")
        if recs:
            n = sum(num(r.get("n")) or 0 for r in recs)
            delay = recs[0].get("delay", "?")
            if any("random_ok_samples" in r for r in recs):
                ok = sum(num(r["random_ok_samples"]) for r in recs
                         if nonneg(r.get("random_ok_samples")))
                self.checks.append(
                    f"sweep, random: ephport chose {ok:.0f} of {n:.0f} sampled ports"
                    f" (reuse_delay_ms 0 set per {delay})")
            else:
                # Older ephport_bench: its count includes the fill's connect()s.
                ok = sum(num(r["random_ok"]) for r in recs if nonneg(r.get("random_ok")))
                fill = sum(num(r["held"]) for r in recs if r.get("pct") ==
                           str(max(int(x["pct"]) for x in recs)))
                self.checks.append(
                    f"sweep, random: ephport chose {ok:.0f} ports for {n:.0f} samples"
                    f" and {fill:.0f} fill connect()s (reuse_delay_ms 0 set per {delay})")
        fails = sum(num(r.get("fail")) or 0 for r in self.of("sweep"))
        if fails:
            self.checks.append(f"sweep: {fails:.0f} sampled connect()s failed")
        return rows

    # 4: memory
    def memory(self):
        phase = {r.get("phase"): r for r in self.of("mem")}
        n = num(self.info.get("netns")) or 1

        def kernel(p):
            r = phase.get(p)
            return sum(num(r.get(k)) or 0 for k in MEM_KEYS) if r else None

        def free(p):
            r = phase.get(p)
            return -num(r.get("MemFree")) if r else None

        rows = []
        for label, f in (("slab+percpu+vmalloc", kernel), ("MemFree drop, noisy", free)):
            vals = {m: None for m in MODES}
            if None not in (f("pre"), f("load0"), f("netns"), f("observe")):
                fixed = f("load0") - f("pre")
                vals["without"] = (f("netns") - f("pre")) / n
                vals["observe"] = (f("observe") - f("netns") - fixed) / n
                if f("random") is not None:
                    vals["random"] = vals["observe"] + (f("random") - f("observe")) / n
            # Random mode's bound is on what it adds (the resting ports).
            extra = (None if None in (vals["random"], vals["observe"])
                     else vals["random"] - vals["observe"])
            met = {"observe": None if vals["observe"] is None
                   else vals["observe"] <= MEM_GOAL_KIB["observe"],
                   "random": None if extra is None
                   else extra <= MEM_GOAL_KIB["random"]}
            goal = "observe <= 20 KiB, random adds <= 160 KiB"
            self.add("memory", "kib_per_netns_" + label.split()[0].split("+")[0].lower(),
                     "KiB", vals, None, goal, met)
            rows.append([f"memory per namespace, KiB ({label})"] +
                        [self.cell(m, fmt(vals[m])) for m in MODES] +
                        ["", "", self.goal_text(met, "observe <= 20 KiB",
                                                "random adds <= 160 KiB"
                                                + ("" if extra is None else
                                                   f" (+{extra:.1f})"))
                         if f is kernel else ""])
        for r in self.of("netns_create"):
            self.checks.append(f"memory: {r['netns']} namespaces made in {r['secs']} s;"
                               " the 'without' column is what a namespace costs"
                               " the kernel itself")
        for r in self.of("load"):
            self.checks.append(f"memory: insmod with them present took {r['secs']} s")
        return rows

    # 5: reading
    def reading(self):
        rows = []
        for nr in sorted({int(r["netns"]) for r in self.of("read")}):
            for what, label in (("sysfs", "one namespace's sysfs dir"),
                                ("proc", "/proc/net/ephport"),
                                ("sockstat", "/proc/net/sockstat, the kernel's, for scale")):
                vals = {"without": None}
                for m in MODES[1:]:
                    r = self.of("read", phase=m, netns=nr)
                    vals[m] = ((num(r[0].get(what + "_cold_us")),
                                num(r[0].get(what + "_warm_us"))) if r else None)
                    if vals[m] and None in vals[m]:
                        vals[m] = None
                self.add("read", f"{what}_us_with_{nr}_netns", "us cold/warm",
                         vals)
                rows.append([f"read {label} ({nr} netns), cold / warm us"] +
                            [self.cell(m, "-" if vals[m] is None else
                                       f"{vals[m][0]:,.0f} / {vals[m][1]:,.0f}")
                             for m in MODES] + ["", "", ""])
        return rows

    # 5, continued: /proc/net/ephport_dests with many connections
    def dests(self):
        rows = []
        ehash = next((r.get("entries") for r in self.of("ehash")), None)
        for r in self.of("dests"):
            conns, dests = int(r["conns"]), int(r["dests"])
            shape = "one destination" if dests == 1 else f"{dests:,} destinations"
            vals = {"without": None, "random": None,
                    "observe": (num(r.get("cold_med_us")), num(r.get("warm_med_us")))}
            self.add("read_dests", f"dests_us_{conns}_conns_{dests}_dests",
                     "us cold/warm", vals)
            rows.append([f"read ephport_dests ({conns:,} conns, {shape}), cold / warm us",
                         "-", f"{vals['observe'][0]:,.0f} / {vals['observe'][1]:,.0f}",
                         "-", "", "", ""])
            rows.append([f"  the same from an empty namespace beside it, cold us",
                         "-", fmt_int(num(r.get("empty_cold_med_us"))), "-", "", "", ""])
            self.checks.append(
                f"ephport_dests, {conns} connections to {dests} destination(s)"
                f" ({r.get('lines')} lines, tcp_dest_max {r.get('tcp_dest_max')},"
                f" made in {r.get('setup_s')} s), {r.get('reads')} reads each:"
                f" cold {fmt(num(r.get('cold_min_us')), 0)} to"
                f" {fmt(num(r.get('cold_max_us')), 0)} us, warm"
                f" {fmt(num(r.get('warm_min_us')), 0)} to"
                f" {fmt(num(r.get('warm_max_us')), 0)} us, empty namespace cold"
                f" {fmt(num(r.get('empty_cold_min_us')), 0)} to"
                f" {fmt(num(r.get('empty_cold_max_us')), 0)} us"
                + (f"; the established hash has {int(ehash):,} buckets" if ehash else ""))
        return rows

    def cell(self, mode, text):
        return NA_RANDOM if self.na(mode) else text

    def short(self, mode, text):
        return "n/a" if self.na(mode) else text

    def goal_text(self, met, *goals):
        """'observe >= 98 % (no), random >= 95 % (n/a)': each goal, met or not."""
        out = []
        for g in goals:
            m = g.split()[0]
            out.append(f"{g} ({'n/a' if self.na(m) else verdict(met.get(m))})")
        return ", ".join(out)

    def table(self):
        head = ["case", "without", "observe", "random", "observe/w",
                "random/w", "goal (met?)"]
        sections = [("1-2 throughput (ratio: mode / without, per round)", self.tput()),
                    ("3 occupancy sweep, 1000-port range, one destination"
                     " (ratio: speed-up, without / mode)", self.sweep()),
                    ("4 memory with many namespaces", self.memory()),
                    ("5 reading with many namespaces, and with many connections",
                     self.reading() + self.dests())]
        rows = [r for _, s in sections for r in s]
        width = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]

        def line(r):
            out = [str(r[0]).ljust(width[0])]
            out += [str(c).rjust(width[i + 1]) for i, c in enumerate(r[1:6])]
            out += [str(c) for c in r[6:]]
            return "  ".join(out).rstrip()

        i = self.info
        load = [x[1] for x in self.load]
        others = max((x[2] for x in self.load), default=0)
        text = [f"ephport {i.get('version', '?')} on {i.get('kernel', '?')}, QEMU TCG,"
                f" {i.get('cpus', '?')} vCPUs; {i.get('rounds', '?')} rounds, each "
                + " -> ".join(m for m in MODES if not self.na(m))
                + "; medians over rounds",
                f"host: {os.cpu_count()} CPUs, 1-min load average during the run"
                + (f" {min(load):.2f} to {max(load):.2f} (median"
                   f" {statistics.median(load):.2f})" if load else " not sampled")
                + f"; other VMs running beside it: up to {others}"]
        if not self.random:
            text.append("random: " + NA_RANDOM + " (the loaded module has no"
                        " /sys/kernel/ephport/mode)")
        text.append("")
        text.append(line(head))
        for title, rows_ in sections:
            text.append(title + ":")
            text += [line(r) for r in rows_]
        trace_rows = self.tracepoints()
        if trace_rows:
            thead = ["6 tracepoints, disabled (observe mode; ratio per round)",
                     "with them", "without", "with/w", "goal (met?)"]
            tw = [max(len(str(r[i])) for r in trace_rows + [thead]) for i in range(4)]
            text.append("")
            for r in [thead] + trace_rows:
                text.append("  ".join([str(r[0]).ljust(tw[0])] +
                                      [str(c).rjust(tw[i + 1]) for i, c in enumerate(r[1:4])] +
                                      [str(r[4])]).rstrip())
        text.append("")
        text.append("checks:")
        text += ["  " + c for c in self.checks]
        text.append("goals are reported, not enforced; under TCG only the ratios"
                    " within one boot mean something")
        return "\n".join(text) + "\n"


def plot(rep, label, outdir):
    data = os.path.join(outdir, f"sweep-{label}.dat")
    png = os.path.join(outdir, f"sweep-{label}.png")
    pcts = sorted({p for p, _ in rep.curve})
    with open(data, "w") as f:
        f.write("# pct " + " ".join(f"{m}_median_us {m}_p99_us" for m in MODES) + "\n")
        for p in pcts:
            vals = []
            for m in MODES:
                med, p99, _ = rep.curve.get((p, m), (None, None, 0))
                vals += ["NaN" if med is None else f"{med:.1f}",
                         "NaN" if p99 is None else f"{p99:.1f}"]
            f.write(f"{p} " + " ".join(vals) + "\n")
    try:
        subprocess.run(["gnuplot", "--version"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        print(f"# gnuplot not found: no {png}", file=sys.stderr)
        return None
    title = (f"connect() to one destination, 1000-port range - "
             f"{rep.info.get('kernel', label)}")
    if not rep.random:
        title += " (random mode not available)"
    lines = []
    colors = {"without": "#444444", "observe": "#1f77b4", "random": "#d62728"}
    for k, m in enumerate(MODES):
        if rep.na(m):
            continue
        lines.append(f"'{data}' using 1:{2 + 2 * k} with linespoints lw 2 pt 7"
                     f" lc rgb '{colors[m]}' title '{m}, median'")
        lines.append(f"'{data}' using 1:{3 + 2 * k} with linespoints lw 1 dt 2 pt 6"
                     f" lc rgb '{colors[m]}' title '{m}, p99'")
    script = "\n".join([
        "set terminal pngcairo size 900,620 font 'sans,10'",
        f"set output '{png}'",
        f"set title \"{title}\"",
        "set xlabel 'range held (%)'",
        "set ylabel 'latency of one more connect() (us, log scale)'",
        "set logscale y",
        "set key below horizontal",
        "set grid",
        f"set xtics ({', '.join(str(p) for p in pcts)})",
        "set xrange [-3:102]",
        "plot " + ", \\\n     ".join(lines),
    ]) + "\n"
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    return png


def results_md(rep, table, label, commit, load, console, first=""):
    """bench/results-LABEL.md: the run, for git. The same shape as the
    files committed by hand: a header, the goals, the table, the checks."""
    i = rep.info
    if load:
        start = time.gmtime(load[0][0])
    else:
        start = time.gmtime(os.path.getmtime(console))
    loads = [x[1] for x in load]
    others = max((x[2] for x in load), default=0)
    met, missed = [], []
    for row in rep.summary:
        goal_met = row.get("goal_met")
        # The MemFree row repeats the memory goal as a cross-check only.
        if goal_met is None or "memfree" in row["metric"]:
            continue
        if isinstance(goal_met, dict):
            pairs = [(m, v) for m, v in goal_met.items() if v is not None]
        else:
            pairs = [("", goal_met)]
        for m, v in pairs:
            if row["unit"] == "KiB":
                val = row.get(m)
                if m == "random" and isinstance(row.get("observe"), (int, float)):
                    val = val - row["observe"]
                value = "-" if not isinstance(val, (int, float)) else (
                    f"{'+' if m == 'random' else ''}{val:.1f} KiB")
            else:
                ratio = row.get(f"{m}_ratio" if m else "traced_ratio")
                value = "-" if not isinstance(ratio, (int, float)) else (
                    f"{100 * ratio:.1f} %" if row["unit"] == "ops/s"
                    else f"{ratio:.2f}x")
            what = (f"  - {row['case']}, {row['metric']}" + (f", {m}" if m else "")
                    + f": {value}")
            (met if v else missed).append(what)
    body = table.split("\nchecks:\n", 1)
    head_table = body[0].rstrip("\n")
    checks = body[1] if len(body) > 1 else ""
    out = [
        f"# make bench on Debian's {label}: the last run",
        "",
        f"Written by `make bench{'' if label == '6.12' else ' KERNEL=' + label}`"
        " (bench/report.py) from the run it describes; the next run rewrites"
        " this file, Notes included. Method, cases and goals:"
        " [README.md](README.md).",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', start)}",
        f"- module: ephport {i.get('version', '?')}, {commit}",
        f"- kernel: {i.get('kernel', '?')}, QEMU TCG, {i.get('cpus', '?')} vCPUs;"
        f" {i.get('rounds', '?')} rounds, each "
        + " -> ".join(m for m in MODES if not rep.na(m)),
        f"- host: {os.cpu_count()} CPUs, 1-min load average during the run "
        + (f"{min(loads):.2f} to {max(loads):.2f} (median"
           f" {statistics.median(loads):.2f})" if loads else "not sampled")
        + f"; other VMs beside it: up to {others}",
        "",
        *([first.rstrip("\n"), ""] if first else []),
        "## Goals" + (" (wall clock)" if first else ""),
        "",
        "Reported, not enforced; under TCG only the ratios within one boot"
        " mean something, and they spread widely per round (Spreads, below).",
        "",
        "- met:" + ("" if met else " none"),
        *met,
        "- not met:" + ("" if missed else " none"),
        *missed,
        "",
        "## Table" + (" (wall clock)" if first else ""),
        "",
        "```",
        head_table,
        "```",
        "",
        "## Spreads and checks",
        "",
        "```",
        checks.rstrip("\n"),
        "```",
        "",
        "## Notes",
        "",
        "None yet: whoever commits this file says here what the run shows.",
        "",
    ]
    return "\n".join(out)


def main():
    args = sys.argv[1:]
    commit, results, first = "commit unknown", None, ""
    pos = []
    while args:
        a = args.pop(0)
        if a in ("--commit", "--results", "--first") and args:
            if a == "--commit":
                commit = args.pop(0)
            elif a == "--first":
                with open(args.pop(0)) as f:
                    first = f.read()
            else:
                results = args.pop(0)
        else:
            pos.append(a)
    if len(pos) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    console, loadfile, label, outdir = pos
    records = parse(console)
    if not any(r.get("case") == "info" for r in records):
        print("report.py: no benchmark results in " + console, file=sys.stderr)
        return 1
    load = []
    if os.path.exists(loadfile):
        with open(loadfile) as f:
            for line in f:
                p = line.split()
                if len(p) == 3:
                    load.append((float(p[0]), float(p[1]), int(p[2])))
    rep = Report(records, load)
    table = rep.table()
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, f"table-{label}.txt"), "w") as f:
        f.write(table)
    fields = ["case", "metric", "unit", *MODES, "observe_ratio", "random_ratio",
              "notrace", "traced_ratio", "traced_ratio_min", "traced_ratio_max",
              "traced_ratio_q1", "traced_ratio_q3", "goal", "goal_met"]
    with open(os.path.join(outdir, f"results-{label}.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for row in rep.summary:
            w.writerow({k: (json.dumps(v) if isinstance(v, (dict, tuple)) else v)
                        for k, v in row.items()})
    png = plot(rep, label, outdir)
    with open(os.path.join(outdir, f"results-{label}.json"), "w") as f:
        json.dump({"info": rep.info, "load": [{"epoch": t, "load1": l, "other_vms": o}
                                              for t, l, o in load],
                   "summary": rep.summary, "checks": rep.checks,
                   "raw": [{k: v for k, v in r.items() if k != "samples"}
                           for r in records],
                   "sweep_samples_us": [r for r in records
                                        if r.get("case") == "sweep"],
                   "plot": png}, f, indent=1)
    if results:
        with open(results + ".tmp", "w") as f:
            f.write(results_md(rep, table, label, commit, load, console, first))
        os.replace(results + ".tmp", results)
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
