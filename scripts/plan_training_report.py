"""plan.md of a training plan (scripts/plan_training.py; docs/plan.md "Training plans")."""


def config_text(r):
    sched = r["schedule"] + (f" v {r['virtual_stages']}" if str(r.get("virtual_stages")) not in ("", "1") else "")
    return (f"{r['devices']} devices: tp {r['tp']} x pp {r['pp']} x cp {r['cp']} x dp {r['dp']}"
            + (f" (ep {r['ep']})" if str(r["ep"]) != "1" else "")
            + f", {r['dtype']}, micro-batch {r['micro_batch']}"
            + (f", global batch {r['global_batch']}" if r.get("global_batch") not in (None, "") else "")
            + f", {sched}, ZeRO {r['zero']}, recompute {r['recompute']}")


def frontier(rows):
    """Pareto frontier of cost vs time-to-train: no faster point is as cheap."""
    pts = sorted((r for r in rows if "_t" in r), key=lambda r: (r["_t"], r["_c"], r["devices"], r["system"]))
    front, cheapest = [], float("inf")
    for r in pts:
        if r["_c"] < cheapest:
            front.append(r)
            cheapest = r["_c"]
    return front


def why_infeasible(s, rows):
    if s["pruned"]:
        return s["pruned"]
    mine = [r for r in rows if r["system"] == s["name"]]
    reasons = sorted({r["pruned"].split(" (")[0] for r in mine if r.get("pruned") and
                      not r["pruned"].startswith("invalid")} | {r.get("why", "") for r in mine if r.get("meets") == "0"})
    reasons = [x for x in reasons if x]
    if not reasons:
        return "no valid configuration in the search space (plan.csv: `invalid` rows)"
    return "; ".join(reasons[:3]) + (f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else "")


def markdown(planner, rows):
    svc, space = planner.svc, planner.space
    cur = space["prices"]["currency"]
    L = [f"# Training plan: {svc['model']} on {svc['tokens']:.4g} tokens", ""]
    goal = []
    if svc["deadline_s"] is not None:
        goal.append(f"deadline {svc['deadline_s'] / 86400:.4g} days")
    if svc["budget"] is not None:
        goal.append(f"budget {svc['budget']:.6g} {cur}")
    L.append(f"Service `{svc['file']}`: sequences of {svc['seq_len']} tokens, global batch {svc['global_batch']}; "
             + (", ".join(goal) if goal else "no deadline or budget (the fastest configuration is best)")
             + f". Each configuration simulated for {svc['steps']} step(s); time-to-train = tokens / tokens-per-s.")
    if space["prices"]["example"]:
        L.append(f"Prices: **the shipped example** `{space['prices']['file']}` (no `--prices` given). Prices are "
                 "the user's input: pass your own with `--prices`.")
    else:
        L.append(f"Prices: `{space['prices']['file']}` ({cur} per device-hour).")
    cands = space["candidates"]
    by = {}
    for c in cands:
        if c["pruned"]:
            k = c["pruned"].split(":")[0]
            by[k] = by.get(k, 0) + 1
    L.append(f"Search: {len(cands)} candidates; without simulation " +
             (", ".join(f"{k} {v}" for k, v in sorted(by.items())) or "none pruned") +
             f"; {len(planner.all_points)} simulations (docs/plan.md).")
    L += ["", "## Best configuration", ""]
    best = [r for r in rows if r.get("best") == "1"]
    if best:
        b = best[0]
        L.append(f"**{b['system']}** ({b['chip']}): {config_text(b)}; {b['tokens_per_s']} tokens/s (MFU {b['mfu']}), "
                 f"**{b['time_to_train_days']} days, {b['cost']} {cur}** ({b['cost_per_hour']} {cur}/h).")
    else:
        L.append("No configuration meets the deadline / budget on any system.")
    L += ["", "## Per system", "", f"| system | chip | best configuration | tokens/s | MFU | days | {cur} | meets | "
          "model check |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in space["systems"]:
        mine = [r for r in rows if r["system"] == s["name"] and "_t" in r]
        sb = [r for r in rows if r.get("system_best") == "1" and r["system"] == s["name"]]
        if not sb and mine:  # nothing meets: show the fastest, marked
            sb = [min(mine, key=lambda r: (r["_t"], r["_c"]))]
        if sb:
            r = sb[0]
            L.append(f"| {s['name']} | {s['chip']} | {config_text(r)} | {r['tokens_per_s']} | {r['mfu']} | "
                     f"{r['time_to_train_days']} | {r['cost']} | {'yes' if r['meets'] == '1' else 'no: ' + r['why']} | "
                     f"{s.get('validation', '')} |")
        else:
            L.append(f"| {s['name']} | {s['chip']} | infeasible: {why_infeasible(s, rows)} | | | | | | |")
    L += ["", "Model check: the chip's held-out rows in docs/validation.md, all kinds (mean speed error: + = the "
          "simulation runs faster than measured). Weigh a system's answer by it."]
    L += ["", "## Pareto frontier (cost vs time-to-train)", "", f"| days | {cur} | system | configuration |",
          "| --- | --- | --- | --- |"]
    for r in frontier(rows):
        L.append(f"| {r['time_to_train_days']} | {r['cost']} | {r['system']} | {config_text(r)} |")
    L += ["", "Every evaluated point, pruned ones with the reason: plan.csv; every run: runs/results.csv.", ""]
    return "\n".join(L) + "\n"
