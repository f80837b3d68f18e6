"""Runs one command and measures it as a whole: wall time and peak memory.

CPU time (user + system, the process and the descendants it waited for) says
how much work it was, which is what decides the wall time on a busy machine.
Peak memory is reported two ways, both in MB:
- `tree_mb`: the peak, over samples taken every SAMPLE_S seconds, of the summed
  RSS of the process and all its descendants (a helper process counts; see
  TreePeak for the one kind of process left out);
- `max_mb`: `ru_maxrss` from `os.wait4`, the largest single process among the
  process and the descendants it waited for (exact, but blind to the sum).
"""

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

SAMPLE_S = 0.05
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Measurement:
    wall_s: float
    cpu_s: float  # user + system time of the process and the descendants it waited for
    tree_mb: float
    max_mb: float
    returncode: int


def _stat(pid: int):
    """(ppid, rss_kb) of `pid`, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # fields[0] is the state, field 3 of stat(5)
    return int(fields[1]), int(fields[21]) * PAGE_KB


def tree_rss_kb(root: int) -> Dict[int, int]:
    """RSS of `root` and each of its descendants, by pid. Children get higher
    pids than their parent (short of pid wrap-around), so only those are read."""
    stats: Dict[int, tuple] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) >= root:
            stat = _stat(int(name))
            if stat:
                stats[int(name)] = stat
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, (ppid, _) in stats.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return {pid: stats[pid][1] for pid in tree if pid in stats}


class TreePeak:
    """The peak over samples of the summed RSS of the tree's processes. A
    process counts from its second sample on: a child forked only to exec a
    tool (ctypes runs ldconfig) shows its parent's whole RSS for a moment,
    all of it shared, and would count it twice."""

    def __init__(self, root: int):
        self.root, self.seen, self.peak_kb = root, {}, 0

    def sample(self) -> None:
        sizes = tree_rss_kb(self.root)
        for pid in sizes:
            self.seen[pid] = self.seen.get(pid, 0) + 1
        total = sum(kb for pid, kb in sizes.items() if pid == self.root or self.seen[pid] > 1)
        self.peak_kb = max(self.peak_kb, total)


def run(cmd: List[str], cwd: Path, env: Dict[str, str], log_name: str,
        timeout: Optional[float] = 900) -> Measurement:
    """Runs `cmd` in `cwd` with stdout and stderr in `cwd/<log_name>.out|.err`."""
    cwd.mkdir(parents=True, exist_ok=True)
    with open(cwd / f"{log_name}.out", "wb") as out, open(cwd / f"{log_name}.err", "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        peak, done = TreePeak(proc.pid), threading.Event()

        def sample():
            while not done.wait(SAMPLE_S):
                peak.sample()

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        deadline = None if timeout is None else start + timeout
        while True:  # wait4 gives this child's own rusage; Popen.wait would not
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline and time.perf_counter() > deadline:
                proc.kill()
            time.sleep(0.005)
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    # A sample can miss a short spike that wait4 saw: the sum is never below the largest.
    tree_kb = max(peak.peak_kb, usage.ru_maxrss)
    cpu = usage.ru_utime + usage.ru_stime
    return Measurement(wall, cpu, tree_kb / 1024, usage.ru_maxrss / 1024, proc.returncode)


def rss_mb(pid: int) -> float:
    """The resident set size of `pid` now, in MB (VmRSS of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmRSS for pid {pid}")


def rss_at_lines(cmd: List[str], cwd: Path, env: Dict[str, str], prefixes: List[str],
                 timeout: float = 1800) -> Dict[str, float]:
    """Runs `cmd` and returns, for each of `prefixes`, the RSS (MB) of the
    process itself (not its helpers) when it printed a line starting with it;
    stdout is also copied to `cwd/rss.out`. Raises if the command fails or a
    prefix never came."""
    cwd.mkdir(parents=True, exist_ok=True)
    found: Dict[str, float] = {}
    with open(cwd / "rss.out", "w") as copy, open(cwd / "rss.err", "wb") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                                text=True, bufsize=1)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        for line in proc.stdout:
            copy.write(line)
            for prefix in prefixes:
                if prefix not in found and line.startswith(prefix):
                    found[prefix] = rss_mb(proc.pid)
        timer.cancel()
        if proc.wait() != 0 or len(found) < len(prefixes):
            raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}; lines seen: {sorted(found)}")
    return found
