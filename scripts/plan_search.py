#!/usr/bin/env python3
"""The simulating half of `llmsim plan` (issue 15; docs/plan.md).

  python3 scripts/plan_search.py DIR [-j N] [--slurm] [--llmsim PATH]

`llmsim plan` writes DIR/plan_space.json (the candidates per system, already pruned by
memory fit and the roofline bound) and DIR/service-workload.yaml, then runs this. It
simulates in rounds through the sweep runner (scripts/sweep: GNU parallel or threads
locally, a Slurm array per round with --slurm), every point a `llmsim run` child in
DIR/runs/points/ID, so a rerun reuses every finished point (resumable):

  1. replicas: per candidate, the fewest replicas in [min_replicas, max_replicas] that
     meet the targets at the traffic's own rate (max first, then bisection; more replicas
     never serve less);
  2. capacity: at that replica count (or the most, if none meets), the highest multiple
     of the traffic's rate that meets the targets, by log-space bisection on the load.

Runs whose targets can no longer be met stop early (slo.stop_below_attainment). Writes
DIR/plan.csv, DIR/plan.md and, with matplotlib, DIR/plots/ (scripts/plot plan).
A training service (`"mode": "training"`) is searched by scripts/plan_training.py.
"""
import argparse
import csv
import importlib.machinery
import importlib.util
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
_loader = importlib.machinery.SourceFileLoader("sweep", os.path.join(HERE, "sweep"))
_spec = importlib.util.spec_from_loader("sweep", _loader)
sweep = importlib.util.module_from_spec(_spec)
_loader.exec_module(sweep)
import plan_report  # noqa: E402  (after sys.path)
from plan_report import prefill_replicas  # noqa: E402


def fmt_load(x):
    """A load multiple as the same text every time (point ids hash the --set text)."""
    return repr(float(f"{x:.6g}"))


class Planner:
    def __init__(self, outdir, jobs, slurm, llmsim):
        self.outdir = os.path.abspath(outdir)
        self.space = sweep.read_json(os.path.join(self.outdir, "plan_space.json"))
        if self.space is None:
            sweep.die(f"plan: error: {outdir}/plan_space.json missing (run `llmsim plan`)")
        self.svc = self.space["service"]
        self.systems = {s["name"]: s for s in self.space["systems"]}
        self.jobs, self.slurm, self.llmsim = jobs, slurm, llmsim
        self.workload = os.path.join(self.outdir, "service-workload.yaml")
        self.runs = os.path.join(self.outdir, "runs")
        self.all_points = []
        self.results = {}  # point id -> outcome dict
        self.crashed = []  # point ids without a deterministic result

    # ---- one point -------------------------------------------------------------------
    def point(self, cand, replicas, load):
        sys_ = self.systems[cand["system"]]
        per = cand["tp"] * cand["pp"]
        sets = []
        if sys_["resizable"]:
            sets.append(["topology.count", str(replicas * per)])
        sets += [["workload.dtype", cand["dtype"]], ["workload.parallelism.tp", str(cand["tp"])],
                 ["workload.parallelism.pp", str(cand["pp"])],
                 ["workload.scheduler.max_batch", str(cand["max_batch"])],
                 ["workload.scheduler.max_batched_tokens", str(cand["max_batched_tokens"])],
                 ["workload.scheduler.chunked_prefill", "true" if cand["chunked_prefill"] else "false"]]
        pre = prefill_replicas(cand, replicas)
        if pre:
            sets.append(["workload.disaggregation.prefill_replicas", str(pre)])
        key = self.svc["load_key"]
        if key.endswith("time_scale"):
            sets.append([key, fmt_load(self.svc["base_time_scale"] / load)])
        else:
            sets.append([key, fmt_load(self.svc["demand_rps"] * load) + "/s"])
        pid = sweep.point_id(sys_["topology"], self.workload, sets, [])
        return {"id": pid, "topology": sys_["topology"], "workload": self.workload, "set": sets}

    def manifest(self, points):
        keys = []
        for p in points:
            for k, _ in p["set"]:
                if k not in keys:
                    keys.append(k)
        return {"outdir": self.runs, "cwd": os.getcwd(), "llmsim": self.llmsim, "grid_keys": keys,
                "extra_args": [], "timeout": 0, "retry_failed": False, "quiet": True, "points": points}

    def simulate(self, points):
        """Runs the points not yet known (a round), through the sweep runner; returns outcomes."""
        todo_points, seen = [], set()
        for p in points:
            if p["id"] not in self.results and p["id"] not in seen:
                seen.add(p["id"])
                todo_points.append(p)
        if todo_points:
            m = self.manifest(todo_points)
            os.makedirs(os.path.join(self.runs, "points"), exist_ok=True)
            sweep.write_atomic(os.path.join(self.runs, "sweep.json"), json.dumps(m, indent=2) + "\n")
            todo = [i for i, p in enumerate(todo_points) if not sweep.finished(sweep.point_dir(self.runs, p))]
            if self.slurm:
                sweep.submit_slurm(m, todo, self.jobs, True, False)
            else:
                rc = sweep.sweep_here(m, todo, self.jobs, "auto")
                if rc >= 128:
                    sys.exit(rc)
            for p in todo_points:
                self.all_points.append(p)
                self.results[p["id"]] = self.outcome(p)
        return [self.results[p["id"]] for p in points]

    def outcome(self, p):
        pdir = sweep.point_dir(self.runs, p)
        res = sweep.read_json(os.path.join(pdir, "result.json")) or {}
        if res.get("exit_code") not in sweep.DETERMINISTIC_EXITS:
            self.crashed.append(p["id"])  # crashed, timed out or never ran: not a verdict
        summary = sweep.read_json(os.path.join(pdir, "summary.json")) or {}
        return plan_report.judge(res, summary, self.svc)

    # ---- the search ------------------------------------------------------------------
    def search(self):
        cands = [c for c in self.space["candidates"] if not c["pruned"]]
        state = [{"c": c, "lo": c["min_replicas"], "hi": c["max_replicas"], "best": None, "probe": c["max_replicas"]}
                 for c in cands]
        # Phase 1: fewest replicas meeting the targets at load 1 (max first, then bisect).
        while True:
            live = [s for s in state if s["probe"] is not None]
            if not live:
                break
            outs = self.simulate([self.point(s["c"], s["probe"], 1.0) for s in live])
            for s, o in zip(live, outs):
                r = s["probe"]
                s.setdefault("probes", {})[r] = o
                if o["meets"]:
                    s["best"], s["hi"] = r, r - 1
                else:
                    s["lo"] = r + 1
                    if r == s["c"]["max_replicas"]:
                        s["hi"] = r - 1
                        s["lo"] = r + 1  # none meets: stop
                s["probe"] = (s["lo"] + s["hi"]) // 2 if s["best"] is not None and s["lo"] <= s["hi"] else None
        # Phase 2: capacity by log-space bisection at the chosen replica count.
        for s in state:
            s["R"] = s["best"] if s["best"] is not None else s["c"]["max_replicas"]
            ceiling = s["c"]["bound_rps_per_replica"] * s["R"] / self.svc["demand_rps"]
            if s["best"] is not None:
                s["cap_lo"], s["cap_hi"], s["lo_ok"] = 1.0, max(ceiling, 1.0), True
            else:
                s["cap_lo"], s["cap_hi"], s["lo_ok"] = self.svc["min_load"], 1.0, False
            s["tried_lo"] = False
            s["curve"] = [(1.0, s["probes"][s["R"]])]
        for _ in range(int(self.svc["bisection_steps"])):
            live = [s for s in state if s["cap_hi"] / s["cap_lo"] > 1.0 + 1e-9]
            if not live:
                break
            probes = []
            for s in live:
                if not s["lo_ok"] and not s["tried_lo"]:
                    s["mid"] = s["cap_lo"]  # first check that the floor meets at all
                else:
                    s["mid"] = math.sqrt(s["cap_lo"] * s["cap_hi"])
                probes.append(self.point(s["c"], s["R"], s["mid"]))
            for s, o in zip(live, self.simulate(probes)):
                s["curve"].append((s["mid"], o))
                if not s["lo_ok"] and not s["tried_lo"]:
                    s["tried_lo"] = True
                    if o["meets"]:
                        s["lo_ok"] = True
                    else:
                        s["cap_hi"] = s["cap_lo"]  # below the floor: capacity 0
                    continue
                if o["meets"]:
                    s["cap_lo"] = s["mid"]
                else:
                    s["cap_hi"] = s["mid"]
        for s in state:
            s["capacity_rps"] = s["cap_lo"] * self.svc["demand_rps"] if s["lo_ok"] else 0.0
        return state

    def write(self, state):
        if self.all_points:
            sweep.collect(self.manifest(self.all_points))  # DIR/runs/results.csv: every run
        rows = plan_report.rows(self, state)
        plan_report.write_csv(os.path.join(self.outdir, "plan.csv"), rows)
        curves = [{"system": s["c"]["system"], "tp": s["c"]["tp"], "pp": s["c"]["pp"], "replicas": s["R"],
                   "dtype": s["c"]["dtype"], "max_batch": s["c"]["max_batch"],
                   "max_batched_tokens": s["c"]["max_batched_tokens"], "points": sorted(
                       [load * self.svc["demand_rps"], o.get("ttft_p99_s"), o.get("tpot_p99_s"), o["meets"]]
                       for load, o in s["curve"])} for s in state]
        sweep.write_atomic(os.path.join(self.outdir, "plan_curves.json"), json.dumps(curves, indent=1) + "\n")
        text = plan_report.markdown(self, rows, state)
        sweep.write_atomic(os.path.join(self.outdir, "plan.md"), text)
        return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--slurm", action="store_true")
    ap.add_argument("--llmsim", default=os.path.join(os.path.dirname(HERE), "build", "llmsim"))
    a = ap.parse_args()
    if not a.slurm:
        sweep.catch_interrupts()
    space = sweep.read_json(os.path.join(os.path.abspath(a.dir), "plan_space.json")) or {}
    if space.get("mode") == "training":
        import plan_training  # a training service (docs/plan.md "Training plans")
        return plan_training.main(a.dir, max(1, a.jobs), a.slurm, os.path.abspath(a.llmsim))
    p = Planner(a.dir, max(1, a.jobs), a.slurm, os.path.abspath(a.llmsim))
    state = p.search()
    rows = p.write(state)
    plots = plan_report.plots(p.outdir)
    best = [r for r in rows if r.get("best") == "1"]
    print(f"plan: {len(p.all_points)} runs; wrote {p.outdir}/plan.csv, {p.outdir}/plan.md{plots}", file=sys.stderr)
    if best:
        b = best[0]
        print(f"plan: cheapest meeting the targets: {b['system']} tp {b['tp']} x pp {b['pp']} x {b['replicas']} "
              f"replicas, {b['dtype']}, {b['cost_per_hour']} /h", file=sys.stderr)
    else:
        print("plan: no configuration meets the targets (plan.md says why per system)", file=sys.stderr)
    if p.crashed:
        print(f"plan: {len(p.crashed)} runs crashed or timed out (counted as not meeting the targets): see "
              f"{p.runs}/results.csv; rerun the same command to run them again", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
