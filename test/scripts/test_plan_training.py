#!/usr/bin/env python3
"""Tests of `llmsim plan` with a training service (issue 15 item 2; run by
test/unit/test_sweep.cpp under ctest, or directly). Env: LLMSIM_BINARY.

Expected values come from outside the planner: a brute-force evaluation that runs every
point of the same space as a plain `kind: training` workload written here (not the plan's
workload), the 6ND figure from the model's shapes counted here, and monotonicity of the
answer in one chip's price."""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LLMSIM = os.environ.get("LLMSIM_BINARY", os.path.join(ROOT, "build", "llmsim"))
# Eight Llama-style layers, hidden 1024, a 512-entry vocabulary: every run takes a blink.
LAYERS, HIDDEN, FFN, VOCAB = 8, 1024, 4096, 512
TINY = (f"name: tiny\narchitectures: [LlamaForCausalLM]\nhidden_act: silu\nnum_hidden_layers: {LAYERS}\n"
        f"hidden_size: {HIDDEN}\nnum_attention_heads: 8\nnum_key_value_heads: 8\nintermediate_size: {FFN}\n"
        f"vocab_size: {VOCAB}\nmax_position_embeddings: 4096\ntie_word_embeddings: false\n")
H100_BF16 = 989.4e12  # dense bf16 peak, NVIDIA H100 SXM datasheet


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def best(rows):
    b = [r for r in rows if r.get("best") == "1"]
    return b[0] if b else None


class Case(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="llmsim_tplan_")
        self.model = self.file("tiny.yaml", TINY)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def file(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def service(self, name, search, extra=""):
        return self.file(name, f"kind: training-service\nmodel: {self.model}\n"
                               "training: {tokens: 10B, seq_len: 1024, global_batch: 8}\n"
                               f"{extra}search: {search}\n")

    def topology(self, name, chip, count):
        return self.file(name, f"name: {name[:-5]}\ndevice: {chip}\ncount: {count}\nfabrics:\n"
                               "  - {name: sw, type: nvlink, shape: switch, link: {bandwidth: 450 GB/s, latency: 1 us}}\n")

    def prices(self, name, entries):
        lines = ["kind: prices", "chips:"]
        lines += [f"  - {{chip: {c}, per_device_hour: {p}, date: test, source: test}}" for c, p in entries]
        return self.file(name, "\n".join(lines) + "\n")

    def plan(self, service, topos, out, prices):
        cmd = [LLMSIM, "plan", "-w", service, "-t", *topos, "-o", out, "-j", "2", "--prices", prices]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return read_csv(os.path.join(out, "plan.csv"))


class BruteForce(Case):
    # 60 points (issue 15: a brute force over at least 50); tp x pp > 4 devices and a
    # micro-batch x dp above the global batch of 8 are refused by the plan and by a plain run.
    SPACE = dict(tp=(1, 2, 4), pp=(1, 2), zero=(1, 3), recompute=("none", "full"), micro_batch=(1, 2, 4))

    def test_plan_picks_the_fastest_of_the_brute_force(self):
        topo = self.topology("h100x4.yaml", "nvidia-h100-sxm", 4)
        prices = self.prices("p.yaml", [("nvidia-h100-sxm", 2.0)])
        search = "{" + ", ".join(f"{k}: [{', '.join(map(str, v))}]" for k, v in self.SPACE.items()) + "}"
        rows = self.plan(self.service("s.yaml", search), [topo], os.path.join(self.dir, "plan"), prices)
        chosen = best(rows)
        self.assertIsNotNone(chosen, rows)
        points = [(tp, pp, z, rc, mb) for tp in self.SPACE["tp"] for pp in self.SPACE["pp"] for z in self.SPACE["zero"]
                  for rc in self.SPACE["recompute"] for mb in self.SPACE["micro_batch"]]
        self.assertGreaterEqual(len(points), 50)

        def run(p):
            tp, pp, z, rc, mb = p
            wl = self.file("w_" + "_".join(map(str, p)) + ".yaml",
                           f"kind: training\nmodel: {self.model}\nseq_len: 1024\nglobal_batch: 8\nmicro_batch: {mb}\n"
                           f"parallelism: {{tp: {tp}, pp: {pp}, zero: {z}, recompute: {rc}, "
                           f"sequence_parallel: {'true' if tp > 1 else 'false'}}}\n")
            out = wl[:-5]
            r = subprocess.run([LLMSIM, "run", "--quiet", "-t", topo, "-w", wl, "-o", out], capture_output=True)
            if r.returncode != 0:
                return p, None
            with open(os.path.join(out, "summary.json")) as f:
                return p, json.load(f)["training"]["tokens_per_s"]

        with ThreadPoolExecutor(max_workers=2) as ex:
            measured = dict(ex.map(run, points))
        ok = {p: t for p, t in measured.items() if t}
        self.assertGreaterEqual(len(ok), 30, measured)  # the space is not mostly refused
        fastest = max(ok.values())
        self.assertAlmostEqual(float(chosen["tokens_per_s"]), fastest, delta=fastest * 1e-5)
        # time-to-train and cost from the brute force's own tokens/s
        days = 10e9 / fastest / 86400
        self.assertAlmostEqual(float(chosen["time_to_train_days"]), days, delta=days * 1e-5)
        self.assertAlmostEqual(float(chosen["cost"]), 4 * 2.0 * days * 24, delta=days * 24 * 8 * 1e-5)
        # The bound: 6 FLOP per GEMM weight and token (the input embedding is a lookup),
        # 8 for the layers under full recompute; never below what the simulator reached.
        layer = 4 * HIDDEN * HIDDEN + 3 * HIDDEN * FFN
        for r in rows:
            if r.get("tokens_per_s"):
                flops = 6 * (LAYERS * layer + VOCAB * HIDDEN) + (2 * LAYERS * layer if r["recompute"] == "full" else 0)
                bound = 4 * H100_BF16 / flops
                self.assertAlmostEqual(float(r["bound_tokens_per_s"]), bound, delta=bound * 0.01)
                self.assertLessEqual(float(r["tokens_per_s"]), float(r["bound_tokens_per_s"]))


class Prices(Case):
    def test_higher_price_never_more_attractive(self):
        topos = [self.topology("h100x4.yaml", "nvidia-h100-sxm", 4), self.topology("mi300x4.yaml", "amd-mi300x", 4)]
        svc = self.service("s.yaml", "{tp: [1, 2], pp: [1], recompute: [none], zero: [1]}", "deadline: 1000 days\n")
        out = os.path.join(self.dir, "out")  # one folder: the second plan reuses the runs
        outcome = {}
        for h100_price in (1.0, 4.0):
            rows = self.plan(svc, topos, out, self.prices(f"p{h100_price}.yaml", [("nvidia-h100-sxm", h100_price),
                                                                                 ("amd-mi300x", 2.0)]))
            sb = {r["system"]: float(r["cost"]) for r in rows if r.get("system_best") == "1"}
            outcome[h100_price] = (best(rows)["system"] if best(rows) else None, sb)
        (best1, sb1), (best4, sb4) = outcome[1.0], outcome[4.0]
        self.assertIn("h100x4", sb1)
        self.assertGreater(sb4["h100x4"], sb1["h100x4"])
        self.assertEqual(sb4.get("mi300x4"), sb1.get("mi300x4"))
        if best4 == "h100x4":
            self.assertEqual(best1, "h100x4")

    def test_deadline_prunes_by_the_bound_without_simulating(self):
        topo = self.topology("h100x4.yaml", "nvidia-h100-sxm", 4)
        # 10B tokens at 4 x 989 TFLOP/s / (6 x 135M FLOP per token) take at least 34 min:
        # a 20 min deadline is out of reach for every configuration, so nothing is simulated.
        svc = self.service("s.yaml", "{tp: [1, 2], pp: [1]}", "deadline: 20 min\n")
        out = os.path.join(self.dir, "dl")
        rows = self.plan(svc, [topo], out, self.prices("p.yaml", [("nvidia-h100-sxm", 1.0)]))
        self.assertIsNone(best(rows))
        self.assertTrue(rows and all(r["pruned"].startswith("bound:") for r in rows), rows)
        self.assertFalse(os.path.exists(os.path.join(out, "runs", "points")))


class Search(Case):
    """`search.devices` and `search.global_batch`: each point is the plain training run of
    its device count and global batch (run here on a topology and a workload written by
    the test), infeasible ones are pruned with the reason."""

    def plain_tokens_per_s(self, topo, global_batch):
        wl = self.file(f"plain_{os.path.basename(topo)[:-5]}_{global_batch}.yaml",
                       f"kind: training\nmodel: {self.model}\nseq_len: 1024\nglobal_batch: {global_batch}\n"
                       "micro_batch: 1\nparallelism: {tp: 1, pp: 1, zero: 1, recompute: none}\n")
        out = wl[:-5]
        r = subprocess.run([LLMSIM, "run", "--quiet", "-t", topo, "-w", wl, "-o", out], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "summary.json")) as f:
            return json.load(f)["training"]["tokens_per_s"]

    def test_devices_are_searched_on_a_resizable_system(self):
        topo = self.topology("h100x4.yaml", "nvidia-h100-sxm", 4)
        prices = self.prices("p.yaml", [("nvidia-h100-sxm", 2.0)])
        svc = self.service("s.yaml", "{devices: [1, 2, 4, 8], tp: [1], pp: [1], recompute: [none], zero: [1]}")
        rows = self.plan(svc, [topo], os.path.join(self.dir, "plan"), prices)
        by_n = {int(r["devices"]): r for r in rows}
        self.assertEqual(sorted(by_n), [1, 2, 4, 8])
        self.assertTrue(by_n[8]["pruned"].startswith("devices: 8 > the system's 4"), by_n[8])
        for n in (1, 2, 4):
            r = by_n[n]
            self.assertEqual(r["pruned"], "", r)
            self.assertEqual(int(r["dp"]), n)
            # the same point as a plain run on an n-device system
            tps = self.plain_tokens_per_s(self.topology(f"h100x{n}_plain.yaml", "nvidia-h100-sxm", n), 8)
            self.assertAlmostEqual(float(r["tokens_per_s"]), tps, delta=tps * 1e-5)
            days = 10e9 / tps / 86400
            self.assertAlmostEqual(float(r["cost"]), n * 2.0 * days * 24, delta=n * 2.0 * days * 24 * 1e-4)
        # no deadline: the fastest configuration is best
        fastest = max((r for r in rows if r.get("tokens_per_s")), key=lambda r: float(r["tokens_per_s"]))
        self.assertEqual(best(rows)["devices"], fastest["devices"])

    def test_global_batch_is_searched(self):
        topo = self.topology("h100x4.yaml", "nvidia-h100-sxm", 4)
        prices = self.prices("p.yaml", [("nvidia-h100-sxm", 2.0)])
        base = "tp: [1], pp: [1], recompute: [none], zero: [1]"
        # Without the key every point trains at the service's global batch (8).
        rows = self.plan(self.service("s0.yaml", "{" + base + "}"), [topo], os.path.join(self.dir, "p0"), prices)
        self.assertTrue(rows and all(r["global_batch"] == "8" for r in rows), rows)
        # 6 sequences cannot split over dp 4: the training workload refuses it (pruned, not simulated).
        svc = self.service("s.yaml", "{" + base + ", global_batch: [8, 32, 6]}")
        rows = self.plan(svc, [topo], os.path.join(self.dir, "p1"), prices)
        by_gb = {int(r["global_batch"]): r for r in rows}
        self.assertEqual(sorted(by_gb), [6, 8, 32])
        self.assertTrue(by_gb[6]["pruned"].startswith("invalid:"), by_gb[6])
        measured = {gb: self.plain_tokens_per_s(topo, gb) for gb in (8, 32)}
        for gb, tps in measured.items():
            self.assertAlmostEqual(float(by_gb[gb]["tokens_per_s"]), tps, delta=tps * 1e-5)
            self.assertAlmostEqual(float(by_gb[gb]["time_to_train_days"]), 10e9 / tps / 86400,
                                   delta=10e9 / tps / 86400 * 1e-4)
        self.assertEqual(int(best(rows)["global_batch"]), max(measured, key=measured.get))


if __name__ == "__main__":
    if not os.access(LLMSIM, os.X_OK):
        print(f"skipped: {LLMSIM} not built")
        sys.exit(0)
    unittest.main(verbosity=2)
