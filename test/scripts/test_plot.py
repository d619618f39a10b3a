#!/usr/bin/env python3
"""Tests of scripts/plot (run by test/unit/test_sweep.cpp, or directly): from a synthetic
results.csv and a synthetic run folder, every file that `--help` names is written, as a
real PNG and SVG."""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLOT = os.path.join(ROOT, "scripts", "plot")
LLMSIM = os.environ.get("LLMSIM_BINARY", os.path.join(ROOT, "build", "llmsim"))


def have_matplotlib():
    for py in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(py) and subprocess.run([py, "-c", "import matplotlib"], capture_output=True).returncode == 0:
            return True
    return False


def files_named(subcommand):
    h = subprocess.run([sys.executable, PLOT, subcommand, "--help"], capture_output=True, text=True)
    assert h.returncode == 0, h.stderr
    return sorted(set(re.findall(r"\b[a-z_]+\.(?:png|svg)\b", h.stdout)))


def check_image(test, path):
    test.assertTrue(os.path.exists(path), path)
    with open(path, "rb") as f:
        data = f.read()
    test.assertGreater(len(data), 2000, path)
    if path.endswith(".png"):
        test.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
    else:
        test.assertIn(b"<svg", data[:2000])


@unittest.skipUnless(have_matplotlib(), "SKIPPED: matplotlib missing (apt-get install python3-matplotlib)")
class Plot(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="llmsim_plot_")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_help_names_files(self):
        self.assertEqual(files_named("sweep"), ["energy_per_token.png", "energy_per_token.svg", "step_time_mfu.png",
                                                "step_time_mfu.svg", "throughput_latency.png",
                                                "throughput_latency.svg"])
        self.assertEqual(files_named("run"), ["roofline.png", "roofline.svg", "utilisation.png", "utilisation.svg"])

    def test_sweep_plots(self):
        key = "workload.requests.rate"
        cols = ["id", "topology", "workload", key, "exit_code", "error", "devices", "inference.output_tokens_per_s",
                "inference.ttft_s.p99", "inference.tpot_s.p99", "inference.j_per_output_token",
                "training.step_time_s", "training.mfu"]
        path = os.path.join(self.dir, "results.csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            n = 0
            for t, devs in (("topologies/dgx-h100.yaml", 8), ("ring4.yaml", 4), ("fc4.yaml", 4)):
                for rate in (1, 4, 16):
                    n += 1
                    w.writerow([f"id{n}", t, "serve.yaml", f"{rate}/s", 0, "", devs, 100 * rate, 0.1 + 0.02 * rate,
                                0.01 + 0.001 * rate, 5.0 / rate, 1.5 / devs, 0.3 + 0.01 * devs])
            w.writerow(["idbad", "bad.yaml", "serve.yaml", "1/s", 2, "llmsim: error: x", "", "", "", "", "", "", ""])
        out = os.path.join(self.dir, "plots")
        r = subprocess.run([sys.executable, PLOT, "sweep", path, "-o", out], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in files_named("sweep"):
            check_image(self, os.path.join(out, name))
        self.assertEqual(len(r.stdout.split()), 6)  # it prints what it wrote

    def test_run_plots(self):
        run = os.path.join(self.dir, "run")
        os.makedirs(run)
        events = [{"ph": "M", "name": "process_name", "pid": p, "tid": 0, "args": {"name": f"gpu{p - 1}"}}
                  for p in (1, 2)]
        events += [{"ph": "M", "name": "thread_name", "pid": p, "tid": 1, "args": {"name": "compute"}} for p in (1, 2)]
        for p in (1, 2):
            for i in range(20):
                flops, nbytes = 2e12 * (i + 1), 1e9 * (20 - i)
                events.append({"ph": "X", "name": "gemm", "cat": "op", "pid": p, "tid": 1, "ts": 100.0 * i * p,
                               "dur": 50.0, "args": {"dtype": "bf16", "flops": flops, "bytes": nbytes}})
        with open(os.path.join(run, "timeline.json"), "w") as f:
            json.dump({"traceEvents": events}, f)
        with open(os.path.join(run, "summary.json"), "w") as f:
            json.dump({"kind": "microbench", "microbench": [{"op": "gemm", "tflops": 700, "bytes_per_s": 1e12}]}, f)
        cmd = [sys.executable, PLOT, "run", run, "--llmsim", LLMSIM]
        if os.access(LLMSIM, os.X_OK):
            cmd += ["--device", "nvidia-h100-sxm"]  # the roof lines from the chip catalog
        r = subprocess.run(cmd, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in files_named("run"):
            check_image(self, os.path.join(run, "plots", name))
        if os.access(LLMSIM, os.X_OK):
            # Without --device, the chip comes from the summary's topology (dgx-h100 -> H100).
            with open(os.path.join(run, "summary.json"), "w") as f:
                json.dump({"kind": "microbench", "topology": "dgx-h100"}, f)
            r = subprocess.run([sys.executable, PLOT, "run", run, "--llmsim", LLMSIM], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(run, "plots", "roofline.svg")) as f:
                svg = f.read()
            self.assertIn("roof bf16 (hbm)", svg)
            self.assertIn("nvidia-h100-sxm", svg)


if __name__ == "__main__":
    unittest.main(verbosity=2)
