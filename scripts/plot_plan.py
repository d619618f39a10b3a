"""The figures of an `llmsim plan` folder (scripts/plot plan DIR; docs/plan.md): a serving
plan's cost vs capacity frontier and latency vs load, a training plan's cost vs
time-to-train frontier."""
import csv
import json
import os

import matplotlib.pyplot as plt

FILES = ["plan_frontier", "plan_latency_load"]  # serving plans
TRAINING_FILES = ["plan_frontier"]  # training plans: cost vs time-to-train


def is_training(d):
    """A training plan's folder: plan_space.json says `"mode": "training"`."""
    try:
        with open(os.path.join(d, "plan_space.json")) as f:
            return json.load(f).get("mode") == "training"
    except (OSError, ValueError):
        return False


def pareto_time_cost(pts):
    """(days, cost) points no faster point is as cheap as: sorted by time, cost falling."""
    front, cheapest = [], float("inf")
    for x, y in sorted(pts):
        if y < cheapest:
            front.append((x, y))
            cheapest = y
    return front


def fig_training_frontier(rows, deadline_days=None, budget=None, currency=""):
    """Cost vs time-to-train, one colour per system with its Pareto frontier (lower left is
    better); the system's best circled; the deadline and budget drawn when given."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    pts = [r for r in rows if r.get("time_to_train_days") and r.get("cost")]
    for name in sorted({r["system"] for r in pts}):
        mine = [(float(r["time_to_train_days"]), float(r["cost"])) for r in pts if r["system"] == name]
        dots = ax.scatter([x for x, _ in mine], [y for _, y in mine], s=14, label=name)
        front = pareto_time_cost(mine)
        ax.plot([x for x, _ in front], [y for _, y in front], "-", color=dots.get_facecolor()[0], lw=1,
                label=f"{name} frontier")
        for r in pts:
            if r["system"] == name and r.get("system_best") == "1":
                ax.scatter([float(r["time_to_train_days"])], [float(r["cost"])], s=90, facecolors="none",
                           edgecolors="black")
    if deadline_days:
        ax.axvline(deadline_days, color="grey", ls="--", lw=1, label="deadline")
    if budget:
        ax.axhline(budget, color="grey", ls=":", lw=1, label="budget")
    if not pts:
        ax.text(0.5, 0.5, "no configuration simulated", ha="center", transform=ax.transAxes)
    ax.set_xlabel("time to train (days)")
    ax.set_ylabel(f"cost ({currency})" if currency else "cost")
    ax.set_title("Cost vs time-to-train per system (circled: the system's best)")
    if pts:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def read_rows(d):
    with open(os.path.join(d, "plan.csv"), newline="") as f:
        return list(csv.DictReader(f))


def fig_frontier(rows):
    """Cost per hour vs capacity, one colour per system; the system's best circled."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    pts = [r for r in rows if r.get("capacity_rps") and float(r["capacity_rps"]) > 0]
    for name in sorted({r["system"] for r in pts}):
        mine = sorted((r for r in pts if r["system"] == name), key=lambda r: float(r["cost_per_hour"]))
        xs = [float(r["cost_per_hour"]) for r in mine]
        ys = [float(r["capacity_rps"]) for r in mine]
        line = ax.scatter(xs, ys, s=14, label=name)
        fx, fy, top = [], [], 0.0  # this system's frontier: more capacity than every cheaper point
        for x, y in zip(xs, ys):
            if y > top:
                fx.append(x)
                fy.append(y)
                top = y
        ax.step(fx, fy, where="post", color=line.get_facecolor()[0], lw=1)
        for r in mine:
            if r.get("system_best") == "1":
                ax.scatter([float(r["cost_per_hour"])], [float(r["capacity_rps"])], s=90, facecolors="none",
                           edgecolors="black")
    if not pts:
        ax.text(0.5, 0.5, "no configuration with a measured capacity", ha="center", transform=ax.transAxes)
    ax.set_xlabel("cost per hour")
    ax.set_ylabel("capacity (req/s meeting the targets)")
    ax.set_title("Cost vs capacity per system (circled: the system's cheapest meeting the targets)")
    if pts:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def fig_latency_load(d, rows):
    """TTFT p99 and TPOT p99 vs offered load for each system's chosen configuration."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    try:
        with open(os.path.join(d, "plan_curves.json")) as f:
            curves = json.load(f)
    except (OSError, ValueError):
        curves = []
    chosen = {(r["system"], r["tp"], r["pp"], r["replicas"], r["dtype"], r["max_batch"], r["max_batched_tokens"])
              for r in rows if r.get("system_best") == "1"}
    drawn = 0
    for c in curves:
        key = (c["system"], str(c["tp"]), str(c["pp"]), str(c["replicas"]), c["dtype"], str(c["max_batch"]),
               str(c["max_batched_tokens"]))
        pts = [p for p in c["points"] if p[1] is not None]
        if key not in chosen or not pts:
            continue
        label = f"{c['system']} tp{c['tp']} pp{c['pp']} x{c['replicas']} {c['dtype']}"
        a1.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=label)
        a2.plot([p[0] for p in pts], [p[2] for p in pts], "o-", label=label)
        drawn += 1
    for ax, what in ((a1, "TTFT p99 (s)"), (a2, "TPOT p99 (s)")):
        ax.set_xlabel("offered load (req/s)")
        ax.set_ylabel(what)
        ax.grid(alpha=0.3)
        if drawn:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "no chosen configuration", ha="center", transform=ax.transAxes)
    fig.suptitle("Latency vs load of each system's chosen configuration (runs stopped early have none)")
    return fig


def plot(d, out, save):
    rows = read_rows(d)
    if is_training(d):
        with open(os.path.join(d, "plan_space.json")) as f:
            space = json.load(f)
        svc = space.get("service", {})
        deadline = svc.get("deadline_s")
        fig = fig_training_frontier(rows, deadline / 86400 if deadline else None, svc.get("budget"),
                                    space.get("prices", {}).get("currency", ""))
        return save(fig, out, "plan_frontier")
    return save(fig_frontier(rows), out, "plan_frontier") + save(fig_latency_load(d, rows), out, "plan_latency_load")
