"""Runs ConAE.ipynb once per data set available offline, with papermill, and extracts each run's figures.

    python -m tools.run_notebooks [--datasets mnist,fashion-mnist,...] [--data-root data] [--out runs/notebooks]

For each data set: runs/notebooks/ConAE-<dataset>.ipynb (the executed notebook) and runs/notebooks/<dataset>/
(its metrics.json and figures). A data set is available when its IDX files are under DATA_ROOT/FOLDER/raw, or,
for Fashion-MNIST, when Debian's dataset-fashion-mnist package is installed (linked into
runs/notebooks/data/); MNIST always is (offline, the notebook falls back to the 5,000-digit sample). The others
are skipped, saying why. The first code cell of the notebook (tagged "parameters") lists what can be set.
"""
import argparse
import sys
from pathlib import Path

import papermill

import extract_images
from conae.data import DATASETS, raw_files
from conae.offline.files import link_debian_files

REPO = Path(__file__).resolve().parents[1]


def data_root_for(dataset, data_root, out):
    """(data root, why not) for dataset: where its files are, or None and the reason."""
    if dataset == "mnist" or raw_files(data_root, True, dataset):
        return data_root, None
    linked = out / "data"
    if link_debian_files(dataset, linked):
        return linked, None
    return None, f"no files under {data_root}/{DATASETS[dataset].folder}/raw"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS),
                        help=f"comma-separated, of {', '.join(DATASETS)} (default: all that are available)")
    parser.add_argument("--data-root", default="data", help="where the IDX files are (default: data)")
    parser.add_argument("--out", default="runs/notebooks", help="output folder (default: runs/notebooks)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    done = []
    for dataset in args.datasets.split(","):
        if dataset not in DATASETS:
            sys.exit(f"error: unknown dataset {dataset!r}: choose from {', '.join(DATASETS)}")
        root, why = data_root_for(dataset, args.data_root, out)
        if root is None:
            print(f"{dataset}: skipped ({why})")
            continue
        notebook, figures = out / f"ConAE-{dataset}.ipynb", out / dataset
        print(f"{dataset}: running the notebook into {notebook}", flush=True)
        papermill.execute_notebook(REPO / "ConAE.ipynb", notebook, cwd=REPO, kernel_name="python3",
                                   progress_bar=False, parameters=dict(
                                       dataset=dataset, data_root=str(Path(root).resolve()),
                                       download=dataset == "mnist", out_dir=str(figures.resolve())))
        extract_images.main([str(notebook), str(figures)])
        done.append(dataset)
    print(f"ran the notebook on {', '.join(done) or 'no data set'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
