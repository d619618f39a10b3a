#!/usr/bin/env python3
"""Tests of scripts/plot (run by test/unit/test_sweep.cpp, or directly): from a synthetic
results.csv and a synthetic run folder, every file that `--help` names is written, as a
real PNG and SVG; from a real serving run and a real sweep (the built llmsim), the lines
drawn (read back from the figures) are the numbers of requests.csv and results.csv."""
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLOT = os.path.join(ROOT, "scripts", "plot")
LLMSIM = os.environ.get("LLMSIM_BINARY", os.path.join(ROOT, "build", "llmsim"))


def matplotlib_python():
    """The interpreter that imports matplotlib (scripts/plot re-runs itself under it)."""
    for py in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(py) and subprocess.run([py, "-c", "import matplotlib"], capture_output=True).returncode == 0:
            return py
    return None


def have_matplotlib():
    return matplotlib_python() is not None


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
        self.assertEqual(files_named("sweep"), ["energy_per_token.png", "energy_per_token.svg", "power_cap.png",
                                                "power_cap.svg", "step_time_mfu.png",
                                                "step_time_mfu.svg", "throughput_latency.png",
                                                "throughput_latency.svg", "throughput_load.png",
                                                "throughput_load.svg"])
        serving = ["latency_cdf.png", "latency_cdf.svg", "latency_over_time.png", "latency_over_time.svg"]
        self.assertEqual(files_named("run"), sorted(serving + ["roofline.png", "roofline.svg", "utilisation.png",
                                                               "utilisation.svg"]))
        self.assertEqual(files_named("requests"), serving)

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
        self.assertEqual(len(r.stdout.split()), len(files_named("sweep")))  # it prints what it wrote

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


# Reads the lines a figure builder of scripts/plot drew, run under the matplotlib python:
# {axes title: {line label: [xdata, ydata]}} plus each axes' scatter sizes.
DRAWN = """
import importlib.machinery, importlib.util, json, sys
loader = importlib.machinery.SourceFileLoader("llmsim_plot", sys.argv[1])
plot = importlib.util.module_from_spec(importlib.util.spec_from_loader("llmsim_plot", loader))
loader.exec_module(plot)
fig = eval(sys.argv[2])
out = {}
for ax in fig.axes:
    lines = {l.get_label(): [[float(v) for v in l.get_xdata()], [float(v) for v in l.get_ydata()]]
             for l in ax.get_lines()}
    out[ax.get_title() or ax.get_ylabel()] = {"lines": lines, "dots": [len(c.get_offsets()) for c in ax.collections]}
print(json.dumps(out))
"""

# A serving run with queueing (the Azure trace at 20x its rate) and SLO bounds given here.
SLO_TTFT, SLO_TPOT = 0.040, 0.008
SERVE = ["-t", "topologies/dgx-h100.yaml", "-w", "workloads/demo-serve-llama3-8b.yaml", "--quiet",
         "--set", "workload.trace.limit=200", "--set", "workload.trace.time_scale=0.05",
         "--set", f"workload.slo.ttft={SLO_TTFT * 1e3:g} ms", "--set", f"workload.slo.tpot={SLO_TPOT * 1e3:g} ms"]


def drawn(expr):
    r = subprocess.run([matplotlib_python(), "-c", DRAWN, PLOT, expr], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def label(lines, prefix):
    found = [k for k in lines if k.startswith(prefix)]
    assert len(found) == 1, (prefix, list(lines))
    return found[0]


@unittest.skipUnless(have_matplotlib(), "SKIPPED: matplotlib missing (apt-get install python3-matplotlib)")
@unittest.skipUnless(os.access(LLMSIM, os.X_OK), f"SKIPPED: no llmsim binary at {LLMSIM} (build first)")
class ServingPlots(unittest.TestCase):
    """From a real serving run: files, the roofline of inference spans, CDF markers and
    rolling percentiles equal to what the test computes from requests.csv."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="llmsim_plot_serve_")
        cls.run_dir = os.path.join(cls.dir, "run")
        r = subprocess.run([LLMSIM, "run", *SERVE, "--timeline", "-o", cls.run_dir], capture_output=True, text=True,
                           cwd=ROOT)
        assert r.returncode == 0, r.stderr
        with open(os.path.join(cls.run_dir, "requests.csv")) as f:
            cls.rows = list(csv.DictReader(f))
        with open(os.path.join(cls.run_dir, "summary.json")) as f:
            cls.summary = json.load(f)
        cls.done = [x for x in cls.rows if x["status"] == "completed"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_run_writes_every_file_and_a_roofline_for_inference_spans(self):
        r = subprocess.run([sys.executable, PLOT, "run", self.run_dir, "--llmsim", LLMSIM], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in files_named("run"):
            check_image(self, os.path.join(self.run_dir, "plots", name))
        with open(os.path.join(self.run_dir, "plots", "roofline.svg")) as f:
            svg = f.read()
        # The demo serves bf16 weights on H100s; the spans say no dtype, the legend says whose it is.
        self.assertTrue("roof bf16 (hbm)" in svg)  # (assertIn would print the whole SVG)
        self.assertTrue("ops (bf16: the workload's dtype; spans carry none)" in svg)
        with open(os.path.join(self.run_dir, "timeline.json")) as f:
            spans = [e for e in json.load(f)["traceEvents"] if e.get("ph") == "X" and e["args"].get("flops")]
        self.assertTrue(spans and all(e["args"]["dtype"] == "" for e in spans))
        fig = drawn(f"plot.plot_roofline.fig_roofline(json.load(open('{self.run_dir}/timeline.json'))['traceEvents'], {{}}, "
                    f"'nvidia-h100-sxm', *plot.plot_roofline.resolved_inputs('{self.run_dir}')[:1], '{LLMSIM}')")
        axes = fig["Roofline: nvidia-h100-sxm"]
        self.assertEqual(axes["dots"], [len(spans)])  # one dot per iteration span
        roof = axes["lines"]["roof bf16 (hbm)"]
        self.assertAlmostEqual(max(roof[1]) / 989.4e12, 1.0, places=9)  # H100 SXM dense bf16 peak (datasheet)

    def test_latency_cdf_markers_are_the_requests_percentiles(self):
        fig = drawn(f"plot.plot_serving.fig_latency_cdf(plot.plot_serving.read_requests('{self.run_dir}/requests.csv'),"
                    f" plot.read_summary('{self.run_dir}'), 'requests.csv')")
        self.assertGreater(len(self.done), 100)
        for title, col, bound in (("TTFT", "ttft_s", SLO_TTFT), ("TPOT", "tpot_s", SLO_TPOT), ("e2e", "e2e_s", None)):
            vals = [float(x[col]) for x in self.done if col != "tpot_s" or int(x["output_tokens"]) > 1]
            lines = fig[title]["lines"]
            cdf = lines[label(lines, f"{len(vals)} requests")]
            self.assertEqual(cdf[0], sorted(vals))
            self.assertEqual(cdf[1][-1], 1.0)
            q = statistics.quantiles(vals, n=100, method="inclusive")
            for p, want in ((50, statistics.median(vals)), (95, q[94]), (99, q[98])):
                x = lines[label(lines, f"p{p} ")][0]
                self.assertAlmostEqual(x[0], want, places=12)
                # and the simulator's own figure (from exact picoseconds; the CSV has 1e-9 s)
                self.assertAlmostEqual(x[0], self.summary["inference"][col][f"p{p}"], delta=2e-9)
            if bound is None:
                self.assertFalse([k for k in lines if k.startswith("SLO")])
                continue
            slo = lines[label(lines, "SLO ")]
            self.assertEqual(slo[0], [bound, bound])
            meet = sum(1 for x in self.done if float(x[col]) <= bound) / len(self.done)
            self.assertIn(f"({100 * meet:.1f} % meet it)", label(lines, "SLO "))
            self.assertTrue(0 < meet < 1)  # the bounds cut through the distribution

    def test_latency_over_time_rolling_percentiles(self):
        fig = drawn(f"plot.plot_serving.fig_latency_over_time("
                    f"plot.plot_serving.read_requests('{self.run_dir}/requests.csv'), 'requests.csv')")
        by_arrival = sorted(self.done, key=lambda x: float(x["arrival_s"]))
        ttft = [float(x["ttft_s"]) for x in by_arrival]
        axes = fig["TTFT (s)"]
        self.assertEqual(axes["dots"], [len(ttft)])
        lines = axes["lines"]
        p50 = lines[label(lines, "rolling p50")]
        w = int(re.search(r"last (\d+) requests", label(lines, "rolling p50")).group(1))
        self.assertEqual(p50[0][-1], float(by_arrival[-1]["arrival_s"]))
        self.assertAlmostEqual(p50[1][-1], statistics.median(ttft[-w:]), places=12)
        self.assertAlmostEqual(p50[1][0], statistics.median(ttft[:w]), places=12)
        p99 = lines[label(lines, "rolling p99")]
        self.assertAlmostEqual(p99[1][-1], statistics.quantiles(ttft[-w:], n=100, method="inclusive")[98], places=12)

    def test_requests_subcommand_on_a_csv(self):
        out = os.path.join(self.dir, "req_plots")
        csv_path = os.path.join(self.run_dir, "requests.csv")
        r = subprocess.run([sys.executable, PLOT, "requests", csv_path, "-o", out], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(os.listdir(out)), files_named("requests"))
        for name in files_named("requests"):
            check_image(self, os.path.join(out, name))
        r = subprocess.run([sys.executable, PLOT, "requests", self.dir], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("requests.csv: no such file", r.stderr)

    def test_throughput_load_points_are_results_csv_values(self):
        work = os.path.join(self.dir, "serve.yaml")
        with open(work, "w") as f:
            f.write("kind: inference\nmodel: llama-3.1-8b\ndtype: fp8\nparallelism: {tp: 2, pp: 1}\n"
                    "slo: {ttft: 100 ms, tpot: 4 ms}\n"
                    "requests: {count: 80, rate: 20/s, prompt_tokens: 1024, output_tokens: 128, seed: 1}\n")
        sweep = os.path.join(self.dir, "sweep")
        rates = ["5/s", "40/s", "160/s"]
        r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "sweep"), "-t", "topologies/dgx-h100.yaml",
                            "topologies/mi300x-8.yaml", "-w", work, "--grid", "workload.requests.rate=" + ",".join(rates),
                            "-j", "2", "--quiet", "--llmsim", LLMSIM, "-o", sweep], capture_output=True, text=True,
                           cwd=ROOT)
        self.assertEqual(r.returncode, 0, r.stderr)
        results = os.path.join(sweep, "results.csv")
        r = subprocess.run([sys.executable, PLOT, "sweep", results], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        check_image(self, os.path.join(sweep, "plots", "throughput_load.svg"))
        with open(results) as f:
            rows = list(csv.DictReader(f))
        fig = drawn(f"plot.plot_serving.fig_throughput_load(*plot.read_sweep('{results}'), "
                    f"'workload.requests.rate', 'results.csv')")
        squeezed = 0
        for topo in ("dgx-h100", "mi300x-8"):
            mine = [x for x in rows if os.path.basename(x["topology"]) == f"{topo}.yaml"]
            mine.sort(key=lambda x: rates.index(x["workload.requests.rate"]))
            for title, col in (("output tokens/s", "inference.output_tokens_per_s"),
                               ("goodput (output tokens/s within SLO)", "inference.slo.goodput_tokens_per_s")):
                curve = fig[title]["lines"][topo]
                self.assertEqual(curve[0], [5.0, 40.0, 160.0])
                self.assertEqual(curve[1], [float(x[col]) for x in mine])
            good, out = (fig[t]["lines"][topo][1] for t in ("goodput (output tokens/s within SLO)", "output tokens/s"))
            self.assertTrue(all(g <= o for g, o in zip(good, out)))
            squeezed += good[-1] < out[-1]
        self.assertGreater(squeezed, 0)  # the 4 ms TPOT bound bites at 160/s: goodput is its own curve
        r = subprocess.run([sys.executable, PLOT, "sweep", results, "--load-key", "workload.nope", "-o",
                            os.path.join(self.dir, "none")], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not a grid key", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "none")))  # refused before writing anything

@unittest.skipUnless(have_matplotlib(), "SKIPPED: matplotlib missing (apt-get install python3-matplotlib)")
@unittest.skipUnless(os.access(LLMSIM, os.X_OK), f"SKIPPED: no llmsim binary at {LLMSIM} (build first)")
class PowerCapSweep(unittest.TestCase):
    """scripts/sweep over power_cap and scripts/plot's power_cap figure (docs/models.md
    "Power"): a compute-bound GEMM on an H100 (the DVFS curve's regime, issue 13) runs
    longer and uses less energy the lower the cap, down to the cap where the idle power over
    the longer run outweighs the V^2 saving (about 400 W here, with the second, idle H100:
    docs/models.md); the plot draws results.csv's values."""

    def test_lower_cap_slower_and_less_energy(self):
        d = tempfile.mkdtemp(prefix="llmsim_plot_cap_")
        try:
            caps = ["400W", "500W", "700W"]  # 700 W: the H100's TDP, the cap without power_cap
            r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "sweep"), "-t", "test/data/power/h100x2.yaml",
                                "-w", "test/data/power/gemm.yaml", "--grid",
                                "topology.power_cap.per_device=" + ",".join(caps), "-j", "2", "--quiet",
                                "--llmsim", LLMSIM, "-o", d], capture_output=True, text=True, cwd=ROOT)
            self.assertEqual(r.returncode, 0, r.stderr)
            results = os.path.join(d, "results.csv")
            with open(results) as f:
                rows = sorted(csv.DictReader(f), key=lambda x: caps.index(x["topology.power_cap.per_device"]))
            self.assertEqual([x["exit_code"] for x in rows], ["0"] * 3)
            t = [float(x["sim_time_s"]) for x in rows]
            e = [float(x["energy_j"]) for x in rows]
            # The same FLOPs each time: energy per FLOP moves with energy.
            self.assertTrue(t[0] > t[1] > t[2], t)
            self.assertTrue(e[0] <= e[1] <= e[2], e)
            fig = drawn(f"plot.fig_power_cap(*plot.read_sweep('{results}'), False)")
            for title, vals in (("simulated time (s)", t), ("energy (J)", e)):
                (curve,) = fig[title]["lines"].values()
                self.assertEqual(curve, [[400.0, 500.0, 700.0], vals])
            r = subprocess.run([sys.executable, PLOT, "sweep", results], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            check_image(self, os.path.join(d, "plots", "power_cap.svg"))
        finally:
            shutil.rmtree(d, ignore_errors=True)


@unittest.skipUnless(have_matplotlib(), "SKIPPED: matplotlib missing (apt-get install python3-matplotlib)")
class TrainingPlanPlot(unittest.TestCase):
    """`scripts/plot plan DIR` on a training plan (plan_space.json mode training): the cost
    vs time-to-train frontier per system, from a synthetic plan.csv whose Pareto points are
    listed here by hand (no simulation: fast)."""

    # system, days, cost; A's frontier (no faster point as cheap): (10, 100), (12, 80), (20, 60)
    ROWS = [("A", 10, 100), ("A", 12, 80), ("A", 15, 90), ("A", 20, 60), ("A", 25, 70),
            ("B", 8, 300), ("B", 9, 200), ("B", 30, 250)]

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="llmsim_plot_tplan_")
        with open(os.path.join(self.dir, "plan_space.json"), "w") as f:
            json.dump({"mode": "training", "service": {"deadline_s": 21 * 86400, "budget": None}}, f)
        with open(os.path.join(self.dir, "plan.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["system", "devices", "time_to_train_days", "cost", "meets", "best", "system_best", "pruned"])
            for name, days, cost in self.ROWS:
                w.writerow([name, 4, days, cost, 1, 0, 1 if (name, days) in (("A", 20), ("B", 9)) else 0, ""])
            w.writerow(["A", 8, "", "", "", "", "", "memory: stage 0 needs more"])  # pruned: not drawn

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_training_plan_frontier(self):
        r = subprocess.run([sys.executable, PLOT, "plan", self.dir], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        for ext in ("png", "svg"):
            check_image(self, os.path.join(self.dir, "plots", f"plan_frontier.{ext}"))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "plots", "plan_latency_load.png")))  # serving only
        fig = drawn(f"plot.plot_plan.fig_training_frontier(plot.plot_plan.read_rows('{self.dir}'), 21, None)")
        (axes,) = fig.values()
        self.assertEqual(axes["lines"]["A frontier"], [[10.0, 12.0, 20.0], [100.0, 80.0, 60.0]])
        self.assertEqual(axes["lines"]["B frontier"], [[8.0, 9.0], [300.0, 200.0]])
        self.assertEqual(axes["lines"]["deadline"][0], [21.0, 21.0])
        # every simulated point drawn once per system, plus one circle per system best
        self.assertEqual(sorted(axes["dots"]), [1, 1, 3, 5])


if __name__ == "__main__":
    unittest.main(verbosity=2)
