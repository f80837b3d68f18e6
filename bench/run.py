"""rnnexp against the bare lesson script, whole process, side by side.

    python bench/run.py                 # every case, 3 repeats (a few minutes)
    python bench/run.py --repeats 5 --cases a,b --json out.json

Cases (A = rnnexp, B = bench/lesson.py), each run in a fresh scratch folder:
  a  `python -m rnnexp`, default config, into an already created store
  b  a 16-point sweep `'hidden_size=range(1,17)' -m` vs one process looping the 16 sizes
  c  the large config (256 x 200 steps, 60-char vocab, hidden 256) on the same data
  e  a 64-point sweep `'hidden_size=range(1,65)' -m` vs one process looping the 64
     sizes; with b, the cost of each point beyond the 16th (the slope), A and B
  f  a 256-point sweep with plots: the CLI's RSS after point 16 and after point 256
  g  the 64-point sweep vs bench/same_work.py (B here): the same work a point records,
     written plainly with Hydra, Keras, matplotlib and MLflow, swept by Hydra
  d  `--help`, `--cfg job` and a config error: timings, and a check through
     PYTHONPROFILEIMPORTTIME (inherited by any helper process) that none of
     tensorflow, keras, mlflow is imported
A and B alternate (ABBA...), so drift in the machine's load hits both alike.
Prints medians and ratios against the targets of issues 7 and 16.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))
from large_data import write_data_config  # noqa: E402
from measure import Measurement, rss_at_lines, run  # noqa: E402

BENCH = Path(__file__).resolve().parent
LESSON = str(BENCH / "lesson.py")
SAME_WORK = str(BENCH / "same_work.py")
FORBIDDEN = ("tensorflow", "keras", "mlflow")
TARGETS = {("a", "time"): 1.3, ("b", "time"): 1.3, ("c", "time"): 1.2, ("c", "rss"): 1.5,
           ("e", "time"): 1.3, ("e", "cpu"): 2.0}
RSS_GROWTH_MB = 50  # case f: the CLI's RSS after point 256 within this of its RSS after point 16


def child_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "HYDRA_FULL_ERROR")}
    env.update({"TF_CPP_MIN_LOG_LEVEL": "2", **(extra or {})})
    return env


class Bench:
    def __init__(self, python: str, root: Path):
        self.python, self.root, self.count = python, root, 0
        self.rnnexp = [python, "-m", "rnnexp"]
        self.conf_dir = write_data_config(root / "bench_conf")
        self.store = root / "template_store"

    def fresh(self, label: str) -> Path:
        self.count += 1
        return self.root / f"{self.count:03d}-{label}"

    def measure(self, label: str, cmd, setup=None, env=None) -> Measurement:
        folder = self.fresh(label)
        folder.mkdir(parents=True)
        if setup:
            setup(folder)
        result = run(cmd, folder, child_env(env), "log")
        if result.returncode != 0:
            err = (folder / "log.err").read_text()[-3000:]
            raise SystemExit(f"{label}: {' '.join(cmd)} exited {result.returncode}\n{err}")
        return result

    def copy_store(self, folder: Path) -> None:
        shutil.copy2(self.store / "mlflow.db", folder / "mlflow.db")

    def prepare(self) -> None:
        """Creates the template store for case a; doubles as a warm-up."""
        self.store.mkdir(parents=True)
        run(self.rnnexp, self.store, child_env(), "log")
        run([self.python, LESSON], self.fresh("warmup"), child_env(), "log")

    def cases(self):
        """key -> (title, (A label, A cmd, A setup), (B label, B cmd))."""
        return {
            "a": ("single run, store exists", ("rnnexp", self.rnnexp, self.copy_store),
                  ("lesson", [self.python, LESSON])),
            "b": ("16-point sweep", ("rnnexp", self.rnnexp + ["hidden_size=range(1,17)", "-m"], None),
                  ("lesson", [self.python, LESSON, "--sizes", "1-16"])),
            "e": ("64-point sweep", ("rnnexp", self.rnnexp + ["hidden_size=range(1,65)", "-m"], None),
                  ("lesson", [self.python, LESSON, "--sizes", "1-64"])),
            "g": ("64-point sweep vs the same work plainly",
                  ("rnnexp", self.rnnexp + ["hidden_size=range(1,65)", "-m"], None),
                  ("same_work", [self.python, SAME_WORK, "hidden_size=range(1,65)", "-m"])),
            "c": ("large: 256x200, V=60, H=256",
                  ("rnnexp", self.rnnexp + ["--config-dir", str(self.conf_dir), "data=bench_large",
                                            "hidden_size=256"], None),
                  ("lesson", [self.python, LESSON, "--large"])),
        }

    def pairs(self, keys, repeats: int):
        """{key: {"A": [Measurement], "B": [...]}}, runs alternating ABBA."""
        results = {key: {"A": [], "B": []} for key in keys}
        cases = self.cases()
        for r in range(repeats):
            for key in keys:
                _, (a_label, a_cmd, a_setup), (b_label, b_cmd) = cases[key]
                order = ("A", "B") if r % 2 == 0 else ("B", "A")
                for side in order:
                    if side == "A":
                        m = self.measure(f"{key}-{a_label}", a_cmd, a_setup)
                    else:
                        m = self.measure(f"{key}-{b_label}", b_cmd)
                    results[key][side].append(m)
                    print(f"  {key} {side} run {r + 1}: {m.wall_s:6.2f} s  cpu {m.cpu_s:6.2f} s  "
                          f"tree {m.tree_mb:7.1f} MB  max {m.max_mb:7.1f} MB", flush=True)
        return results

    def memory_growth(self) -> Dict[str, float]:
        """Case f: the CLI's RSS after sweep points 16 and 256 of 256, plots on."""
        folder = self.fresh("f")
        rss = rss_at_lines(self.rnnexp + ["hidden_size=range(1,257)", "plots.enabled=true", "-m"], folder,
                           child_env(), ["[16/256]", "[256/256]"])
        out = {"after_16_mb": rss["[16/256]"], "after_256_mb": rss["[256/256]"]}
        print(f"  f RSS after point 16: {out['after_16_mb']:.1f} MB, after point 256: {out['after_256_mb']:.1f} MB",
              flush=True)
        return out

    def fast_paths(self, repeats: int):
        """Case d: timings and the import check of the paths that must stay light."""
        commands = {"--help": ["--help"], "--cfg job": ["--cfg", "job"], "config error": ["hidden_size=0"]}
        out = {}
        for name, args in commands.items():
            times = []
            for _ in range(repeats):
                folder = self.fresh("d")
                times.append(run(self.rnnexp + args, folder, child_env(), "log").wall_s)
            folder = self.fresh("d-importtime")
            m = run(self.rnnexp + args, folder, child_env({"PYTHONPROFILEIMPORTTIME": "1"}), "log")
            imported = heavy_imports((folder / "log.err").read_text())
            out[name] = {"median_s": statistics.median(times), "heavy_imports": imported,
                         "returncode": m.returncode, "store_created": (folder / "mlflow.db").exists()}
            print(f"  d {name}: {out[name]}", flush=True)
        return out


def heavy_imports(importtime_log: str):
    """The forbidden top-level packages named in a -X importtime log."""
    found = set()
    for line in importtime_log.splitlines():
        if line.startswith("import time:") and "|" in line:
            module = line.rsplit("|", 1)[1].strip()
            if module.split(".")[0] in FORBIDDEN:
                found.add(module.split(".")[0])
    return sorted(found)


def ratio_row(key, what, a, b, unit):
    ratio = a / b if b else float("nan")
    target = TARGETS.get((key, what))
    verdict = "" if target is None else ("ok" if ratio <= target else "OVER")
    target_text = f"<= {target}" if target else ""
    return f"{key:2} {what:5} {a:9.2f} {b:9.2f} {unit:3} {ratio:6.2f}  {target_text:8} {verdict}"


def slope_rows(results) -> List[str]:
    """The cost of one more point, from the medians of the 16-point (b) and 64-point (e) sweeps."""
    if "b" not in results or "e" not in results:
        return []
    rows = []
    for field, what in (("wall_s", "time"), ("cpu_s", "cpu")):
        per = {side: (statistics.median(getattr(m, field) for m in results["e"][side])
                      - statistics.median(getattr(m, field) for m in results["b"][side])) / 48 for side in "AB"}
        ratio = per["A"] / per["B"] if per["B"] else float("nan")
        rows.append(f"per point (b->e) {what:5} A {per['A']:.3f} s  B {per['B']:.3f} s  A/B {ratio:.2f}")
    return rows


def report(results, fast, repeats: int, growth=None) -> str:
    lines = [f"medians of {repeats} runs; A = python -m rnnexp, B = bench/lesson.py (g: bench/same_work.py)",
             f"{'':2} {'':5} {'A':>9} {'B':>9} {'':3} {'A/B':>6}  {'target':8}"]
    for key, sides in results.items():
        fields = ("wall_s", "cpu_s", "tree_mb", "max_mb")
        med = {side: {f: statistics.median(getattr(m, f) for m in runs) for f in fields}
               for side, runs in sides.items()}
        lines.append(ratio_row(key, "time", med["A"]["wall_s"], med["B"]["wall_s"], "s"))
        lines.append(ratio_row(key, "cpu", med["A"]["cpu_s"], med["B"]["cpu_s"], "s"))
        lines.append(ratio_row(key, "rss", med["A"]["tree_mb"], med["B"]["tree_mb"], "MB"))
        lines.append(ratio_row(key, "max1", med["A"]["max_mb"], med["B"]["max_mb"], "MB"))
    lines += slope_rows(results)
    if growth:
        grew = growth["after_256_mb"] - growth["after_16_mb"]
        lines.append(f"f  CLI RSS after point 16 {growth['after_16_mb']:.1f} MB, after point 256 "
                     f"{growth['after_256_mb']:.1f} MB: {grew:+.1f} MB  target <= {RSS_GROWTH_MB} MB  "
                     f"{'ok' if grew <= RSS_GROWTH_MB else 'OVER'}")
    for name, row in (fast or {}).items():
        clean = not row["heavy_imports"] and not row["store_created"]
        lines.append(f"d  {name:13} {row['median_s']:6.2f} s  heavy imports: {row['heavy_imports'] or 'none'}"
                     f"{'' if not row['store_created'] else ', STORE CREATED'}  {'clean' if clean else 'NOT CLEAN'}")
    lines.append("time = wall time; cpu = user+system time of the whole tree (the work, what counts on a busy "
                 "machine);\nrss = peak summed RSS of the process tree (sampled); "
                 "max1 = largest single process (wait4)")
    return "\n".join(lines)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, "
            f"Python {platform.python_version()}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="rnnexp vs the bare lesson script")
    parser.add_argument("--repeats", type=int, default=3, help="runs per side and case (median)")
    parser.add_argument("--cases", default="a,b,c,d,e,f,g", help="comma-separated subset of a,b,c,d,e,f,g")
    parser.add_argument("--python", default=sys.executable, help="the interpreter with rnnexp installed")
    parser.add_argument("--json", type=Path, help="also write the raw measurements here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folders (their logs)")
    args = parser.parse_args(argv)
    keys = [k for k in args.cases.split(",") if k]

    root = Path(tempfile.mkdtemp(prefix="rnnexp-bench-"))
    try:
        bench = Bench(args.python, root)
        print(f"machine: {machine()}; load average at start {os.getloadavg()[0]:.2f}", flush=True)
        pair_keys = [k for k in keys if k in "abceg"]
        if pair_keys:
            bench.prepare()
        results = bench.pairs(pair_keys, args.repeats)
        fast = bench.fast_paths(args.repeats) if "d" in keys else None
        growth = bench.memory_growth() if "f" in keys else None
        print(f"\nload average at end {os.getloadavg()[0]:.2f}\n")
        print(report(results, fast, args.repeats, growth))
        if args.json:
            raw = {k: {s: [m.__dict__ for m in ms] for s, ms in v.items()} for k, v in results.items()}
            args.json.write_text(json.dumps({"machine": machine(), "pairs": raw, "fast": fast, "growth": growth},
                                            indent=1))
    finally:
        if args.keep:
            print(f"scratch folders kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
