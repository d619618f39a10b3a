"""Serving figures for scripts/plot: latency CDFs and latency over time from one run's
requests.csv (docs/inference.md lists its columns), throughput and goodput vs load from a
sweep's results.csv. Each fig_* function returns the figure; scripts/plot saves it (and a
test reads the drawn lines back from it). scripts/plot selects the Agg backend first."""
import csv
import math
import os
import re

import matplotlib.pyplot as plt

REQUEST_FILES = ["latency_cdf", "latency_over_time"]
PERCENTILES = (50, 95, 99)
METRICS = (("TTFT", "ttft_s"), ("TPOT", "tpot_s"), ("e2e", "e2e_s"))
# Grid keys that read as the offered load when --load-key is not given, in this order.
LOAD_WORDS = ("rate", "load", "concurrency", "time_scale")


def empty(ax, why):
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def number(text):
    try:
        v = float(text)
        return v if math.isfinite(v) else None
    except (TypeError, ValueError):
        return None


def percentile(sorted_values, p):
    """Linear between the closest ranks: the definition of summary.json's p50/p95/p99
    (sim/workloads/inference/metrics.cpp), so a marker reads the same as the summary."""
    n = len(sorted_values)
    pos = p / 100.0 * (n - 1)
    lo = int(pos)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def seconds_text(v):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(v) >= scale or unit == "us":
            return f"{v / scale:.4g} {unit}"
    return f"{v:.4g} s"


def read_requests(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def latencies(rows):
    """{metric: values} over completed requests. TPOT only where output_tokens > 1, as in
    summary.json (requests.csv writes 0 for one output token)."""
    done = [r for r in rows if r.get("status") == "completed"]
    out = {}
    for name, col in METRICS:
        vals = []
        for r in done:
            if col == "tpot_s" and (number(r.get("output_tokens")) or 0) <= 1:
                continue
            v = number(r.get(col))
            if v is not None:
                vals.append(v)
        out[name] = vals
    return out


def slo_of(summary):
    """{metric: (bound_s, attainment)} from summary.json inference.slo (null bounds skipped)."""
    slo = (summary.get("inference") or {}).get("slo") or {}
    out = {}
    for name, bound, att in (("TTFT", "ttft_s", "ttft_attainment"), ("TPOT", "tpot_s", "tpot_attainment")):
        if number(slo.get(bound)) is not None:
            out[name] = (slo[bound], slo.get(att))
    return out


def status_note(rows):
    counts = {}
    for r in rows:
        counts[r.get("status", "")] = counts.get(r.get("status", ""), 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))


def fig_latency_cdf(rows, summary, source):
    """TTFT, TPOT, e2e: empirical CDF of the completed requests, p50/p95/p99 marked (label
    `pNN VALUE`), and the SLO bound with its attainment when summary.json has one."""
    series = latencies(rows)
    slo = slo_of(summary)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    styles = {50: ":", 95: "-.", 99: "--"}
    for ax, (name, _col) in zip(axes, METRICS):
        vals = sorted(series[name])
        ax.set_title(name)
        if not vals:
            empty(ax, f"no completed requests with {name} in {source}")
            continue
        n = len(vals)
        ax.step(vals, [(i + 1) / n for i in range(n)], where="post", color="tab:blue", label=f"{n} requests")
        for p in PERCENTILES:
            v = percentile(vals, p)
            ax.axvline(v, color="tab:gray", linestyle=styles[p], linewidth=1, label=f"p{p} {seconds_text(v)}")
        if name in slo:
            bound, att = slo[name]
            meet = f" ({100 * att:.1f} % meet it)" if number(att) is not None else ""
            ax.axvline(bound, color="tab:red", linewidth=1.5, label=f"SLO {seconds_text(bound)}{meet}")
        ax.set_xlabel(f"{name} (s)")
        ax.set_ylabel("fraction of requests")
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"Latency CDFs ({status_note(rows) or 'no requests'})")
    return fig


def rolling_at(n, window):
    """Indices (window-1 .. n-1) where the rolling percentiles are evaluated: every one, or
    about 400 evenly spaced on long runs (each costs a sort of the window)."""
    step = max(1, (n - window + 1) // 400)
    idx = list(range(window - 1, n, step))
    return idx if idx[-1] == n - 1 else idx + [n - 1]


def rolling(values, window, p, at):
    """p-th percentile of the `window` values ending at each index in `at`."""
    return [percentile(sorted(values[i + 1 - window:i + 1]), p) for i in at]


def fig_latency_over_time(rows, source):
    """TTFT and TPOT of each completed request against its arrival time, with the p50 and
    p99 of the last `window` requests (by arrival) drawn through them."""
    fig, axes = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True)
    done = sorted((r for r in rows if r.get("status") == "completed"), key=lambda r: number(r.get("arrival_s")) or 0)
    rejected = sum(1 for r in rows if r.get("status") == "rejected")
    for ax, (name, col) in zip(axes, METRICS[:2]):
        pts = [(number(r.get("arrival_s")), number(r.get(col))) for r in done
               if col != "tpot_s" or (number(r.get("output_tokens")) or 0) > 1]
        pts = [p for p in pts if p[0] is not None and p[1] is not None]
        ax.set_ylabel(f"{name} (s)")
        if not pts:
            empty(ax, f"no completed requests with {name} in {source}")
            continue
        # Past a few thousand dots the SVG would hold one element each: draw them as an image.
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=6, alpha=0.5, color="tab:blue",
                   label=f"{name} ({len(pts)} requests)", rasterized=len(pts) > 5000)
        # A tenth of the run per window, 20 to 1000 requests (a p99 of fewer than 100 is
        # close to their maximum; the legend gives the window).
        window = max(20, min(1000, len(pts) // 10))
        if len(pts) >= window:
            at = rolling_at(len(pts), window)
            for p, colour in ((50, "tab:green"), (99, "tab:red")):
                ax.plot([pts[i][0] for i in at], rolling([q[1] for q in pts], window, p, at), color=colour, linewidth=1.5,
                        label=f"rolling p{p} (last {window} requests)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    axes[-1].set_xlabel("arrival time (simulated s)")
    note = f", {rejected} rejected (not drawn)" if rejected else ""
    fig.suptitle(f"Latency over the run ({len(done)} completed{note})")
    return fig


def load_value(text):
    """Leading number of a grid value: '4/s' -> 4, '250 ms' -> 250, '0.5' -> 0.5."""
    m = re.match(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)", text or "")
    return float(m.group(1)) if m else None


def load_unit(rows, key):
    """' (/s)' when the grid values carry a unit after the number ('4/s'), else ''."""
    for r in rows:
        m = re.match(r"\s*[-+.\deE]+\s*(\S.*)$", r.get(key) or "")
        if m:
            return f" ({m.group(1).strip()})"
    return ""


def pick_load_key(grid_keys, wanted):
    if wanted:
        return wanted if wanted in grid_keys else None
    for word in LOAD_WORDS:
        for k in grid_keys:
            if word in k.rsplit(".", 1)[-1]:
                return k
    return grid_keys[0] if grid_keys else None


def curve_label(row, other_keys, with_workload):
    parts = [os.path.splitext(os.path.basename(row["topology"]))[0]]
    if with_workload:
        parts.append(os.path.splitext(os.path.basename(row["workload"]))[0])
    parts += [f"{k.rsplit('.', 1)[-1]}={row[k]}" for k in other_keys if row.get(k)]
    return " ".join(parts)


def throughput_curves(rows, grid_keys, load_key, column):
    """{curve label: [(load, value)] sorted by load}: one curve per topology (x workload,
    x the other grid keys), the points of successful rows with both numbers."""
    others = [k for k in grid_keys if k != load_key]
    many_workloads = len({r["workload"] for r in rows}) > 1
    curves = {}
    for r in rows:
        x, y = load_value(r.get(load_key)), number(r.get(column))
        if x is not None and y is not None:
            curves.setdefault(curve_label(r, others, many_workloads), []).append((x, y))
    return {k: sorted(v) for k, v in curves.items()}


def fig_throughput_load(rows, grid_keys, load_key, source):
    """Output tokens/s and goodput (tokens/s of the requests meeting the SLO) vs the load
    key, one curve per topology."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = (("output tokens/s", "inference.output_tokens_per_s", ""),
              ("goodput (output tokens/s within SLO)", "inference.slo.goodput_tokens_per_s",
               " (add `slo: {ttft: ..., tpot: ...}` to the workload)"))
    for ax, (title, column, hint) in zip(axes, panels):
        ax.set_title(title)
        if not load_key:
            empty(ax, "no load axis: sweep one, e.g. --grid workload.requests.rate=1/s,4/s,16/s")
            continue
        curves = throughput_curves(rows, grid_keys, load_key, column)
        if not curves:
            empty(ax, f"no rows with {column} and a numeric {load_key} in {source}{hint}")
            continue
        for label in sorted(curves):
            ax.plot([p[0] for p in curves[label]], [p[1] for p in curves[label]], marker="o", label=label)
        xs = [p[0] for v in curves.values() for p in v]
        if min(xs) > 0 and max(xs) >= 20 * min(xs):  # geometric load steps (1, 4, 16, 64/s) read better
            ax.set_xscale("log")
        ax.set_xlabel(f"{load_key}{load_unit(rows, load_key)}")
        ax.set_ylabel(title)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Throughput vs load")
    return fig
