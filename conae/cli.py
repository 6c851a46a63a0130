"""Command line: conae (or python -m conae) train | sweep | compare | recognise [options]; each has --help."""
import argparse
import json
import os
import signal
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from .baselines import BASELINES, baseline_names
from .checkpoint import CheckpointError, read_checkpoint, save_codes
from .compare import compare, comparison_table, plot_tradeoff, sweep
from .config import PRESETS, ConfigError, check_setting, config_from_dict, make_config
from .data import DATASETS, load_splits
from .device import PRECISIONS
from .errors import UserError
from .evaluate import split_codes
from .grid import plan
from .recognise import BUNDLED, about_line, as_json, load_reference, plot_recognition, read_files, summary_line
from .report import collect_metrics, make_figures, save_figure, save_run, write_json
from .train import TrainingDiverged, TrainingInterrupted, describe, fit
from .viz import plot_sweep

# flags that define a run: --resume takes them from the checkpoint, and refuses different ones
RUN_FLAGS = ("dataset", "train_subset", "steps", "epochs", "batch_size", "lr", "embedding_dim", "seed", "precision")


def comma_list(kind):
    """Parses "a,b,c" into a tuple of kind, in order, without repeats; what the values may be is
    conae.config.check_setting's to say."""
    def parse(text):
        try:
            return tuple(dict.fromkeys(kind(part.strip()) for part in text.split(",") if part.strip()))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of {kind.__name__}s") from None
    return parse


def baselines_list(text):
    try:
        return baseline_names(text)
    except UserError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def check_flags(args):
    """Every flag's value checked by the rule the notebook's settings go through (conae.config.check_setting);
    ConfigError for the first bad one."""
    single = ("preset", "dataset", "train_subset", "steps", "epochs", "batch_size", "lr", "embedding_dim", "seed",
              "precision", "k")
    for name in single:
        if getattr(args, name, None) is not None:
            check_setting(name, getattr(args, name))
    for flag, name in (("presets", "preset"), ("embedding_dims", "embedding_dim")):
        values = getattr(args, flag, None)
        if values is not None and not values:
            raise ConfigError(flag, f"{flag} is empty: give at least one")
        for value in values or ():
            try:
                check_setting(name, value)
            except ConfigError as e:
                raise ConfigError(flag, str(e)) from None
    if getattr(args, "jobs", None) is not None:
        plan(args.jobs, args.threads_per_run, args.backend, args.address)


def build_parser():
    prog = "conae" if Path(sys.argv[0]).name == "conae" else "python -m conae"  # the console command, or -m
    parser = argparse.ArgumentParser(prog=prog, description=(
        "Convolutional autoencoder that squeezes handwritten characters into a 3-number code."))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    data_flags = argparse.ArgumentParser(add_help=False)  # where the images come from: every training command
    data_flags.add_argument("--dataset",
                            help=f"character set: {', '.join(DATASETS)} (default: mnist); its files go under DATA_ROOT/FOLDER/raw as "
                                 "torchvision lays them out, else it is downloaded; the offline sample is MNIST only. "
                                 "Or folder:PATH, your own images: one folder per class (torchvision's ImageFolder "
                                 "layout), or train/ and test/ each holding them")
    data_flags.add_argument("--data-root", help="folder holding MNIST/raw/*-ubyte[.gz] (or FashionMNIST/raw/..., "
                                                "...; default: data)")
    data_flags.add_argument("--train-subset", type=int,
                            help="train on this many random training images (default: the preset's; all for "
                                 "default)")
    data_flags.add_argument("--no-download", action="store_true", help="never try to download the dataset")
    data_flags.add_argument("--no-fallback", action="store_true",
                            help="fail instead of using the offline 5k MNIST sample when a split is missing")
    grid_flags = argparse.ArgumentParser(add_help=False)  # sweep and compare: how many runs at once, and where
    grid_flags.add_argument("--jobs", type=int, default=1,
                            help="runs at once, as scikit-learn's n_jobs: 1 (the default) one after another in this "
                                 "process, N in N worker processes, -1 one per usable core, -2 all but one")
    grid_flags.add_argument("--threads-per-run", type=int,
                            help="torch threads of each run (default: the usable cores shared among the jobs)")
    grid_flags.add_argument("--backend", default="loky",
                            help="loky (the default): worker processes on this machine; ray: Ray's workers, on this "
                                 "machine or a cluster (pip install 'conae[ray]')")
    grid_flags.add_argument("--address", help="with --backend ray: a running Ray cluster's HOST:PORT or ray://HOST:PORT "
                                              "(default: start Ray on this machine)")
    common = argparse.ArgumentParser(add_help=False, parents=[data_flags])  # train and sweep: the recipe too
    common.add_argument("--preset",
                        help="default (the default): conae's fast recipe; original: the original notebook's recipe; "
                             "neighbours: the default plus a term that keeps pixel-space neighbours close in the code")
    common.add_argument("--steps", type=int,
                        help="training budget in optimizer steps (default: the preset's, 3,555 for default)")
    common.add_argument("--epochs", type=int,
                        help="train for this many passes over the training images instead (wins over --steps)")
    common.add_argument("--batch-size", type=int, help="batch size (preset's if not given)")
    common.add_argument("--lr", type=float, help="(peak) learning rate (preset's if not given)")
    common.add_argument("--seed", type=int, help="random seed (default: 0)")
    common.add_argument("--precision",
                        help=f"{', '.join(PRECISIONS)}; auto (the default): bfloat16 autocast where the device does it fast (a CPU with AMX, "
                             "a CUDA GPU), else fp32")

    train = commands.add_parser("train", parents=[common],
                                help="train a model and write model.pt, metrics.json and figures",
                                description="Train a ConvAE, then write model.pt, metrics.json and every "
                                            "figure as a PNG into --out.")
    train.add_argument("--out", default=None, help="output folder (default: runs/PRESET)")
    train.add_argument("--embedding-dim", type=int, help="size of the code (default: 3)")
    train.add_argument("--baselines", type=baselines_list, default=("pca",),
                       help="comma-separated codes of the same size to compare with: pca, umap, tsne, or none "
                            "(default: pca; UMAP and t-SNE take a minute or two)")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its last recorded point (model.pt is rewritten at "
                            "every recorded point, 10 to 20 per run; Ctrl-C or SIGTERM keeps it)")

    code_sizes = commands.add_parser("sweep", parents=[common, grid_flags],
                                     help="train one model per code size and plot quality against it",
                                     description="Train one ConvAE per code size with the same recipe and data, "
                                                 "then write sweep.json, code_size.png and dim-N/ into --out. Finished sizes "
                                                 "are kept in --out/dim-N/, so an interrupted sweep continues.")
    code_sizes.add_argument("--embedding-dims", type=comma_list(int), default=(1, 2, 3, 4, 8, 16),
                            help="comma-separated code sizes (default: 1,2,3,4,8,16)")
    code_sizes.add_argument("--out", default=None, help="output folder (default: runs/sweep)")

    many = commands.add_parser("compare", parents=[data_flags, grid_flags],
                               help="train presets over several seeds beside the PCA, UMAP and t-SNE baselines",
                               description="Train every preset x seed on the same data, compute the baselines once, "
                                           "and write comparison.json and tradeoff.png into --out. Finished runs "
                                           "are kept in --out/runs/, so an interrupted compare continues.")
    many.add_argument("--presets", type=comma_list(str), default=("default", "neighbours"),
                      help=f"comma-separated presets, of {', '.join(PRESETS)} (default: default,neighbours)")
    many.add_argument("--seeds", type=comma_list(int), default=(0, 1, 2), help="comma-separated seeds (default: 0,1,2)")
    many.add_argument("--baselines", type=baselines_list, default=BASELINES,
                      help="comma-separated baselines (default: pca,umap,tsne)")
    many.add_argument("--steps", type=int,
                      help="training budget of every preset in optimizer steps (default: each preset's own)")
    many.add_argument("--out", default=None, help="output folder (default: runs/compare)")

    own = commands.add_parser("recognise", help="recognise the characters in your own image files",
                              description="Find the characters in each image (one, or several side by side: a "
                                          "number, a word), prepare each as MNIST was made (grey, white ink on "
                                          "black, cropped to the ink, longer side 20 pixels, centred by mass in "
                                          "28x28), encode it, and let its k nearest training codes vote. PNG or "
                                          "JPEG, any size, grey or colour, dark ink on light paper or the reverse.",
                              epilog=f"Without --model: {about_line()}")
    own.add_argument("images", nargs="*", metavar="IMAGE", help="image files")
    own.add_argument("--model", default=None,
                     help="a model.pt written by `conae train` (e.g. runs/default/model.pt); default: the MNIST "
                          "digits model that ships with conae (--about)")
    own.add_argument("--about", action="store_true", help="say what the model that ships with conae is, and stop")
    own.add_argument("--k", type=int, default=5, help="training codes that vote (default: 5)")
    own.add_argument("--json", action="store_true",
                     help='print a JSON list, one entry per file: {"path", "text", "characters": [{"label", "class", '
                          '"votes", "runner_up", "bce", "box"}, ...]}, a one-character file with its character\'s '
                          'fields beside them')
    own.add_argument("--out", default=None,
                     help="write one figure per image into this folder: the input, the prepared 28x28, its "
                          "reconstruction and its nearest training images")
    parser.command_parsers = dict(train=train, sweep=code_sizes, compare=many, recognise=own)
    return parser


def check_writable(out):
    """Fails now, not after training, when out cannot be created or written."""
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} is a file, not a folder")
    existing = next(p for p in [out, *out.parents] if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write to --out {out}: {existing} is not a writable folder")


def resumed_config(args, checkpoint):
    """The config stored in checkpoint; flags that would change the run are refused."""
    stored = config_from_dict(read_checkpoint(checkpoint, need_training_state=True)["config"])
    for flag in RUN_FLAGS:
        given = getattr(args, flag)
        if given is not None and given != getattr(stored, flag):
            raise CheckpointError(f"{checkpoint} was trained with {flag} {getattr(stored, flag)}, not {given}: "
                                  f"--resume continues a run as it was (drop --{flag.replace('_', '-')})")
    return stored


def out_dir(args):
    default = args.command if args.command in ("sweep", "compare") else args.preset or "default"
    return Path(args.out or Path("runs") / default)


def config_from_flags(args):
    cfg = make_config(args.preset or "default", dataset=args.dataset, train_subset=args.train_subset,
                      steps=args.steps, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      embedding_dim=getattr(args, "embedding_dim", None), seed=args.seed, precision=args.precision)
    return with_data_flags(cfg, args)


def with_data_flags(cfg, args):
    """Where the data comes from is the user's, never the run's: these flags also apply to --resume."""
    return replace(cfg, data_root=args.data_root or cfg.data_root, download=cfg.download and not args.no_download,
                   fallback=cfg.fallback and not args.no_fallback)


def train_command(args):
    out = out_dir(args)
    check_writable(out)
    checkpoint = out / "model.pt"
    cfg = with_data_flags(resumed_config(args, checkpoint), args) if args.resume else config_from_flags(args)
    start = time.perf_counter()
    train_split, test_split = load_splits(cfg)
    data_seconds = time.perf_counter() - start
    model, history, snapshots = fit(cfg, train_split, test_split, checkpoint=checkpoint, resume=args.resume)
    after = time.perf_counter()
    codes = split_codes(model, train_split, test_split, test_bce=history[-1]["test_bce"])
    save_codes(checkpoint, train_split, codes[0])  # so that `conae recognise` needs no data set
    metrics = collect_metrics(cfg, train_split, test_split, model, history, codes, args.baselines)
    metrics["phase_seconds"] = phase_seconds(history, data=data_seconds,
                                             codes_and_baselines=time.perf_counter() - after)
    save_run(out, metrics, make_figures(model, train_split, test_split, history, snapshots, metrics, codes[1]), after)
    knn = ", ".join(f"{k}-NN {acc:.3f}" for k, acc in metrics["knn_accuracy"].items())
    print(f"test BCE {metrics['test_bce']:.4f}, {knn}, {metrics['train_seconds']:.1f} s training "
          f"({metrics['images_per_second']:.0f} images/s), {metrics['seconds_after_training']:.1f} s after it; "
          f"wrote {out}/")


def phase_seconds(history, **phases):
    """Where a run's time went, for metrics.json: the given phases, and from the history the neighbour layout
    (setup), the training steps and the test-set scoring at the recorded points (save_run adds the figures)."""
    setup = history[0].get("setup_seconds", 0.0)
    return dict(phases, setup=setup, training=sum(h["seconds"] for h in history) - setup,
                scoring_during_training=sum(h.get("scoring_seconds", 0.0) for h in history))


def grid_flags(args):
    """The grid's flags as compare's and sweep's keywords."""
    return dict(jobs=args.jobs, threads_per_run=args.threads_per_run, backend=args.backend, address=args.address)


def compare_command(args):
    out = out_dir(args)
    check_writable(out)
    configs = {name: with_data_flags(make_config(name, dataset=args.dataset, train_subset=args.train_subset,
                                                 steps=args.steps), args)
               for name in args.presets}
    first = next(iter(configs.values()))
    train_split, test_split = load_splits(first)  # checked and downloaded here, before any run starts
    comparison = compare(configs, args.seeds, train_split, test_split, out, args.baselines,
                         training_subset=(first.train_subset, first.seed), **grid_flags(args))
    write_json(out / "comparison.json", comparison)
    save_figure(out / "tradeoff.png", plot_tradeoff(comparison))
    print(comparison_table(comparison))
    print(f"wrote {out}/comparison.json and {out}/tradeoff.png")


def sweep_command(args):
    out = out_dir(args)
    check_writable(out)
    cfg = config_from_flags(args)
    train_split, test_split = load_splits(cfg)  # checked and downloaded here, before any run starts
    rows = sweep(cfg, sorted(args.embedding_dims), train_split, test_split, out_dir=out, **grid_flags(args))
    write_json(out / "sweep.json", dict(rows=rows, n_train=len(train_split), n_test=len(test_split),
                                        train_source=train_split.source, test_source=test_split.source,
                                        config=asdict(cfg)))
    save_figure(out / "code_size.png", plot_sweep(rows))
    for r in rows:
        print(f"code size {r['embedding_dim']:2d}: test BCE {r['test_bce']:.4f} (PCA {r['pca']['test_bce']:.4f}), "
              f"5-NN {r['knn_accuracy']['5']:.3f} (PCA {r['pca']['knn_accuracy']['5']:.3f})")
    print(f"wrote {out}/sweep.json and {out}/code_size.png")


def recognise_command(args):
    """Prints a line (or a JSON entry) per good file and an error line per bad one; 1 if any file was bad."""
    out = Path(args.out) if args.out else None
    if out:
        check_writable(out)
    if args.about:
        print(about_line())
        return 0
    if not args.images:
        raise UserError("name at least one image file to recognise (or ask --about)")
    reference = load_reference(args.model or BUNDLED)
    results, errors = read_files(args.images, reference, args.k)
    if out and results:
        names = set()
        for result in results:
            name = Path(result["path"]).stem
            while name in names:  # the same file name from two folders
                name += "_"
            names.add(name)
            save_figure(out / f"{name}.png", plot_recognition([result], reference))
    if args.json:
        print(json.dumps([as_json(r) for r in results], indent=2))
    else:
        for result in results:
            print(summary_line(result, reference))
        if out and results:
            print(f"wrote {len(results)} figure{'s' * (len(results) > 1)} into {out}/")
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_flags(args)
    except ConfigError as e:  # a bad value is a bad flag: argparse's usage line and exit status 2
        parser.command_parsers[args.command].error(f"argument --{e.setting.replace('_', '-')}: {e}")
    stopped_by = signal.SIGINT

    def on_sigterm(signum, frame):  # SIGTERM (a scheduler, kill) stops a run as Ctrl-C does
        nonlocal stopped_by
        stopped_by = signal.SIGTERM
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        commands = {"train": train_command, "sweep": sweep_command, "compare": compare_command,
                    "recognise": recognise_command}
        if commands[args.command](args):
            return 1
    except (UserError, TrainingDiverged, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        saved = e.saved if isinstance(e, TrainingInterrupted) and args.command == "train" else None
        out = out_dir(args) if args.command != "recognise" else None
        if args.command == "recognise":
            kept = "nothing more was written"
        elif args.command == "compare":
            kept = (f"the finished runs are kept in {out}/runs/; the same command continues from them (and from "
                    "the last point of the run it was in)")
        elif args.command == "sweep":
            kept = (f"the finished code sizes are kept in {out}/dim-N/; the same command continues from them (and from "
                    "the last point of the runs it was in)")
        else:
            kept = (f"{out}/model.pt keeps {describe(saved)}; continue with: python -m conae train --out {out} --resume"
                    if saved else "nothing was saved yet")
        print(f"interrupted ({stopped_by.name}): {kept}", file=sys.stderr)
        return 128 + stopped_by
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0
