"""Process control for scripts/sweep's workers (imported by it; not a command):
interrupts passed on to every worker, stray processes stopped and reaped, progress lines.

On SIGINT / SIGTERM the sweep passes the signal to every llmsim it started and to the
process group of GNU parallel (which stops its jobs: each job has a process group of its
own), and sends SIGTERM to every other process below it found in /proc; what still runs
Stop.GRACE_S later is killed. As a
child subreaper, the sweep inherits workers orphaned by a dying runner, so reap_strays
finds and ends them too."""
import os
import signal
import sys
import threading
import time


class Stop:
    """Interrupt state shared by the signal handler (main thread) and the worker threads.
    Workers start llmsim under `lock` after checking `signum`, and the handler signals
    what is registered under the same lock, so no process starts unseen after a signal."""
    lock = threading.RLock()  # re-entrant: the handler may run while the main thread holds it
    signum = None
    procs = set()  # running llmsim processes (Popen) started by this process
    groups = set()  # process groups of the runners (GNU parallel's; its jobs have their own)
    GRACE_S = 10  # after a signal, what still runs this much later is killed (SIGKILL)


def descendants(root):
    """[(pid, state)] of every process below `root`, from /proc (empty where there is none)."""
    children = {}
    try:
        names = [n for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return []
    for name in names:
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()  # the command name may hold spaces
            children.setdefault(int(fields[1]), []).append((int(name), fields[0]))
        except (OSError, ValueError, IndexError):
            continue
    out, stack = [], [root]
    while stack:
        for pid, state in children.get(stack.pop(), []):
            out.append((pid, state))
            stack.append(pid)
    return out


def signal_all(signum):
    """`signum` to every registered llmsim and runner group; SIGTERM (or SIGKILL) to every
    other descendant: a worker still starting up has no handler yet, and dies of SIGTERM
    silently where SIGINT would print a traceback. Processes already gone are skipped."""
    with Stop.lock:
        targets = [(os.kill, p.pid, signum) for p in Stop.procs] + [(os.killpg, g, signum) for g in Stop.groups]
    other = signal.SIGKILL if signum == signal.SIGKILL else signal.SIGTERM
    targets += [(os.kill, pid, other) for pid, state in descendants(os.getpid()) if state != "Z"]
    for send, pid, sig in targets:
        try:
            send(pid, sig)
        except OSError:
            pass


def on_signal(signum, frame):
    if Stop.signum is None:
        Stop.signum = signum
        timer = threading.Timer(Stop.GRACE_S, signal_all, [signal.SIGKILL])
        timer.daemon = True
        timer.start()
    signal_all(signum)


def catch_interrupts():
    """SIGINT and SIGTERM stop the sweep in order (on_signal) instead of a traceback / orphans;
    one that was ignored when the sweep started stays ignored (a shell's background job
    ignores SIGINT, nohup-style launchers more). As a child subreaper, workers orphaned by a
    dying runner stay ours to find and reap."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) != signal.SIG_IGN:
            signal.signal(signum, on_signal)
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER (Linux)
    except (OSError, AttributeError):
        pass


def reap_strays(grace_s=2.0):
    """After the runner ended: stop any descendant still alive (SIGTERM, SIGKILL past
    `grace_s`) and reap the zombies, so an interrupted sweep leaves no process behind."""
    deadline = time.monotonic() + grace_s
    while True:
        left = descendants(os.getpid())
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        alive = [pid for pid, state in left if state != "Z"]
        if not alive:
            return
        for pid in alive:
            try:
                os.kill(pid, signal.SIGTERM if time.monotonic() < deadline else signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)


def clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """One stderr line per finished point: done / total, failures, elapsed, ETA. The ETA is
    the points left at the rate so far (elapsed / done each), which already counts -j."""

    def __init__(self, total, quiet):
        self.total, self.quiet, self.done, self.failed = total, quiet, 0, 0
        self.start = time.monotonic()

    def step(self, status):
        if status == "interrupted":
            return
        self.done += 1
        self.failed += status == "failed"
        if self.quiet:
            return
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        print(f"sweep: {self.done}/{self.total} points done ({self.failed} failed), {clock(elapsed)} elapsed, "
              f"ETA {clock(eta)}", file=sys.stderr, flush=True)


def worker_group():
    """In GNU parallel's child before exec: a process group of its own (the sweep signals
    it as one), and SIGTERM when the sweep dies even by SIGKILL (parallel then stops its jobs)."""
    os.setpgrp()
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass
