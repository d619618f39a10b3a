"""The simulating half of `llmsim plan` for a training service (issue 15 item 2;
docs/plan.md "Training plans"). scripts/plan_search.py hands over when DIR/plan_space.json
says `"mode": "training"`.

`llmsim plan` has pruned the space by memory fit and by the 6ND / peak bound against the
deadline or budget. Here the survivors are simulated in rounds through the sweep runner
(the same points folder, resumable), each round the highest remaining bound level of every
system; before each round a candidate is skipped when a configuration of its system already
simulated is at least as fast as its bound allows and at least as cheap (it can be neither
the best nor on the frontier). Each run simulates `steps` optimizer steps; time-to-train =
tokens / tokens-per-second, cost = devices x price x time-to-train."""
import csv
import os
import sys

import plan_search
from plan_search import sweep

COLUMNS = ["system", "chip", "devices", "dtype", "tp", "pp", "cp", "dp", "ep", "micro_batch", "global_batch", "schedule",
           "virtual_stages", "zero", "recompute", "memory_gib", "memory_usable_gib", "bound_tokens_per_s",
           "tokens_per_s", "step_time_s", "mfu", "time_to_train_days", "cost", "cost_per_hour", "meets", "best",
           "system_best", "pruned", "why"]
PAR_KEYS = ["tp", "pp", "dp", "cp", "ep", "schedule", "virtual_stages", "zero", "recompute"]


def g6(x):
    return "" if x is None else f"{x:.6g}"


class TrainingPlanner(plan_search.Planner):
    def __init__(self, outdir, jobs, slurm, llmsim):
        super().__init__(outdir, jobs, slurm, llmsim)
        self.workload = os.path.join(self.outdir, "training-workload.yaml")

    def point(self, c):
        sys_ = self.systems[c["system"]]
        sets = []
        if c["devices"] != sys_["devices"]:
            sets.append(["topology.count", str(c["devices"])])
        sets += [["workload.dtype", c["dtype"]], ["workload.micro_batch", str(c["micro_batch"])]]
        if c.get("global_batch", self.svc["global_batch"]) != self.svc["global_batch"]:  # search.global_batch
            sets.append(["workload.global_batch", str(c["global_batch"])])
        sets += [[f"workload.parallelism.{k}", str(c[k])] for k in PAR_KEYS]
        sets.append(["workload.parallelism.sequence_parallel", "true" if c["tp"] > 1 else "false"])
        pid = sweep.point_id(sys_["topology"], self.workload, sets, [])
        return {"id": pid, "topology": sys_["topology"], "workload": self.workload, "set": sets}

    def outcome(self, p):
        pdir = sweep.point_dir(self.runs, p)
        res = sweep.read_json(os.path.join(pdir, "result.json")) or {}
        rc = res.get("exit_code")
        if rc not in sweep.DETERMINISTIC_EXITS:
            self.crashed.append(p["id"])
        if rc != 0:
            return {"ok": False, "infeasible": rc == 3, "why": res.get("error", "") or f"exit {rc}"}
        tr = (sweep.read_json(os.path.join(pdir, "summary.json")) or {}).get("training", {})
        tps = tr.get("tokens_per_s") or 0.0
        if not tps > 0:
            return {"ok": False, "infeasible": False, "why": "no tokens_per_s in summary.json"}
        return {"ok": True, "tokens_per_s": tps, "step_time_s": tr.get("step_time_s"), "mfu": tr.get("mfu")}

    def judge(self, c, o):
        """Time-to-train, cost and the verdict against the deadline and budget."""
        svc, price = self.svc, self.systems[c["system"]]["price_per_device_hour"]
        if not o["ok"]:
            return {"meets": False, "why": o["why"]}
        t = svc["tokens"] / o["tokens_per_s"]
        out = {"time_s": t, "cost": c["devices"] * price * t / 3600.0, "cost_per_hour": c["devices"] * price}
        misses = []
        if svc["deadline_s"] is not None and t > svc["deadline_s"]:
            misses.append(f"time-to-train {t / 86400:.4g} days > deadline {svc['deadline_s'] / 86400:.4g} days")
        if svc["budget"] is not None and out["cost"] > svc["budget"]:
            misses.append(f"cost {out['cost']:.4g} > budget {svc['budget']:.4g}")
        out["meets"], out["why"] = not misses, "; ".join(misses)
        return out

    def search(self):
        todo = [c for c in self.space["candidates"] if not c["pruned"]]
        done = []  # (candidate, outcome, verdict)
        while todo:
            for c in todo:
                mine = [v for cc, _, v in done if cc["system"] == c["system"] and "time_s" in v]
                if any(v["time_s"] <= c["time_lb_s"] and v["cost"] <= c["cost_lb"] for v in mine):
                    c["pruned"] = "dominated: a simulated configuration of this system is as fast as this " \
                                  "one's bound allows and as cheap"
            todo = [c for c in todo if not c["pruned"]]
            if not todo:
                break
            level = {}
            for c in todo:
                level[c["system"]] = max(level.get(c["system"], 0.0), c["bound_tokens_per_s"])
            batch = [c for c in todo if c["bound_tokens_per_s"] >= level[c["system"]]]
            outs = self.simulate([self.point(c) for c in batch])
            for c, o in zip(batch, outs):
                done.append((c, o, self.judge(c, o)))
            todo = [c for c in todo if c not in batch]
        return done

    def rows(self, done):
        out = []
        for s in self.space["systems"]:
            if s["pruned"]:
                out.append({"system": s["name"], "chip": s["chip"], "pruned": s["pruned"]})
        sims = {id(c): (o, v) for c, o, v in done}
        for c in self.space["candidates"]:
            row = {k: c.get(k, "") for k in COLUMNS if k in c}
            row["chip"] = self.systems[c["system"]]["chip"]
            for k in ("memory_gib", "memory_usable_gib", "bound_tokens_per_s"):
                row[k] = g6(c.get(k))
            if id(c) in sims:
                o, v = sims[id(c)]
                row.update({"tokens_per_s": g6(o.get("tokens_per_s")), "step_time_s": g6(o.get("step_time_s")),
                            "mfu": g6(o.get("mfu")), "meets": "1" if v["meets"] else "0", "why": v["why"]})
                if "time_s" in v:
                    row.update({"time_to_train_days": g6(v["time_s"] / 86400), "cost": g6(v["cost"]),
                                "cost_per_hour": g6(v["cost_per_hour"]), "_t": v["time_s"], "_c": v["cost"]})
                if o.get("infeasible"):
                    row["pruned"] = "simulation: " + o["why"]
            out.append(row)
        self.mark_best(out)
        return out

    def sort_key(self, r):
        # With a deadline: cheapest first (then faster); otherwise fastest first (then cheaper).
        if self.svc["deadline_s"] is not None:
            return (r["_c"], r["_t"], r["devices"], r["system"])
        return (r["_t"], r["_c"], r["devices"], r["system"])

    def mark_best(self, out):
        meeting = [r for r in out if r.get("meets") == "1" and "_t" in r]
        for r in out:
            r["best"] = r["system_best"] = "0" if r.get("meets") else ""
        if meeting:
            min(meeting, key=self.sort_key)["best"] = "1"
        for name in {r["system"] for r in meeting}:
            min([r for r in meeting if r["system"] == name], key=self.sort_key)["system_best"] = "1"

    def write(self, done):
        if self.all_points:
            sweep.collect(self.manifest(self.all_points))
        rows = self.rows(done)
        path = os.path.join(self.outdir, "plan.csv")
        tmp = f"{path}.tmp.{os.getpid()}"
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS, restval="", extrasaction="ignore", lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, path)
        sweep.write_atomic(os.path.join(self.outdir, "plan.md"), self.markdown(rows))
        return rows

    def markdown(self, rows):
        import plan_training_report
        return plan_training_report.markdown(self, rows)


def main(outdir, jobs, slurm, llmsim):
    p = TrainingPlanner(outdir, jobs, slurm, llmsim)
    rows = p.write(p.search())
    plots = plan_search.plan_report.plots(p.outdir)  # scripts/plot plan: the cost vs time-to-train frontier
    print(f"plan: {len(p.all_points)} runs; wrote {p.outdir}/plan.csv, {p.outdir}/plan.md{plots}", file=sys.stderr)
    best = [r for r in rows if r.get("best") == "1"]
    if best:
        b = best[0]
        print(f"plan: best: {b['system']} {b['devices']} devices, tp {b['tp']} x pp {b['pp']} x cp {b['cp']} x dp "
              f"{b['dp']}, {b['dtype']}: {b['time_to_train_days']} days, {b['cost']} "
              f"{p.space['prices']['currency']}", file=sys.stderr)
    else:
        print("plan: no configuration meets the deadline / budget (plan.md says why per system)", file=sys.stderr)
    if p.crashed:
        print(f"plan: {len(p.crashed)} runs crashed or timed out: see {p.runs}/results.csv; rerun the same command "
              "to run them again", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit("run through `llmsim plan` (scripts/plan_search.py)")
