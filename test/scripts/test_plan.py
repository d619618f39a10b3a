#!/usr/bin/env python3
"""Tests of `llmsim plan` (issue 15; run by test/unit/test_sweep.cpp under ctest, or
directly: `python3 test/scripts/test_plan.py`). Env: LLMSIM_BINARY (default build/llmsim).

Expected values come from outside the planner: the per-replica capacity the test measures
(k replicas), monotonicity of the answer in the targets and in a price, and a brute-force
sweep that runs every point of the space with plain `llmsim run` and judges it from
requests.csv itself."""
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LLMSIM = os.environ.get("LLMSIM_BINARY", os.path.join(ROOT, "build", "llmsim"))
MODEL = "llama-3.2-3b"
# Fixed arrivals and fixed token counts: every replica sees the same regular stream, so a
# replica's capacity is a property of the replica and k of them serve k times as much.
REQUESTS = "{count: %d, arrival: fixed, rate: %s/s, prompt_tokens: 2000, output_tokens: 64}"
TRAFFIC = "{requests: " + REQUESTS + "}"


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


class PlanCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="llmsim_plan_")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def file(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def service(self, name, rate, count, targets, search):
        return self.file(name, f"kind: service\nmodel: {MODEL}\ndtypes: [bf16]\ntraffic: {TRAFFIC % (count, rate)}\n"
                               f"targets: {targets}\nsearch: {search}\n")

    def topology(self, count):
        with open(os.path.join(ROOT, "topologies", "dgx-h100.yaml")) as f:
            text = f.read()
        self.assertIn("count: 8\n", text)
        return self.file(f"h100x{count}.yaml", text.replace("count: 8\n", f"count: {count}\n"))

    def prices(self, name, entries):
        lines = ["kind: prices", "chips:"]
        lines += [f"  - {{chip: {c}, per_device_hour: {p}, date: test, source: test}}" for c, p in entries]
        return self.file(name, "\n".join(lines) + "\n")

    def plan(self, service, topos, out, prices=None):
        cmd = [LLMSIM, "plan", "-w", service, "-t", *topos, "-o", out, "-j", "2"]
        if prices:
            cmd += ["--prices", prices]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return read_csv(os.path.join(out, "plan.csv"))


def best(rows):
    b = [r for r in rows if r.get("best") == "1"]
    return b[0] if b else None


TARGETS = "{ttft_p99: 1 s, tpot_p99: 50 ms, attainment: 0.99}"


class KReplicas(PlanCase):
    def test_rate_needing_k_replicas_picks_k(self):
        # One replica's capacity, measured by the planner on a one-GPU system.
        one = self.topology(1)
        prices = self.prices("p.yaml", [("nvidia-h100-sxm", 1)])
        svc = self.service("one.yaml", 4, 40, TARGETS, "{tp: [1], pp: [1], bisection_steps: 8}")
        rows = self.plan(svc, [one], os.path.join(self.dir, "one"), prices)
        c1 = float(best(rows)["capacity_rps"]) if best(rows) else 0.0
        self.assertGreater(c1, 0, rows)
        # 2.5 replicas' worth: two cannot (2 c1 < 2.5 c1), three can, with 20 % margins.
        k = 3
        svc = self.service("k.yaml", f"{(k - 0.5) * c1:.6g}", 40 * k, TARGETS, "{tp: [1], pp: [1], bisection_steps: 3}")
        rows = self.plan(svc, [self.topology(8)], os.path.join(self.dir, "k"), prices)
        b = best(rows)
        self.assertIsNotNone(b, rows)
        self.assertEqual(int(b["replicas"]), k, (c1, b))
        self.assertEqual(float(b["cost_per_hour"]), k * 1.0)


class Monotone(PlanCase):
    SEARCH = "{tp: [1, 2], pp: [1], bisection_steps: 2}"

    def test_tighter_targets_never_cheaper(self):
        h100 = os.path.join(ROOT, "topologies", "dgx-h100.yaml")
        prices = self.prices("p.yaml", [("nvidia-h100-sxm", 1)])
        loose = self.service("loose.yaml", 12, 60, "{ttft_p99: 2 s, tpot_p99: 100 ms, attainment: 0.9}", self.SEARCH)
        tight = self.service("tight.yaml", 12, 60, "{ttft_p99: 500 ms, tpot_p99: 30 ms, attainment: 0.99}", self.SEARCH)
        a = best(self.plan(loose, [h100], os.path.join(self.dir, "loose"), prices))
        b = best(self.plan(tight, [h100], os.path.join(self.dir, "tight"), prices))
        self.assertIsNotNone(a)
        if b is not None:
            self.assertGreaterEqual(float(b["cost_per_hour"]), float(a["cost_per_hour"]), (a, b))

    def test_higher_price_never_more_attractive(self):
        topos = [os.path.join(ROOT, "topologies", t) for t in ("dgx-h100.yaml", "mi300x-8.yaml")]
        svc = self.service("s.yaml", 12, 60, TARGETS, self.SEARCH)
        out = os.path.join(self.dir, "out")  # one folder: the second plan reuses the runs
        outcome = {}
        for h100_price in (1.0, 3.0):
            rows = self.plan(svc, topos, out, self.prices(f"p{h100_price}.yaml", [("nvidia-h100-sxm", h100_price),
                                                                                 ("amd-mi300x", 2.0)]))
            sb = {r["system"]: float(r["cost_per_hour"]) for r in rows if r.get("system_best") == "1"}
            outcome[h100_price] = (best(rows)["system"] if best(rows) else None, sb)
        (best1, sb1), (best3, sb3) = outcome[1.0], outcome[3.0]
        self.assertIn("dgx-h100", sb1)
        self.assertGreaterEqual(sb3["dgx-h100"], sb1["dgx-h100"])
        self.assertEqual(sb3.get("mi300x-8"), sb1.get("mi300x-8"))
        if best3 == "dgx-h100":
            self.assertEqual(best1, "dgx-h100")


class BruteForce(PlanCase):
    def test_pruning_keeps_the_brute_force_best(self):
        h100 = os.path.join(ROOT, "topologies", "dgx-h100.yaml")
        # 120 requests at 300/s: one H100 is overloaded (its TTFT p99 is seconds), so the
        # cheapest answer needs several devices and the search has something to find.
        bound = {"ttft": 0.2, "tpot": 0.05, "attainment": 0.99}
        svc = self.file("s.yaml", f"kind: service\nmodel: {MODEL}\ndtypes: [bf16, fp8]\n"
                                  f"traffic: {TRAFFIC % (120, 300)}\n"
                                  f"targets: {{ttft_p99: 200 ms, tpot_p99: 50 ms, attainment: 0.99}}\n"
                                  "search: {tp: [1, 2], pp: [1, 2], max_batch: [8, 64], bisection_steps: 1}\n")
        prices = self.prices("p.yaml", [("nvidia-h100-sxm", 1)])
        plan_best = best(self.plan(svc, [h100], os.path.join(self.dir, "plan"), prices))
        work = self.file("w.yaml", f"kind: inference\nmodel: {MODEL}\nrequests: {REQUESTS % (120, 300)}\n")
        points = []
        for dtype in ("bf16", "fp8"):
            for tp in (1, 2):
                for pp in (1, 2):
                    for r in range(1, 8 // (tp * pp) + 1):
                        for mb in (8, 64):
                            points.append((dtype, tp, pp, r, mb))
        self.assertGreaterEqual(len(points), 50)

        def run(p):
            dtype, tp, pp, r, mb = p
            out = os.path.join(self.dir, "bf", "_".join(map(str, p)))
            cmd = [LLMSIM, "run", "-t", h100, "-w", work, "-o", out, "--quiet", "--set", f"topology.count={r * tp * pp}",
                   "--set", f"workload.dtype={dtype}", "--set", f"workload.parallelism.tp={tp}",
                   "--set", f"workload.parallelism.pp={pp}", "--set", f"workload.scheduler.max_batch={mb}"]
            rc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).returncode
            if rc != 0:
                return p, False
            good = 0
            reqs = read_csv(os.path.join(out, "requests.csv"))
            for q in reqs:
                if q["status"] != "completed":
                    continue
                ttft, tpot = float(q["ttft_s"]), float(q["tpot_s"])
                good += ttft <= bound["ttft"] and tpot <= bound["tpot"]
            return p, good / 120 >= bound["attainment"]

        with ThreadPoolExecutor(max_workers=2) as ex:
            verdicts = list(ex.map(run, points))
        meeting = [p for p, ok in verdicts if ok]
        self.assertTrue(meeting, "the brute force finds no configuration: the case tests nothing")
        cheapest = min(p[1] * p[2] * p[3] for p in meeting)
        self.assertIsNotNone(plan_best)
        self.assertEqual(float(plan_best["cost_per_hour"]), float(cheapest))
        # A case where the answer is not the trivial one.
        self.assertGreater(cheapest, 1)


if __name__ == "__main__":
    if not os.access(LLMSIM, os.X_OK):
        print(f"skipped: {LLMSIM} not built")
        sys.exit(0)
    unittest.main(verbosity=2)
