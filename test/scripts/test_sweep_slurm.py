#!/usr/bin/env python3
"""scripts/sweep --slurm on a real single-node Slurm cluster: starts munged, slurmctld and
slurmd on localhost (private key, config, ports and spool in a temporary folder; nothing
in /etc is touched), runs a 6-point sweep through sbatch, checks results.csv, stops the
daemons it started. Skips, saying why, only when the daemons are not installed (Debian
packages slurm-wlm and munge; scripts/test installs them) or cannot start here."""
import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SWEEP = os.path.join(ROOT, "scripts", "sweep")
FAKE = os.path.join(ROOT, "test", "scripts", "fake-llmsim")
LLMSIM = os.environ.get("LLMSIM_BINARY", os.path.join(ROOT, "build", "llmsim"))
TOOLS = ("munged", "slurmctld", "slurmd", "sbatch", "sinfo", "scancel")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, n=8):
    try:
        with open(path) as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)"


class SlurmCluster:
    def __init__(self, d):
        self.d = d
        self.host = socket.gethostname().split(".")[0]
        self.env = dict(os.environ, SLURM_CONF=os.path.join(d, "slurm.conf"))
        self.pidfiles = [os.path.join(d, n) for n in ("slurmd.pid", "slurmctld.pid", "munged.pid")]

    def start(self):
        """Returns None when the node is up, else why not."""
        d = self.d
        for sub in ("state", "spool"):
            os.makedirs(os.path.join(d, sub))
        key = os.path.join(d, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        sock = os.path.join(d, "munge.socket")
        r = subprocess.run(["munged", "-f", f"--key-file={key}", f"--socket={sock}",
                            f"--pid-file={d}/munged.pid", f"--log-file={d}/munged.log", f"--seed-file={d}/munge.seed"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return f"munged would not start: {r.stderr.strip()}"
        # 8 CPUs on any box (config_overrides): the six tasks are tiny and should run at once,
        # not in waves two scheduler passes apart.
        conf = f"""ClusterName=llmsimtest
SlurmctldHost={self.host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmdParameters=config_overrides
NodeName={self.host} NodeAddr=127.0.0.1 CPUs=8 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""
        with open(self.env["SLURM_CONF"], "w") as f:
            f.write(conf)
        for cmd in (["slurmctld", "-i"], ["slurmd"]):
            r = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
            if r.returncode != 0:
                return f"{cmd[0]} would not start: {r.stderr.strip()}"
        deadline = time.time() + 30
        while time.time() < deadline:
            r = subprocess.run(["sinfo", "-h", "-o", "%t"], env=self.env, capture_output=True, text=True)
            if r.stdout.strip() in ("idle", "mix", "alloc"):
                return None
            time.sleep(0.5)
        return "node never became idle:\n" + tail(f"{d}/slurmctld.log") + tail(f"{d}/slurmd.log")

    def stop(self):
        subprocess.run(["scancel", "--user=root"], env=self.env, capture_output=True)
        for pf in self.pidfiles:  # only the daemons this test started, by their pid files
            try:
                with open(pf) as f:
                    os.kill(int(f.read().strip()), signal.SIGTERM)
            except (OSError, ValueError):
                pass
        time.sleep(1)


class SweepOnSlurm(unittest.TestCase):
    def test_sweep_through_sbatch(self):
        missing = [t for t in TOOLS if not shutil.which(t)]
        if missing:
            self.skipTest(f"SKIPPED: {', '.join(missing)} not installed (apt-get install slurm-wlm munge)")
        if os.geteuid() != 0:
            self.skipTest("SKIPPED: a private Slurm cluster needs root here (SlurmUser=root)")
        d = tempfile.mkdtemp(prefix="llmsim_slurm_")
        cluster = SlurmCluster(d)
        try:
            why = cluster.start()
            if why:
                self.skipTest("SKIPPED: Slurm daemons cannot start here: " + why)
            topos = [os.path.join(ROOT, "topologies", "dgx-h100.yaml"),
                     os.path.join(ROOT, "test", "data", "sweep", "ring4.yaml"),
                     os.path.join(ROOT, "test", "data", "sweep", "fc4.yaml")]
            work = os.path.join(ROOT, "test", "data", "sweep", "allreduce.yaml")
            real = os.access(LLMSIM, os.X_OK) and subprocess.run([LLMSIM, "check", work, *topos],
                                                                  capture_output=True).returncode == 0
            out = os.path.join(d, "sweep")
            cmd = [sys.executable, SWEEP, "-t", *topos, "-w", work, "--grid",
                   "topology.fabrics.0.link.bandwidth=200 GB/s,400 GB/s", "--llmsim", LLMSIM if real else FAKE,
                   "-o", out, "-j", "6", "--slurm", "--wait"]
            r = subprocess.run(cmd, env=cluster.env, capture_output=True, text=True, timeout=180)
            self.assertEqual(r.returncode, 0, r.stderr + tail(f"{d}/slurmctld.log"))
            with open(os.path.join(out, "sweep.sbatch")) as f:
                self.assertIn("#SBATCH --array=0,1,2,3,4,5%6", f.read())
            with open(os.path.join(out, "results.csv")) as f:
                rows = list(csv.DictReader(f))
            self.assertEqual(len(rows), 6)
            self.assertEqual([x["exit_code"] for x in rows], ["0"] * 6)
            self.assertEqual(len(os.listdir(os.path.join(out, "slurm"))), 7)  # 6 tasks + the collect job
            if real:
                for i in range(0, 6, 2):  # halving the bandwidth slows the allreduce
                    self.assertGreater(float(rows[i]["microbench.0.time_s"]), float(rows[i + 1]["microbench.0.time_s"]))
            # Resumable on Slurm too: nothing left, nothing submitted.
            r = subprocess.run(cmd, env=cluster.env, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("nothing submitted", r.stderr)
            self.dry_run_then_submit_as_printed(cmd, os.path.join(d, "dry"), cluster.env)
        finally:
            cluster.stop()
            shutil.rmtree(d, ignore_errors=True)

    def dry_run_then_submit_as_printed(self, cmd, out, env):
        """--dry-run submits nothing; the two lines it prints, run as printed, do the sweep."""
        dry = [a for a in cmd if a != "--wait"]
        dry[dry.index("-o") + 1] = out
        r = subprocess.run(dry + ["--dry-run"], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        queue = subprocess.run(["squeue", "-h", "-n", "llmsim-sweep"], env=env, capture_output=True, text=True)
        self.assertEqual(queue.stdout.strip(), "")  # nothing submitted
        self.assertFalse(os.path.exists(os.path.join(out, "results.csv")))
        submit = " ".join(l.strip() for l in r.stdout.splitlines() if l.startswith("  "))
        s = subprocess.run(["bash", "-c", submit], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(s.returncode, 0, s.stderr)
        deadline = time.time() + 120
        while not os.path.exists(os.path.join(out, "results.csv")) and time.time() < deadline:
            time.sleep(0.5)
        with open(os.path.join(out, "results.csv")) as f:
            self.assertEqual([x["exit_code"] for x in csv.DictReader(f)], ["0"] * 6)


if __name__ == "__main__":
    unittest.main(verbosity=2)
