#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench's instruction counts: table, budgets, check.

usage: icount.py CONSOLE_LOG LABEL OUTDIR [--budgets FILE] [--check]
                 [--vm-failed WHY] [--update-budgets] [--md FILE]

CONSOLE_LOG holds the "R key=value ..." lines that bench/icount.sh printed
(a VM booted with vm.sh --icount: one guest nanosecond per instruction).
Writes OUTDIR/icount-LABEL.{txt,json} and prints the table.

  --budgets FILE     the budgets (default: bench/budgets beside this script)
  --check            print the budget check instead of the table, as flat
                     KTAP ("ok N ..." / "not ok N ...", a "# Totals:" line);
                     exit 1 if a case fails its budget or was not measured
  --vm-failed WHY    (with --check) the VM did not end well: one more
                     failed case, saying WHY
  --update-budgets   write this run's added instructions into the budgets
                     file's LABEL column (make bench does, for a run that
                     ended well)
  --md FILE          the table as a Markdown section, for results-LABEL.md

A budget "N%" on a case and mode: the instructions the mode adds to the
operation (mode minus without, medians over the rounds) may be at most N %
of the operation's instructions without ephport; "Nx" on "CASE/OTHER": the
mode's instructions on CASE at most N times those on OTHER, which allows
(N - 1) times OTHER added. The check fails a case whose added instructions
exceed its budget by more than half.
"""
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import parse  # noqa: E402  (the console's result records)

OPS = (
    ("connect", "TCP connect()+close (RST)"),
    ("bind", "TCP bind(0)+close"),
    ("udp", "UDP autobind+close"),
)
OP_LABEL = dict(OPS)
CALIB_OK = (0.98, 1.02)     # ns per instruction under -icount
MARGIN = 1.5                # the check fails above budget * MARGIN
COLUMNS = ("case", "mode", "budget")


def fnum(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def spread(values):
    """(max - min) / median of the rounds, or None with fewer than 2."""
    if len(values) < 2:
        return None
    med = statistics.median(values)
    return (max(values) - min(values)) / med if med else None


def case_key(rec):
    """A record's case name: "bind", "bind@rest50", "bind@bound99"."""
    kind, op = rec.get("kind"), rec.get("op")
    if kind == "count":
        return op
    return f"{op}@{kind}{rec.get('pct')}"


class Counts:
    """The instructions per operation of every case and mode, per round."""

    def __init__(self, records):
        self.info = next((r for r in records if r.get("case") == "info"), {})
        self.calib = [fnum(r.get("ns_per_insn")) for r in records
                      if r.get("case") == "calib"]
        self.errors = [r for r in records if r.get("case") == "error"]
        self.vals = {}      # (case, mode) -> {round: insn_op}
        self.recs = {}      # (case, mode) -> [records]
        for r in records:
            if r.get("case") != "icount":
                continue
            key = (case_key(r), r.get("mode"))
            v = fnum(r.get("insn_op"))
            if v is None or fnum(r.get("fail")) != 0:
                continue
            self.vals.setdefault(key, {})[r.get("round")] = v
            self.recs.setdefault(key, []).append(r)

    def rounds(self, case, mode):
        return self.vals.get((case, mode), {})

    def median(self, case, mode):
        v = list(self.rounds(case, mode).values())
        return statistics.median(v) if v else None

    def added(self, case, mode, base_case=None, base_mode="without"):
        """Mode minus base (medians), and the per-round added values."""
        base_case = base_case or case
        m, b = self.median(case, mode), self.median(base_case, base_mode)
        if m is None or b is None:
            return None, []
        mr, br = self.rounds(case, mode), self.rounds(base_case, base_mode)
        per = [mr[k] - br[k] for k in mr if k in br]
        return m - b, per

    def cases(self, kind):
        seen = []
        for case, _ in self.vals:
            if (kind == "count" and "@" not in case) or \
               (kind != "count" and f"@{kind}" in case):
                if case not in seen:
                    seen.append(case)
        return seen


def read_budgets(path):
    """The budgets file: its lines, and {(case, mode): budget text}."""
    lines, budgets = [], {}
    if not os.path.exists(path):
        return lines, budgets
    with open(path) as f:
        for line in f:
            lines.append(line.rstrip("\n"))
            p = line.split()
            if len(p) >= 3 and not line.startswith("#"):
                budgets[(p[0], p[1])] = p[2]
    return lines, budgets


def header_labels(lines):
    """The measured columns' labels, from the "# case mode budget ..." line."""
    for line in lines:
        p = line.lstrip("# ").split()
        if p[:3] == list(COLUMNS):
            return p[3:]
    return []


def judge(counts, case, mode, budget):
    """One budget against the run: a dict with what it measured and why."""
    res = {"case": case, "mode": mode, "budget": budget, "ok": None}
    m = re.fullmatch(r"([0-9.]+)(%|x)", budget)
    if not m:
        res["why"] = f"unreadable budget '{budget}'"
        return res
    n, unit = float(m.group(1)), m.group(2)
    if unit == "%":
        base = counts.median(case, "without")
        added, per = counts.added(case, mode)
        allowed = None if base is None else base * n / 100
        what = "without"
    else:
        # CASE/OTHER: the mode on CASE against the same mode on OTHER.
        if "/" not in case:
            res["why"] = f"a ratio budget needs CASE/OTHER, not '{case}'"
            return res
        top, other = case.split("/", 1)
        other = top.split("@")[0] + "@" + other if "@" not in other else other
        base = counts.median(other, mode)
        added, per = counts.added(top, mode, other, mode)
        allowed = None if base is None else base * (n - 1)
        what = f"{mode} on {other.split('@')[1]}"
    if added is None or allowed is None:
        res["why"] = "not measured"
        res["ok"] = False
        return res
    res.update(added=added, base=base, allowed=allowed,
               limit=allowed * MARGIN, share=added / base if base else None,
               rounds=per, ok=added <= allowed * MARGIN)
    sign = "+" if added >= 0 else ""
    if unit == "%":
        res["measured"] = f"{sign}{100 * added / base:.2f}%"
        res["why"] = (f"{sign}{added:,.0f} insns/op = {sign}{100 * added / base:.2f} % of"
                      f" {base:,.0f} {what}; budget {budget} = {allowed:,.0f},"
                      f" fails above {allowed * MARGIN:,.0f}")
    else:
        ratio = (base + added) / base
        res["measured"] = f"{ratio:.3f}x"
        res["why"] = (f"{ratio:.3f}x {what} ({sign}{added:,.0f} insns/op on"
                      f" {base:,.0f}); budget {budget} = +{allowed:,.0f},"
                      f" fails above +{allowed * MARGIN:,.0f}")
    return res


def fmt_added(added, base, per):
    if added is None or not base:
        return "-"
    s = f"{'+' if added >= 0 else ''}{added:,.0f} ({100 * added / base:+.2f} %)"
    if len(per) >= 2:
        s += f" [{100 * min(per) / base:+.2f}..{100 * max(per) / base:+.2f}]"
    return s


def fmt_base(v, rounds):
    if v is None:
        return "-"
    sp = spread(list(rounds.values()))
    return f"{v:,.0f}" + ("" if sp is None else f" ±{50 * sp:.2f} %")


def pct_label(case):
    return int(re.search(r"(\d+)$", case).group(1))


def table(counts, budgets, label):
    i = counts.info
    calib = [c for c in counts.calib if c is not None]
    out = [
        f"ephport {i.get('version', '?')} on {i.get('kernel', '?')}, QEMU TCG"
        f" -icount shift=0,sleep=off, 1 vCPU: one guest ns per instruction;"
        f" {i.get('rounds', '?')} rounds, each without -> observe -> random",
        "instructions per operation: medians over the rounds; ±: half the"
        " rounds' range; [..]: the rounds' own added %; budget: bench/budgets"
        " (the check fails above 1.5 times it)",
        "calibration (a loop of known length): "
        + (", ".join(f"{c:.4f}" for c in calib) + " ns per instruction"
           if calib else "none"),
        "",
    ]
    rows = []   # a section's title (a string), or (name, cells, goal)

    def row(name, cells, goal=""):
        rows.append((name, cells, goal))

    def goals(case, modes):
        parts = []
        for mode in modes:
            b = budgets.get((case, mode))
            if not b:
                continue
            j = judge(counts, case, mode, b)
            ok = "-" if j["ok"] is None else (
                "yes" if j.get("added", 0) <= j.get("allowed", 0) else
                ("no" if not j["ok"] else "no, within 1.5x"))
            parts.append(f"{mode} <= {b} ({ok})")
        return ", ".join(parts)

    row("case", ("without", "observe: added", "random: added"), "budget (met?)")
    rows.append(f"1 the operation, kernel's default range, random mode with"
               f" reuse_delay_ms={i.get('delay_ms', '?')},"
               f" {i.get('secs', '?')} s of guest time each:")
    for op, lab in OPS:
        if not counts.rounds(op, "without"):
            continue
        base = counts.median(op, "without")
        cells = [fmt_base(base, counts.rounds(op, "without"))]
        for mode in ("observe", "random"):
            a, per = counts.added(op, mode)
            cells.append(fmt_added(a, base, per))
        row(lab, cells, goals(op, ("observe", "random")))
    rest = counts.cases("rest")
    if rest:
        rows.append(f"2 random mode with a share of the range resting"
                   f" ({i.get('rest_range', '?')}, pinned; that share released"
                   f" just before {i.get('rest_ops', '?')} timed operations,"
                   f" reuse_delay_ms={i.get('rest_delay_ms', '?')}):")
    for op, lab in OPS:
        for case in sorted((c for c in rest if c.startswith(op + "@")),
                           key=pct_label):
            base = counts.median(case, "without")
            a, per = counts.added(case, "random")
            recs = counts.recs.get((case, "random"), [])
            r0 = [fnum(r.get("resting0")) for r in recs]
            r1 = [fnum(r.get("resting1")) for r in recs]
            n = fnum(recs[0].get("range")) if recs else None
            seen = ""
            if n and r0 and all(v is not None and v >= 0 for v in r0 + r1):
                seen = (f" (module: {100 * min(r0) / n:.1f}-"
                        f"{100 * max(r1) / n:.1f} %)")
            row(f"{lab}, {pct_label(case)} % resting{seen}",
                [fmt_base(base, counts.rounds(case, "without")), "",
                 fmt_added(a, base, per)], goals(case, ("random",)))
    bound = counts.cases("bound")
    if bound:
        rows.append(f"3 a share of the range bound by the operation's own"
                   f" sockets ({i.get('bound_range', '?')}, pinned,"
                   f" reuse_delay_ms=0), {i.get('bound_ops', '?')} timed"
                   f" operations:")
    for op, lab in OPS:
        for case in sorted((c for c in bound if c.startswith(op + "@")),
                           key=pct_label):
            base = counts.median(case, "without")
            a, per = counts.added(case, "random")
            row(f"{lab}, {pct_label(case)} % bound",
                [fmt_base(base, counts.rounds(case, "without")), "",
                 fmt_added(a, base, per)], goals(case, ("random",)))
    ratios = [(c, m, b) for (c, m), b in budgets.items() if "/" in c]
    for case, mode, b in ratios:
        j = judge(counts, case, mode, b)
        if "measured" in j:
            top, other = case.split("/", 1)
            row(f"{mode} {OP_LABEL.get(top.split('@')[0], top)}:"
                f" {top.split('@')[1]} / {other}", ["", "", j["measured"]],
                goals(case, (mode,)))
    widths = [max([len(r[0]) for r in rows if isinstance(r, tuple)])]
    for k in range(3):
        widths.append(max(len(r[1][k]) for r in rows if isinstance(r, tuple)))
    for r in rows:
        if isinstance(r, str):
            out.append(r)
            continue
        name, cells, goal = r
        out.append(f"{name:<{widths[0]}}" + "".join(
            f"  {c:>{w}}" for c, w in zip(cells, widths[1:]))
            + (f"  {goal}" if goal else ""))
    checks = []
    for (case, mode), recs in sorted(counts.recs.items()):
        if mode != "random":
            continue
        ops = sum(fnum(r.get("ops")) or 0 for r in recs)
        ok = sum(fnum(r.get("random_ok")) or 0 for r in recs)
        lru = sum(fnum(r.get("random_lru")) or 0 for r in recs)
        fb = sum(fnum(r.get("random_fallback")) or 0 for r in recs)
        if ok + lru < ops or fb:
            checks.append(f"  {case}: of {ops:.0f} timed operations ephport"
                          f" chose {ok:.0f} at random, {lru:.0f} least-recently"
                          f" used, {fb:.0f} left to the kernel")
    for e in counts.errors:
        checks.append(f"  a measurement failed: mode={e.get('mode')}"
                      f" round={e.get('round')} rc={e.get('rc')}")
    out.append("")
    out.append("checks:")
    out.append("  random mode chose every timed operation's port" if not checks
               else "  random mode's choices, where not every one was ephport's:")
    out.extend(checks)
    return "\n".join(out) + "\n"


def check(counts, budgets, label, vm_failed=None):
    """The budget check as flat KTAP; True if every case passed."""
    results = []
    if vm_failed:
        results.append((False, f"{label} the VM run", vm_failed))
    calib = [c for c in counts.calib if c is not None]
    cal_ok = bool(calib) and all(CALIB_OK[0] <= c <= CALIB_OK[1] for c in calib)
    results.append((cal_ok, f"{label} instruction clock",
                    ("ns per instruction " + ", ".join(f"{c:.4f}" for c in calib)
                     if calib else "no calibration") + " (want 1.00: -icount)"))
    results.append((not counts.errors, f"{label} measurements ran",
                    f"{len(counts.errors)} failed"))
    for (case, mode), b in budgets.items():
        j = judge(counts, case, mode, b)
        results.append((bool(j["ok"]) and cal_ok, f"{label} {case} {mode}",
                        j["why"]))
    print("TAP version 13")
    print(f"1..{len(results)}")
    npass = 0
    for n, (ok, name, why) in enumerate(results, 1):
        npass += ok
        print(f"{'ok' if ok else 'not ok'} {n} {name} # {why}")
    print(f"# Totals: pass:{npass} fail:{len(results) - npass} xfail:0"
          " xpass:0 skip:0 error:0")
    return npass == len(results)


def update_budgets(path, lines, counts, label):
    """The budgets file with this run's measurements in column LABEL."""
    labels = header_labels(lines)
    if label not in labels:
        labels.append(label)
    rows, out = [], []
    for line in lines:
        p = line.split()
        if line.startswith("#") or len(p) < 3:
            if line.lstrip("# ").split()[:3] == list(COLUMNS):
                continue
            out.append(line)
            continue
        vals = dict(zip(labels, p[3:]))
        j = judge(counts, p[0], p[1], p[2])
        vals[label] = j.get("measured", "-")
        rows.append((p[0], p[1], p[2], [vals.get(lab, "-") for lab in labels]))
    head = ("#", *COLUMNS, *labels)
    widths = [max(len(x) for x in col) for col in zip(
        ("# " + COLUMNS[0], *COLUMNS[1:], *labels),
        *[(r[0], r[1], r[2], *r[3]) for r in rows])]
    fmt_row = lambda cells: "  ".join(f"{c:<{w}}" for c, w in zip(cells, widths)).rstrip()
    out.append(fmt_row(("# " + head[1], *head[2:])))
    for r in rows:
        out.append(fmt_row((r[0], r[1], r[2], *r[3])))
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(out) + "\n")
    os.replace(path + ".tmp", path)


def markdown(tab, counts, budgets):
    met, missed = [], []
    for (case, mode), b in budgets.items():
        j = judge(counts, case, mode, b)
        if "measured" not in j:
            continue
        (met if j["added"] <= j["allowed"] else missed).append(
            f"  - {case}, {mode}: {j['measured']} (budget {b})")
    body, _, checks = tab.partition("\nchecks:\n")
    return "\n".join([
        "## Instructions per operation",
        "",
        "Counted, not timed: a VM of its own under `-icount shift=0,sleep=off`"
        " on one vCPU, where the guest's clock advances one nanosecond per"
        " instruction executed ([README.md](README.md), \"Instruction"
        " counts\"). The budgets are [budgets](budgets).",
        "",
        "- within budget:" + ("" if met else " none"),
        *met,
        "- over budget:" + ("" if missed else " none"),
        *missed,
        "",
        "```",
        body.rstrip("\n"),
        "",
        "checks:",
        checks.rstrip("\n"),
        "```",
        "",
    ])


def main():
    args = sys.argv[1:]
    budgets_path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "budgets")
    do_check = do_update = False
    md = vm_failed = None
    pos = []
    while args:
        a = args.pop(0)
        if a == "--budgets" and args:
            budgets_path = args.pop(0)
        elif a == "--md" and args:
            md = args.pop(0)
        elif a == "--vm-failed" and args:
            vm_failed = args.pop(0)
        elif a == "--check":
            do_check = True
        elif a == "--update-budgets":
            do_update = True
        else:
            pos.append(a)
    if len(pos) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    console, label, outdir = pos
    records = parse(console)
    counts = Counts(records)
    lines, budgets = read_budgets(budgets_path)
    if not counts.info:
        print("icount.py: no instruction counts in " + console, file=sys.stderr)
        if do_check:
            why = f"none in {console}" + (f"; {vm_failed}" if vm_failed else "")
            print("TAP version 13\n1..1")
            print(f"not ok 1 {label} instruction counts # {why}")
            print("# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0")
        return 1
    tab = table(counts, budgets, label)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, f"icount-{label}.txt"), "w") as f:
        f.write(tab)
    with open(os.path.join(outdir, f"icount-{label}.json"), "w") as f:
        json.dump({"info": counts.info, "calib": counts.calib,
                   "insn_op": {f"{c} {m}": v for (c, m), v in counts.vals.items()},
                   "budgets": [judge(counts, c, m, b)
                               for (c, m), b in budgets.items()],
                   "raw": [r for r in records if r.get("case") != "info"]},
                  f, indent=1)
    if md:
        with open(md, "w") as f:
            f.write(markdown(tab, counts, budgets))
    if do_update:
        update_budgets(budgets_path, lines, counts, label)
    if do_check:
        return 0 if check(counts, budgets, label, vm_failed) else 1
    sys.stdout.write(tab)
    return 0


if __name__ == "__main__":
    sys.exit(main())
