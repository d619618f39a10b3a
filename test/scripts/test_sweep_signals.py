#!/usr/bin/env python3
"""scripts/sweep interrupted by SIGTERM / SIGINT (run by test/unit/test_sweep.cpp under
ctest, or directly: `python3 test/scripts/test_sweep_signals.py`), with both runners:
Python threads, and GNU parallel when it is installed. Each case runs 6 points at -j 2:
two fast ones, two that sleep 120 s, two more; it signals the sweep while the slow pair
runs and checks the exit status, that no process the sweep started survives (by pid, and
by the sweep's process group), that results.csv holds exactly the two finished points,
and that a rerun resumes with the four others. Also checks the progress lines."""
import csv
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
BW = "topology.fabrics.0.link.bandwidth=200 GB/s,400 GB/s"
RUNNERS = ["python"] + (["parallel"] if shutil.which("parallel") else [])


def proc_table():
    """{pid: (ppid, state)} from /proc."""
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                table[int(name)] = (int(fields[1]), fields[0])
            except (OSError, IndexError, ValueError):
                pass
    return table


def descendants(root):
    table = proc_table()
    out, stack = set(), [root]
    while stack:
        parent = stack.pop()
        for pid, (ppid, _) in table.items():
            if ppid == parent and pid not in out:
                out.add(pid)
                stack.append(pid)
    return out


def alive(pid):
    """Running or stopped, not a zombie (a zombie is gone but for its exit status)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def group_exists(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


class SweepInterrupted(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="llmsim_sweep_sig_")
        self.topos = []
        for name in ("a.yaml", "slow.yaml", "c.yaml"):
            self.topos.append(os.path.join(self.dir, name))
            open(self.topos[-1], "w").close()
        self.work = os.path.join(self.dir, "w.yaml")
        open(self.work, "w").close()
        self.pids = os.path.join(self.dir, "pids")
        os.makedirs(self.pids)
        self.log = os.path.join(self.dir, "runs.log")
        self.env = dict(os.environ, FAKE_LLMSIM_PIDS=self.pids, FAKE_LLMSIM_LOG=self.log)

    def tearDown(self):
        # A failing sweep may leave its points running: stop the ones this test recorded.
        for pid in (int(p) for p in os.listdir(self.pids)):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"fake-llmsim" in f.read():
                        os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def command(self, out, runner, topos):
        return [sys.executable, SWEEP, "-t", *topos, "-w", self.work, "--grid", BW, "--llmsim", FAKE,
                "-o", out, "-j", "2", "--runner", runner]

    def wait_for_slow_pair(self, proc):
        """Returns once both slow points run (at -j 2, so both fast ones have finished)."""
        deadline = time.time() + 60
        while time.time() < deadline:
            self.assertIsNone(proc.poll(), "the sweep ended before it was interrupted")
            if os.path.exists(self.log):
                with open(self.log) as f:
                    if sum("slow" in line for line in f) == 2:
                        return
            time.sleep(0.05)
        self.fail("the two slow points never started")

    def interrupt(self, runner, signum, expect_rc):
        out = os.path.join(self.dir, "out")
        # An old results.csv must not survive as if it were this sweep's.
        os.makedirs(out)
        with open(os.path.join(out, "results.csv"), "w") as f:
            f.write("id,stale\nxxxx,1\n")
        # Default dispositions whatever this test inherited (a background job ignores SIGINT,
        # and the sweep keeps an ignored signal ignored).
        reset = lambda: [signal.signal(s, signal.SIG_DFL) for s in (signal.SIGINT, signal.SIGTERM)]
        proc = subprocess.Popen(self.command(out, runner, self.topos), env=self.env, start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=reset)
        try:
            self.wait_for_slow_pair(proc)
            started = descendants(proc.pid) | {int(p) for p in os.listdir(self.pids)}
            t0 = time.time()
            os.kill(proc.pid, signum)  # the sweep alone, as `kill PID` does: it must pass it on
            _, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.assertEqual(proc.returncode, expect_rc, stderr)
        self.assertLess(time.time() - t0, 30, "the slow points (120 s) were waited for, not stopped")
        self.assertNotIn("Traceback", stderr)
        lines = [l for l in stderr.splitlines() if "interrupted" in l]
        self.assertEqual(len(lines), 1, stderr)
        self.assertIn(f"interrupted by {signal.Signals(signum).name}", lines[0])
        self.assertIn("2 of 6 points finished", lines[0])
        survivors = [pid for pid in started if alive(pid)]
        self.assertEqual(survivors, [], f"processes left running: {survivors}")
        self.assertFalse(group_exists(proc.pid), "a process of the sweep's group survived")
        with open(os.path.join(out, "results.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([os.path.basename(r["topology"]) for r in rows], ["a.yaml", "a.yaml"])
        self.assertEqual([r["exit_code"] for r in rows], ["0", "0"])
        with_result = sorted(d for d in os.listdir(os.path.join(out, "points"))
                             if os.path.exists(os.path.join(out, "points", d, "result.json")))
        self.assertEqual(sorted(r["id"] for r in rows), with_result)  # a stopped point left no result
        # Resume: the same command (the slow points now quick) runs only the 4 unfinished points.
        with open(self.log) as f:
            runs_before = len(f.readlines())
        r = subprocess.run(self.command(out, runner, self.topos) + ["--quiet"],
                           env=dict(self.env, FAKE_LLMSIM_SLOW_S="0"), capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.log) as f:
            self.assertEqual(len(f.readlines()) - runs_before, 4, "finished points were rerun")
        with open(os.path.join(out, "results.csv")) as f:
            self.assertEqual([r["exit_code"] for r in csv.DictReader(f)], ["0"] * 6)

    def test_sigterm(self):
        for runner in RUNNERS:
            with self.subTest(runner=runner):
                try:
                    self.interrupt(runner, signal.SIGTERM, 143)
                finally:
                    self.tearDown()
                    self.setUp()

    def test_sigint(self):
        for runner in RUNNERS:
            with self.subTest(runner=runner):
                try:
                    self.interrupt(runner, signal.SIGINT, 130)
                finally:
                    self.tearDown()
                    self.setUp()


class SweepProgress(unittest.TestCase):
    def test_done_total_eta_with_each_runner(self):
        d = tempfile.mkdtemp(prefix="llmsim_sweep_prog_")
        try:
            topo, work = os.path.join(d, "a.yaml"), os.path.join(d, "w.yaml")
            open(topo, "w").close()
            open(work, "w").close()
            for runner in RUNNERS:
                out = os.path.join(d, runner)
                r = subprocess.run([sys.executable, SWEEP, "-t", topo, "-w", work, "--grid", BW,
                                    "--grid", "workload.x=1,2", "--llmsim", FAKE, "-o", out, "-j", "2",
                                    "--runner", runner], capture_output=True, text=True, timeout=120)
                self.assertEqual(r.returncode, 0, r.stderr)
                lines = [l for l in r.stderr.splitlines() if "points done" in l]
                self.assertEqual([l.split()[1] for l in lines], ["1/4", "2/4", "3/4", "4/4"], r.stderr)
                for l in lines:
                    self.assertRegex(l, r"^sweep: \d/4 points done \(0 failed\), \d+:\d\d:\d\d elapsed, "
                                        r"ETA \d+:\d\d:\d\d$")
                self.assertTrue(lines[-1].endswith("ETA 0:00:00"))
                r = subprocess.run([sys.executable, SWEEP, "-t", topo, "-w", work, "--grid", BW, "--llmsim", FAKE,
                                    "-o", out, "--runner", runner, "--quiet"], capture_output=True, text=True)
                self.assertEqual(r.stderr, "")  # --quiet: no progress lines
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
