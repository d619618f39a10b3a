#!/usr/bin/env python3
"""Tests of scripts/sweep (run by test/unit/test_sweep.cpp under ctest, or directly:
`python3 test/scripts/test_sweep.py`). Env: LLMSIM_BINARY (the real simulator; default
build/llmsim), LLMSIM_SWEEP_SLURM=1 to also run the Slurm test (it installs and starts
slurmctld/slurmd on localhost)."""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SWEEP = os.path.join(ROOT, "scripts", "sweep")
FAKE = os.path.join(ROOT, "test", "scripts", "fake-llmsim")
LLMSIM = os.environ.get("LLMSIM_BINARY", os.path.join(ROOT, "build", "llmsim"))
BW = "topology.fabrics.0.link.bandwidth=200 GB/s,400 GB/s"


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


class SweepWithFake(unittest.TestCase):
    """Orchestration: rows, ids, failures, resume after a kill (fake simulator)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="llmsim_sweep_")
        self.topos = []
        for name in ("a.yaml", "b.yaml", "c.yaml", "bad.yaml"):
            path = os.path.join(self.dir, name)
            open(path, "w").close()
            self.topos.append(path)
        self.work = os.path.join(self.dir, "w.yaml")
        open(self.work, "w").close()
        self.log = os.path.join(self.dir, "runs.log")
        self.env = dict(os.environ, FAKE_LLMSIM_LOG=self.log)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def sweep(self, topos, out, *extra, env=None, **kw):
        cmd = [sys.executable, SWEEP, "-t", *topos, "-w", self.work, "--grid", BW, "--llmsim", FAKE,
               "-o", out, "--quiet", *extra]
        return subprocess.run(cmd, env=env or self.env, capture_output=True, text=True, **kw)

    def runs(self):
        if not os.path.exists(self.log):
            return 0
        with open(self.log) as f:
            return len(f.readlines())

    def test_three_topologies_two_bandwidths(self):
        out = os.path.join(self.dir, "s1")
        r = self.sweep(self.topos[:3], out, "--runner", "python", "-j", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = read_csv(os.path.join(out, "results.csv"))
        self.assertEqual(len(rows), 6)
        self.assertEqual([os.path.basename(x["topology"]) for x in rows], ["a.yaml"] * 2 + ["b.yaml"] * 2 + ["c.yaml"] * 2)
        self.assertEqual([x["topology.fabrics.0.link.bandwidth"] for x in rows], ["200 GB/s", "400 GB/s"] * 3)
        for x in rows:
            bw = float(x["topology.fabrics.0.link.bandwidth"].split()[0])
            self.assertEqual(x["exit_code"], "0")
            self.assertEqual(x["error"], "")
            self.assertAlmostEqual(float(x["inference.ttft_s.p99"]), 2.0 / bw)  # nested keys flattened
            self.assertAlmostEqual(float(x["inference.output_tokens_per_s"]), bw * 10)
            self.assertEqual(x["microbench.0.time_s"], "0.5")  # lists flattened by index
            self.assertEqual(x["summary.topology"], os.path.basename(x["topology"]))
            self.assertTrue(os.path.exists(os.path.join(out, "points", x["id"], "summary.json")))
        self.assertEqual(len({x["id"] for x in rows}), 6)
        self.assertEqual(self.runs(), 6)
        # Ids depend only on the inputs: another folder, the other runner, same ids.
        out2 = os.path.join(self.dir, "s2")
        r = self.sweep(self.topos[:3], out2, "--runner", "parallel" if shutil.which("parallel") else "python")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([x["id"] for x in read_csv(os.path.join(out2, "results.csv"))], [x["id"] for x in rows])

    def test_failures_are_rows_and_not_rerun(self):
        out = os.path.join(self.dir, "s3")
        r = self.sweep([self.topos[0], self.topos[3]], out, "--runner", "python")
        self.assertEqual(r.returncode, 0, r.stderr)  # bad input is a result, not a sweep failure
        rows = read_csv(os.path.join(out, "results.csv"))
        self.assertEqual([x["exit_code"] for x in rows], ["0", "0", "2", "2"])
        self.assertIn("llmsim: error:", rows[2]["error"])
        self.assertIn("expected a bandwidth", rows[2]["error"])
        self.assertEqual(rows[2].get("sim_time_s", ""), "")
        self.assertEqual(self.runs(), 4)
        r = self.sweep([self.topos[0], self.topos[3]], out, "--runner", "python")
        self.assertEqual(self.runs(), 4)  # every point finished: nothing rerun
        r = self.sweep([self.topos[0], self.topos[3]], out, "--runner", "python", "--retry-failed")
        self.assertEqual(self.runs(), 6)  # only the two failed points again

    def test_killed_sweep_resumes_without_redoing_finished_points(self):
        out = os.path.join(self.dir, "s4")
        env = dict(self.env, FAKE_LLMSIM_SLEEP="0.4")
        cmd = [sys.executable, SWEEP, "-t", *self.topos[:3], "-w", self.work, "--grid", BW, "--llmsim", FAKE,
               "-o", out, "--quiet", "--runner", "python", "-j", "1"]
        p = subprocess.Popen(cmd, env=env, start_new_session=True)
        deadline = time.time() + 30
        done = []
        while time.time() < deadline:
            done = [d for d in os.listdir(os.path.join(out, "points"))
                    if os.path.exists(os.path.join(out, "points", d, "result.json"))] \
                if os.path.isdir(os.path.join(out, "points")) else []
            if len(done) >= 2:
                break
            time.sleep(0.05)
        os.killpg(p.pid, signal.SIGKILL)  # the sweep and the point in flight, no clean-up
        p.wait()
        self.assertGreaterEqual(len(done), 2)
        finished = {d: os.path.getmtime(os.path.join(out, "points", d, "result.json")) for d in done}
        self.assertLess(len(finished), 6, "the sweep finished before it could be killed")
        runs_before = self.runs()
        r = self.sweep(self.topos[:3], out, "--runner", "python")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = read_csv(os.path.join(out, "results.csv"))
        self.assertEqual(len(rows), 6)
        self.assertTrue(all(x["exit_code"] == "0" for x in rows))
        self.assertEqual(self.runs() - runs_before, 6 - len(finished))
        for d, mtime in finished.items():
            self.assertEqual(os.path.getmtime(os.path.join(out, "points", d, "result.json")), mtime)

    def test_bad_arguments(self):
        r = subprocess.run([sys.executable, SWEEP, "-t", self.topos[0], "-w", self.work, "--grid", "bandwidth=1,2",
                            "--llmsim", FAKE, "-o", os.path.join(self.dir, "x")], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("must start with 'topology.' or 'workload.'", r.stderr)
        r = subprocess.run([sys.executable, SWEEP, "-t", self.topos[0], "-w", "missing.yaml", "--llmsim", FAKE,
                            "-o", os.path.join(self.dir, "x")], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.yaml: no such file", r.stderr)


# Stands in for sbatch when the test runs the command lines a dry run prints: runs an array
# script's tasks one after another here (SLURM_ARRAY_TASK_ID set), or a --wrap command.
FAKE_SBATCH = """#!/usr/bin/env python3
import os, re, subprocess, sys
opts = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
files = [a for a in sys.argv[1:] if not a.startswith("--")]
open(os.environ["FAKE_SBATCH_LOG"], "a").write(" ".join(sys.argv[1:]) + "\\n")
if files:
    text = open(files[0]).read()
    array = re.search(r"^#SBATCH --array=([0-9,]+)", text, re.M).group(1)
    cwd = re.search(r"^#SBATCH --chdir=(.*)$", text, re.M).group(1)
    for task in array.split(","):
        subprocess.run(["bash", files[0]], cwd=cwd, env=dict(os.environ, SLURM_ARRAY_TASK_ID=task), check=True,
                       stdout=subprocess.DEVNULL)  # Slurm writes task output to --output files
    print("4242;cluster")
else:
    subprocess.run(["sh", "-c", opts["wrap"]], cwd=opts["chdir"], check=True, stdout=subprocess.DEVNULL)
    print("4243")
"""


class SweepSlurmDryRun(SweepWithFake):
    """--slurm --dry-run: files written, nothing submitted, the printed lines work."""

    def test_dry_run_writes_and_explains(self):
        out = os.path.join(self.dir, "s5")
        bindir = os.path.join(self.dir, "bin")
        os.makedirs(bindir)
        with open(os.path.join(bindir, "sbatch"), "w") as f:
            f.write(FAKE_SBATCH)
        os.chmod(os.path.join(bindir, "sbatch"), 0o755)
        sbatch_log = os.path.join(self.dir, "sbatch.log")
        env = dict(self.env, PATH=bindir + os.pathsep + os.environ["PATH"], FAKE_SBATCH_LOG=sbatch_log)
        self.assertEqual(self.sweep(self.topos[:1], out, "--runner", "python").returncode, 0)  # points 0, 1 done
        r = self.sweep(self.topos[:3], out, "-j", "3", "--slurm", "--dry-run", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(sbatch_log), "a dry run called sbatch")
        self.assertEqual(self.runs(), 2)  # and ran no point here
        with open(os.path.join(out, "sweep.sbatch")) as f:
            self.assertIn("#SBATCH --array=2,3,4,5%3\n", f.read())
        with open(os.path.join(out, "sweep.json")) as f:
            points = json.load(f)["points"]
        with open(os.path.join(out, "points.tsv")) as f:
            table = list(csv.DictReader(f, delimiter="\t"))
        self.assertEqual([int(x["index"]) for x in table], [2, 3, 4, 5])
        for x in table:
            p = points[int(x["index"])]
            self.assertEqual((x["id"], x["topology"], x["workload"]), (p["id"], p["topology"], p["workload"]))
            self.assertEqual(x["set"], "topology.fabrics.0.link.bandwidth=" + p["set"][0][1])
        self.assertIn("nothing submitted", r.stdout)
        submit = " ".join(l.strip() for l in r.stdout.splitlines() if l.startswith("  "))
        self.assertIn(f"sbatch --parsable {os.path.join(out, 'sweep.sbatch')}", submit)
        self.assertIn("--dependency=afterany:", submit)
        # The printed lines, run as printed (sbatch faked), finish the sweep and collect it.
        run = subprocess.run(["bash", "-c", submit], env=env, capture_output=True, text=True, cwd=self.dir)
        self.assertEqual(run.returncode, 0, run.stderr)
        with open(sbatch_log) as f:
            self.assertIn("--dependency=afterany:4242 ", f.read())  # the collection waits for the array job
        self.assertEqual(self.runs(), 6)
        rows = read_csv(os.path.join(out, "results.csv"))
        self.assertEqual([x["exit_code"] for x in rows], ["0"] * 6)
        r = self.sweep(self.topos[:1], out, "--dry-run")
        self.assertEqual(r.returncode, 2)  # --dry-run is for --slurm only
        self.assertIn("--dry-run goes with --slurm", r.stderr)


class SweepWithLlmsim(unittest.TestCase):
    """End to end with the real simulator on shipped/test topologies."""

    def test_real_sweep(self):
        topos = [os.path.join(ROOT, "topologies", "dgx-h100.yaml"),
                 os.path.join(ROOT, "test", "data", "sweep", "ring4.yaml"),
                 os.path.join(ROOT, "test", "data", "sweep", "fc4.yaml")]
        work = os.path.join(ROOT, "test", "data", "sweep", "allreduce.yaml")
        if not os.access(LLMSIM, os.X_OK):
            self.skipTest(f"{LLMSIM} not built")
        probe = subprocess.run([LLMSIM, "check", work, *topos], capture_output=True, text=True)
        if probe.returncode != 0:
            self.skipTest("SKIPPED until the microbench workload lands: " + probe.stderr.strip().splitlines()[-1])
        d = tempfile.mkdtemp(prefix="llmsim_sweep_real_")
        try:
            r = subprocess.run([sys.executable, SWEEP, "-t", *topos, "-w", work, "--grid", BW, "--llmsim", LLMSIM,
                                "-o", d, "--quiet", "-j", "2"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            rows = read_csv(os.path.join(d, "results.csv"))
            self.assertEqual(len(rows), 6)
            for x in rows:
                self.assertEqual(x["exit_code"], "0", x["error"])
                self.assertEqual(x["kind"], "microbench")
                self.assertGreater(float(x["microbench.0.time_s"]), 0)
            # Halving the link bandwidth slows the allreduce on every topology.
            for i in range(0, 6, 2):
                self.assertGreater(float(rows[i]["microbench.0.time_s"]), float(rows[i + 1]["microbench.0.time_s"]))
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
