"""plan.csv, plan.md and the plan's plots (scripts/plan_search.py; docs/plan.md)."""
import csv
import os
import subprocess
import sys

COLUMNS = ["system", "chip", "tp", "pp", "replicas", "prefill_replicas", "devices", "dtype", "max_batch",
           "max_batched_tokens", "chunked_prefill", "capacity_rps", "bound_rps", "cost_per_hour", "cost_per_mtok",
           "meets", "best", "system_best", "pruned", "ttft_p99_s", "tpot_p99_s", "tpot_mean_s", "e2e_p99_s",
           "attainment", "why"]
TARGET_METRIC = {"ttft_p99": "ttft_p99_s", "tpot_p99": "tpot_p99_s", "tpot_mean": "tpot_mean_s",
                 "e2e_p99": "e2e_p99_s"}


def judge(res, summary, svc):
    """Whether one run met the service's targets, with its metrics and the reason if not."""
    rc = res.get("exit_code")
    out = {"meets": False, "why": "", "infeasible": False}
    if rc != 0:
        err = res.get("error", "") or f"exit {rc}"
        out["why"] = ("stopped early: " if "stop_below_attainment" in err else "") + err
        out["infeasible"] = rc == 3 and "stop_below_attainment" not in err
        return out
    inf = summary.get("inference", {})
    n, done = inf.get("requests", 0), inf.get("completed", 0)
    out["ttft_p99_s"] = inf.get("ttft_s", {}).get("p99")
    out["tpot_p99_s"] = inf.get("tpot_s", {}).get("p99")
    out["tpot_mean_s"] = inf.get("tpot_s", {}).get("mean")
    out["e2e_p99_s"] = inf.get("e2e_s", {}).get("p99")
    slo = inf.get("slo") or {}
    # Attainment over all requests (a rejected request missed): slo.attainment is over completed.
    out["attainment"] = slo.get("attainment", 0) * done / n if n and "attainment" in slo else None
    t = svc["targets"]
    misses = []
    if done < n:
        misses.append(f"{n - done} of {n} requests not completed")
    if t.get("attainment") is not None:
        if out["attainment"] is None or out["attainment"] < t["attainment"]:
            misses.append(f"attainment {out['attainment']} < {t['attainment']}")
    else:
        for k in ("ttft_p99", "tpot_p99"):
            v = out[TARGET_METRIC[k]]
            if t.get(k) is not None and (v is None or v > t[k]):
                misses.append(f"{k} {v} s > {t[k]} s")
    for k in ("tpot_mean", "e2e_p99"):
        v = out[TARGET_METRIC[k]]
        if t.get(k) is not None and (v is None or v > t[k]):
            misses.append(f"{k} {v} s > {t[k]} s")
    out["meets"] = not misses
    out["why"] = "; ".join(misses)
    return out


def g6(x):
    return "" if x is None else f"{x:.6g}"


def rows(planner, state):
    svc, systems = planner.svc, planner.systems
    out = []
    for s in planner.space["systems"]:
        if s["pruned"]:
            out.append({"system": s["name"], "chip": s["chip"], "pruned": s["pruned"]})
    for c in planner.space["candidates"]:
        if c["pruned"]:
            out.append(base_row(c, systems[c["system"]], None, None) | {"pruned": c["pruned"]})
    for s in state:
        for r, o in sorted(s.get("probes", {}).items()):
            row = base_row(s["c"], systems[s["c"]["system"]], r, o)
            if r == s["R"]:
                cap = s["capacity_rps"]
                row["capacity_rps"] = g6(cap)
                per_hour = float(row["cost_per_hour"])
                tokens_per_hour = cap * 3600.0 * svc["mean_output_tokens"]
                row["cost_per_mtok"] = g6(per_hour / (tokens_per_hour / 1e6)) if tokens_per_hour > 0 else ""
            if o.get("infeasible"):
                row["pruned"] = "simulation: " + o["why"]
            out.append(row)
    mark_best(out)
    return out


def prefill_replicas(cand, replicas):
    """Disaggregated pool size: the share of replicas, at least one, leaving one to decode."""
    share = cand.get("prefill_share", 0) or 0
    if share <= 0:
        return 0
    return min(replicas - 1, max(1, round(share * replicas)))


def base_row(c, sys_, replicas, o):
    row = {"system": c["system"], "chip": sys_["chip"], "tp": c["tp"], "pp": c["pp"], "dtype": c["dtype"],
           "max_batch": c.get("max_batch", ""), "max_batched_tokens": c.get("max_batched_tokens", ""),
           "chunked_prefill": {True: "true", False: "false"}.get(c.get("chunked_prefill"), ""),
           "bound_rps": g6(c.get("bound_rps_per_replica")), "pruned": ""}
    if replicas is not None:
        devices = replicas * c["tp"] * c["pp"]
        row.update({"replicas": replicas, "prefill_replicas": prefill_replicas(c, replicas), "devices": devices,
                    "cost_per_hour": g6(devices * sys_["price_per_device_hour"]),
                    "meets": "1" if o["meets"] else "0", "why": o["why"]})
        for k in ("ttft_p99_s", "tpot_p99_s", "tpot_mean_s", "e2e_p99_s", "attainment"):
            row[k] = g6(o.get(k))
    return row


def sort_key(r):
    # Cheapest first; then the most capacity; then fewer devices; then a stable text order.
    cap = float(r["capacity_rps"]) if r.get("capacity_rps") else 0.0
    return (float(r["cost_per_hour"]), -cap, r["devices"], r["system"], r["dtype"], r["tp"], r["pp"])


def mark_best(out):
    meeting = [r for r in out if r.get("meets") == "1" and r.get("capacity_rps")]
    for r in out:
        r["best"], r["system_best"] = "0" if r.get("meets") else "", "0" if r.get("meets") else ""
    if meeting:
        min(meeting, key=sort_key)["best"] = "1"
    for name in {r["system"] for r in meeting}:
        min([r for r in meeting if r["system"] == name], key=sort_key)["system_best"] = "1"


def write_csv(path, rows_):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, restval="", extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in rows_:
            w.writerow(r)
    os.replace(tmp, path)


def frontier(rows_):
    """Pareto frontier of cost per hour vs capacity: no other point is as cheap with more capacity."""
    pts = sorted((r for r in rows_ if r.get("capacity_rps") and float(r["capacity_rps"]) > 0), key=sort_key)
    front, best_cap = [], 0.0
    for r in pts:
        if float(r["capacity_rps"]) > best_cap:
            front.append(r)
            best_cap = float(r["capacity_rps"])
    return front


def config_text(r):
    pre = f", {r['prefill_replicas']} prefill" if r.get("prefill_replicas") else ""
    return (f"tp {r['tp']} x pp {r['pp']} x {r['replicas']} replicas{pre}, {r['dtype']}, batch {r['max_batch']}, "
            f"{r['max_batched_tokens']} tok/iter, chunked {r['chunked_prefill']}")


def margins(r, svc):
    t, parts = svc["targets"], []
    cap = float(r["capacity_rps"]) if r.get("capacity_rps") else 0.0
    parts.append(f"capacity {cap / svc['demand_rps']:.2f}x the traffic")
    for k, m in TARGET_METRIC.items():
        if t.get(k) is not None and r.get(m):
            parts.append(f"{k} {float(r[m]):.3g} s of {t[k]:.3g} s ({100 * (1 - float(r[m]) / t[k]):.0f} % margin)")
    if t.get("attainment") is not None and r.get("attainment"):
        parts.append(f"attainment {float(r['attainment']):.3f} of {t['attainment']}")
    return "; ".join(parts)


def markdown(planner, rows_, state):
    svc, space = planner.svc, planner.space
    cur = space["prices"]["currency"]
    L = [f"# Plan: {svc['model']} at {svc['demand_rps']:.4g} req/s", ""]
    L.append(f"Service `{svc['file']}`: {svc['requests']} requests, mean {svc['mean_prompt_tokens']:.0f} prompt / "
             f"{svc['mean_output_tokens']:.0f} output tokens; targets " +
             ", ".join(f"{k} {v:g}" + ("" if k == "attainment" else " s") for k, v in svc["targets"].items()
                       if v is not None) + ".")
    if space["prices"]["example"]:
        L.append(f"Prices: **the shipped example** `{space['prices']['file']}` (no `--prices` given). Prices are "
                 "the user's input: pass your own with `--prices`.")
    else:
        L.append(f"Prices: `{space['prices']['file']}` ({cur} per device-hour).")
    cands = space["candidates"]
    pruned = [c for c in cands if c["pruned"]]
    by = {}
    for c in pruned:
        by[c["pruned"].split(":")[0]] = by.get(c["pruned"].split(":")[0], 0) + 1
    L.append(f"Search: {len(cands)} candidates, {len(pruned)} pruned without simulation (" +
             (", ".join(f"{k} {v}" for k, v in sorted(by.items())) or "none") +
             f"), {len(planner.all_points)} simulations (docs/plan.md).")
    L += ["", "## Best configuration", ""]
    best = [r for r in rows_ if r.get("best") == "1"]
    if best:
        b = best[0]
        L.append(f"**{b['system']}** ({b['chip']}): {config_text(b)}; {b['devices']} devices, "
                 f"{b['cost_per_hour']} {cur}/h, {b['cost_per_mtok']} {cur} per million output tokens at capacity. "
                 f"Margin: {margins(b, svc)}.")
    else:
        L.append("No configuration meets the targets on any system.")
    L += ["", "## Per system", "", f"| system | chip | best configuration | devices | {cur}/h | capacity req/s | "
          f"{cur}/Mtok | margin | model check |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in space["systems"]:
        sb = [r for r in rows_ if r.get("system_best") == "1" and r["system"] == s["name"]]
        if sb:
            r = sb[0]
            L.append(f"| {s['name']} | {s['chip']} | {config_text(r)} | {r['devices']} | {r['cost_per_hour']} | "
                     f"{r['capacity_rps']} | {r['cost_per_mtok']} | {margins(r, svc)} | {s.get('validation', '')} |")
        else:
            L.append(f"| {s['name']} | {s['chip']} | infeasible: {why_infeasible(s, rows_)} | | | | | | |")
    L += ["", "Model check: the chip's held-out rows in docs/validation.md (mean speed error: + = the simulation "
          "runs faster than measured). Weigh a system's answer by it."]
    L += ["", "## Pareto frontier (cost vs capacity)", "", f"| {cur}/h | capacity req/s | system | configuration |",
          "| --- | --- | --- | --- |"]
    for r in frontier(rows_):
        L.append(f"| {r['cost_per_hour']} | {r['capacity_rps']} | {r['system']} | {config_text(r)} |")
    L += ["", "Every evaluated point, pruned ones with the reason: plan.csv; every run: runs/results.csv.", ""]
    return "\n".join(L) + "\n"


def why_infeasible(s, rows_):
    if s["pruned"]:
        return s["pruned"]
    mine = [r for r in rows_ if r["system"] == s["name"]]
    reasons = sorted({r["pruned"] for r in mine if r.get("pruned")} | {r.get("why", "") for r in mine if r.get("meets") == "0"})
    reasons = [x for x in reasons if x]
    if not reasons:
        return "no configuration of the search space"
    return "; ".join(reasons[:3]) + (f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else "")


def plots(outdir):
    """Runs `scripts/plot plan DIR`; returns a note for the final line."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plot")
    r = subprocess.run([sys.executable, script, "plan", outdir], capture_output=True, text=True)
    if r.returncode != 0:
        return f"; no plots ({(r.stderr.strip().splitlines() or ['scripts/plot failed'])[-1]})"
    return f", {outdir}/plots/"
