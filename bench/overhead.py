"""Where the time goes around training: each phase's seconds of `conae train` and of the notebook, beside the
training seconds they serve.

    python -m bench.overhead [--data-root DIR] [--runs default-5000,neighbours-5000,default-60000,neighbours-60000]
                             [--notebook | --no-notebook] [--notebook-data mnist|fashion-mnist] [--out runs/overhead]

`train` runs: each `python -m conae train` in a process of its own, one after another (never two at once), the
5,000-image runs on MNIST under --data-root (its official test set where it is there, else the offline sample),
the 60,000-image runs on all of Fashion-MNIST (Debian's dataset-fashion-mnist, linked into a temporary data root).
Phases, from metrics.json's phase_seconds: data (reading and deskewing), setup (the neighbour layout), training,
scoring during training (the test set at each recorded point), codes and baselines, figures; what is left of the
command's wall time is the interpreter, the imports and the files.

The notebook: ConAE.ipynb executed headless with papermill, with its own parameters (the offline MNIST sample
unless data/ holds MNIST; with --notebook-data fashion-mnist, all 60,000 Fashion-MNIST training images instead;
its outputs go to --out, never to outputs/), each cell timed; phases by what a cell does (imports, data, training: the cells that call fit, codes and
baselines: the cells that collect the metrics and run the baselines, the rest: figures, explorer, recognise, saved
results); what is left
of the wall time is the kernel's start.

The benchmark starts with an empty cache (conae.cache, in a temporary folder), as on a new machine: a run's
"cached" column says what it found there from an earlier run of the benchmark (the 5,000-image runs share their
deskewed images, as do the 60,000-image runs; the notebook, on other images, runs twice: first with nothing
cached, then as a second run on the same machine).

Prints one table per part with each phase's seconds and wall / training seconds, the ratio the README quotes.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conae.offline.files import link_debian_files

REPO = Path(__file__).resolve().parents[1]

TRAIN_PHASES = ("data", "setup", "training", "scoring_during_training", "codes_and_baselines", "figures")
NOTEBOOK_PHASES = ("imports", "data", "training", "codes and baselines", "the rest")


def train_run(name, data_root, fashion_root, out, extra=()):
    """(metrics, wall seconds) of one `conae train` named PRESET-SIZE (extra: more flags)."""
    preset, size = name.split("-")
    flags = (["--data-root", str(data_root)] if size == "5000" else
             ["--dataset", "fashion-mnist", "--data-root", str(fashion_root)])
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "conae", "train", "--preset", preset, "--no-download",
                           "--out", str(out / name), *flags, *extra], cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"conae train {name} failed:\n{done.stderr[-2000:]}")
    return json.loads((out / name / "metrics.json").read_text()), wall


def notebook_phase(source):
    if "fit(" in source:
        return "training"
    if "collect_metrics" in source or "run_baselines" in source:
        return "codes and baselines"
    if "load_splits" in source:
        return "data"
    if "import " in source:
        return "imports"
    return "the rest"


def notebook_run(out, **parameters):
    """(phase seconds, training seconds, wall seconds) of one headless execution of ConAE.ipynb with its own
    parameters (only its output folder moved; parameters: others to set)."""
    import nbformat
    import papermill

    executed = out / "ConAE.ipynb"
    start = time.perf_counter()
    papermill.execute_notebook(str(REPO / "ConAE.ipynb"), str(executed), cwd=str(REPO), progress_bar=False,
                               parameters=dict(out_dir=str(out / "notebook"), **parameters))
    wall = time.perf_counter() - start
    phases = dict.fromkeys(NOTEBOOK_PHASES, 0.0)
    for cell in nbformat.read(executed, as_version=4).cells:
        if cell.cell_type == "code":
            phases[notebook_phase(cell.source)] += cell.metadata.get("papermill", {}).get("duration") or 0.0
    metrics = json.loads((out / "notebook" / "metrics.json").read_text())
    training = metrics["train_seconds"] + metrics.get("neighbours_preset", {}).get("train_seconds", 0.0)
    return phases, training, wall


def row(cells):
    return "| " + " | ".join(cells) + " |"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default="data", help="a folder holding MNIST/raw/ (default: data)")
    parser.add_argument("--runs", default="default-5000,neighbours-5000,default-60000,neighbours-60000",
                        help="PRESET-SIZE runs of conae train, SIZE 5000 (MNIST) or 60000 (Fashion-MNIST)")
    parser.add_argument("--notebook", action=argparse.BooleanOptionalAction, default=True,
                        help="also execute the notebook (default: yes)")
    parser.add_argument("--notebook-data", choices=("mnist", "fashion-mnist"), default="mnist",
                        help="the notebook's data: its own (offline MNIST), or all 60,000 Fashion-MNIST images")
    parser.add_argument("--out", default="runs/overhead", help="where the runs go")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    runs = [r for r in args.runs.split(",") if r]
    fashion_root = Path(tempfile.mkdtemp())
    fashion = any(r.endswith("-60000") for r in runs) or (args.notebook and args.notebook_data == "fashion-mnist")
    if fashion and not link_debian_files("fashion-mnist", fashion_root):
        sys.exit("the 60,000-image runs need Debian's dataset-fashion-mnist package")
    notebook_data = (dict(dataset="fashion-mnist", data_root=str(fashion_root))
                     if args.notebook_data == "fashion-mnist" else {})

    os.environ["CONAE_CACHE"] = tempfile.mkdtemp()  # empty, as on a new machine; the runs' processes inherit it

    lines = [row(["`conae train`", "cached", "wall s", "training s", "wall / training", *TRAIN_PHASES,
                  "interpreter, imports, files"]), row(["---"] * (6 + len(TRAIN_PHASES)))] if runs else []
    sizes_run = set()
    for name in runs:
        size = name.split("-")[1]
        cached = "deskewed images" if size in sizes_run else "nothing"
        sizes_run.add(size)
        metrics, wall = train_run(name, Path(args.data_root).resolve(), fashion_root, out)
        phases = metrics["phase_seconds"]
        rest = wall - sum(phases[p] for p in TRAIN_PHASES)
        lines.append(row([f"{name.replace('-', ', ')} images", cached, f"{wall:.1f}",
                          f"{metrics['train_seconds']:.1f}", f"**{wall / metrics['train_seconds']:.2f}x**",
                          *(f"{phases[p]:.1f}" for p in TRAIN_PHASES), f"{rest:.1f}"]))
        print(lines[-1], flush=True)
    if args.notebook:
        lines += ["", row(["notebook", "cached", "wall s", "training s", "wall / training", *NOTEBOOK_PHASES,
                           "kernel start"]), row(["---"] * (6 + len(NOTEBOOK_PHASES)))]
        data = "all 60,000 Fashion-MNIST" if notebook_data else "offline MNIST"
        for cached in ("nothing", "deskewed images, baselines"):
            phases, training, wall = notebook_run(out, **notebook_data)
            lines.append(row([f"ConAE.ipynb, headless, {data}", cached, f"{wall:.1f}", f"{training:.1f}",
                              f"**{wall / training:.2f}x**", *(f"{phases[p]:.1f}" for p in NOTEBOOK_PHASES),
                              f"{wall - sum(phases.values()):.1f}"]))
            print(lines[-1], flush=True)
    print("\n".join(lines))
    (out / "overhead.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
