"""Roofline figure for scripts/plot run: operator spans of timeline.json (or microbench rows
of summary.json) under the chip's roof from `llmsim devices --format json`. scripts/plot
selects the Agg backend first."""
import json
import os
import re
import subprocess
import sys

import matplotlib.pyplot as plt

from plot_serving import empty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def chip_roof(device, llmsim):
    """(peak FLOP/s by dtype, fastest off-chip-ish bandwidth = the tier weights live in)."""
    if not device:
        return None
    try:
        out = subprocess.run([llmsim, "devices", "--format", "json"], capture_output=True, text=True, check=True).stdout
        chips = json.loads(out)
    except (OSError, subprocess.CalledProcessError, ValueError) as e:
        print(f"plot: warning: no roofline for {device}: `{llmsim} devices --format json` failed ({e})", file=sys.stderr)
        return None
    for chip in chips:
        if chip.get("name") == device:
            tiers = {t["tier"]: t["bandwidth_bytes_per_s"] for t in chip.get("memory", [])}
            main = chip.get("placement", {}).get("weights") or (list(tiers)[-1] if tiers else None)
            return chip.get("peak_flops", {}), tiers.get(main, 0), main
    sys.exit(f"plot: error: no chip named '{device}' in `llmsim devices`")


def device_of(topology):
    """Best effort: the chip of a shipped topology (topologies/NAME.yaml), following
    `nodes: {topology: ...}` down a hierarchy. None when it cannot tell."""
    name = f"{topology}.yaml" if topology and not topology.endswith(".yaml") else topology
    for _ in range(4):
        path = os.path.join(ROOT, "topologies", name or "")
        if not name or not os.path.exists(path):
            return None
        with open(path) as f:
            text = f.read()
        m = re.search(r"^device:\s*([\w.-]+)", text, re.M)
        if m:
            return None if m.group(1).endswith(".yaml") else m.group(1)
        m = re.search(r"topology:\s*([\w./-]+\.yaml)", text)
        name = m.group(1) if m else None
    return None


def resolved_inputs(outdir):
    """(workload dtype, chip name) from OUTDIR/config.resolved.yaml, read line by line (the
    file is llmsim's own, block style, two-space indents): `workload: dtype:`, and the chip
    from `topology: device:`, else the only chip under `chips:`. None where absent."""
    path = os.path.join(outdir, "config.resolved.yaml")
    if not os.path.exists(path):
        return None, None
    section, dtype, device, chips = None, None, None, []
    with open(path) as f:
        for line in f:
            m = re.match(r"([\w]+):\s*$", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"  ([\w.-]+):\s*(\S*)", line)
            if not m:
                continue
            if section == "workload" and m.group(1) == "dtype":
                dtype = m.group(2)
            elif section == "topology" and m.group(1) == "device":
                device = m.group(2)
            elif section == "chips" and not m.group(2):
                chips.append(m.group(1))
    if device is None and len(chips) == 1:
        device = chips[0]
    return dtype or None, device


def roofline_points(events, summary, workload_dtype):
    """{legend label: (dtype, [(FLOP/byte, FLOP/s)])}: operator spans with flops and bytes by
    their dtype. Inference iteration spans carry dtype "" (a whole iteration mixes weight,
    KV and activation ops): they go under the workload's weight dtype, and the label says so."""
    pts = {}
    for e in events:
        a = e.get("args") or {}
        if e.get("ph") == "X" and a.get("flops") and a.get("bytes") and e.get("dur", 0) > 0:
            dtype = a.get("dtype") or None
            if dtype:
                label = f"ops ({dtype})"
            elif workload_dtype:
                dtype, label = workload_dtype, f"ops ({workload_dtype}: the workload's dtype; spans carry none)"
            else:
                label = "ops (dtype unknown)"
            pts.setdefault(label, (dtype, []))[1].append((a["flops"] / a["bytes"], a["flops"] / (e["dur"] * 1e-6)))
    for m in ([] if pts else summary.get("microbench", []) or []):  # the same ops, when no timeline
        if m.get("tflops") and m.get("bytes_per_s"):
            label = f"microbench ({m['dtype']})" if m.get("dtype") else "microbench"
            pts.setdefault(label, (m.get("dtype"), []))[1].append((m["tflops"] * 1e12 / m["bytes_per_s"],
                                                                    m["tflops"] * 1e12))
    return pts


def fig_roofline(events, summary, device, workload_dtype, llmsim):
    pts = roofline_points(events, summary, workload_dtype)
    fig, ax = plt.subplots(figsize=(7, 5))
    if pts:
        for label in sorted(pts):
            # A serving run has thousands of iteration spans: past 5000 dots the SVG gets an image.
            ax.scatter([p[0] for p in pts[label][1]], [p[1] for p in pts[label][1]], s=14, label=label,
                       rasterized=len(pts[label][1]) > 5000)
        roof = chip_roof(device, llmsim)
        xs = [p[0] for _, v in pts.values() for p in v]
        lo, hi = min(xs) / 4, max(xs) * 4
        if roof:
            peaks, bw, tier = roof
            for dtype in sorted({d for d, _ in pts.values() if d in peaks}):
                ridge = [lo, peaks[dtype] / bw, hi] if bw else [lo, hi]
                ax.plot(ridge, [min(peaks[dtype], bw * x) for x in ridge], "--", label=f"roof {dtype} ({tier})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("arithmetic intensity (FLOP/byte)")
        ax.set_ylabel("achieved FLOP/s")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    else:
        empty(ax, "no operators with flops/bytes (run with --timeline, or a microbench workload)")
    ax.set_title("Roofline" + (f": {device}" if device else ""))
    return fig
