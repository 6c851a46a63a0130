"""Command line: conae (or python -m conae) train | sweep | compare | recognise [options]; each has --help.

The settings' flags are made from conae.config.Config, one per field, with the field's help: a new setting is one
line in config.py. Only light modules are imported before a flag is read; each command imports what it runs."""
import argparse
import json
import os
import signal
import sys
import time
from dataclasses import MISSING, asdict, fields, replace
from pathlib import Path

from .bundled import about_line
from .config import (
    BASELINES,
    HEADLINE_K,
    MAIN_K,
    PRESET_HELP,
    PRESETS,
    Config,
    ConfigError,
    baseline_names,
    check_setting,
    config_from_dict,
    knn_at,
    make_config,
)
from .errors import TrainingDiverged, TrainingInterrupted, UserError, describe

COMMANDS = ("train", "sweep", "compare", "recognise")
AXES = {"sweep": ("embedding_dim",), "compare": ("seed",)}  # a grid's axis is its own flag (--embedding-dims, --seeds)


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
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def flag(name):
    return "--" + name.replace("_", "-")


def shown(value):
    return ",".join(map(str, value)) if isinstance(value, tuple) else f"{value:,}" if type(value) is int else str(value)


def default_text(setting):
    """"default: 3,555; neighbours: 6,000": a field's default and each preset's own value of it."""
    own = [f"{preset}: {shown(values[setting.name])}" for preset, values in PRESETS.items() if setting.name in values]
    default = setting.default if setting.default is not MISSING else setting.default_factory()
    return "; ".join([f"default: {shown(default)}", *own])


def add_settings(parser, settings, leave_out=()):
    """One flag per field of settings (Config, or a dataclass that extends it), its help and defaults from the field:
    --FIELD-NAME VALUE, or --FIELD/--no-FIELD for a yes-or-no one. A flag not given stays None: the preset's value."""
    group = parser.add_argument_group("settings", "each flag given replaces the preset's value (see docs/results.md "
                                                  "for what each one does)")
    for setting in fields(settings):
        if setting.name in leave_out:
            continue
        text = f"{setting.metadata.get('help', setting.name)} ({default_text(setting)})".replace("%", "%%")
        if setting.type is bool:
            group.add_argument(flag(setting.name), action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            kind = comma_list(int) if setting.type is tuple else setting.type
            group.add_argument(flag(setting.name), type=kind, default=None, metavar=setting.name.upper(), help=text)


def given_settings(args):
    """{field: value} of the settings' flags given on the command line (args.settings: the dataclass they come
    from)."""
    return {s.name: getattr(args, s.name) for s in fields(args.settings) if getattr(args, s.name, None) is not None}


def add_grid_flags(parser):
    """sweep and compare: how many runs at once, and where."""
    group = parser.add_argument_group("grid", "how many runs at once, and where")
    group.add_argument("--jobs", type=int, default=1,
                       help="runs at once, as scikit-learn's n_jobs: 1 (the default) one after another in this "
                            "process, N in N worker processes, -1 one per usable core, -2 all but one")
    group.add_argument("--threads-per-run", type=int,
                       help="torch threads of each run (default: the usable cores shared among the jobs)")
    group.add_argument("--backend", default="loky",
                       help="loky (the default): worker processes on this machine; ray: Ray's workers, on this "
                            "machine or a cluster (pip install 'conae[ray]')")
    group.add_argument("--address", help="with --backend ray: a running Ray cluster's HOST:PORT or ray://HOST:PORT "
                                         "(default: start Ray on this machine)")


def build_parser(settings=Config):
    """The command line; settings: the dataclass whose fields become flags (Config, or one that extends it)."""
    prog = "conae" if Path(sys.argv[0]).name == "conae" else "python -m conae"  # the console command, or -m
    parser = argparse.ArgumentParser(prog=prog, description=(
        "Convolutional autoencoder that squeezes handwritten characters into a 3-number code."))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    presets = "; ".join(f"{name}: {text}" for name, text in PRESET_HELP.items())

    train = commands.add_parser("train", help="train a model and write model.pt, metrics.json and figures",
                                description="Train a ConvAE, then write model.pt, metrics.json and every "
                                            "figure as a PNG into --out.")
    train.add_argument("--preset", help=f"the recipe to start from: {presets} (default: default)")
    train.add_argument("--out", default=None, help="output folder (default: runs/PRESET)")
    train.add_argument("--baselines", type=baselines_list, default=("pca",),
                       help="comma-separated codes of the same size to compare with: pca, umap, tsne, or none "
                            "(default: pca; UMAP and t-SNE take a minute or two)")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its last recorded point (model.pt is rewritten at "
                            "every recorded point, 10 to 20 per run; Ctrl-C or SIGTERM keeps it)")
    add_settings(train, settings)

    code_sizes = commands.add_parser("sweep", help="train one model per code size and plot quality against it",
                                     description="Train one ConvAE per code size with the same recipe and data, "
                                                 "then write sweep.json, code_size.png and dim-N/ into --out. "
                                                 "Finished sizes are kept in --out/dim-N/, so an interrupted sweep "
                                                 "continues.")
    code_sizes.add_argument("--preset", help=f"the recipe of every size: {presets} (default: default)")
    code_sizes.add_argument("--embedding-dims", type=comma_list(int), default=(1, 2, 3, 4, 8, 16),
                            help="comma-separated code sizes (default: 1,2,3,4,8,16)")
    code_sizes.add_argument("--out", default=None, help="output folder (default: runs/sweep)")
    add_settings(code_sizes, settings, AXES["sweep"])
    add_grid_flags(code_sizes)

    many = commands.add_parser("compare", help="train presets over several seeds beside the PCA, UMAP and t-SNE "
                                               "baselines",
                               description="Train every preset x seed on the same data, compute the baselines once, "
                                           "and write comparison.json and tradeoff.png into --out. Finished runs "
                                           "are kept in --out/runs/, so an interrupted compare continues.")
    many.add_argument("--presets", type=comma_list(str), default=("default", "neighbours"),
                      help=f"comma-separated presets, of {', '.join(PRESETS)} (default: default,neighbours)")
    many.add_argument("--seeds", type=comma_list(int), default=(0, 1, 2), help="comma-separated seeds (default: 0,1,2)")
    many.add_argument("--baselines", type=baselines_list, default=BASELINES,
                      help="comma-separated baselines (default: pca,umap,tsne)")
    many.add_argument("--out", default=None, help="output folder (default: runs/compare)")
    add_settings(many, settings, AXES["compare"])  # a setting given applies to every preset
    add_grid_flags(many)

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
    own.add_argument("--k", type=int, default=MAIN_K, help=f"training codes that vote (default: {MAIN_K})")
    own.add_argument("--json", action="store_true",
                     help='print a JSON list, one entry per file: {"path", "text", "characters": [{"label", "class", '
                          '"votes", "runner_up", "bce", "box"}, ...]}, a one-character file with its character\'s '
                          'fields beside them')
    own.add_argument("--out", default=None,
                     help="write one figure per image into this folder: the input, the prepared 28x28, its "
                          "reconstruction and its nearest training images")
    parser.command_parsers = dict(train=train, sweep=code_sizes, compare=many, recognise=own)
    parser.set_defaults(settings=settings)
    return parser


def check_flags(args):
    """Every value given checked by the rule the notebook's settings go through (conae.config.check_setting), and
    a grid's plan made (args.plan); ConfigError for the first bad one."""
    for name, value in [("preset", getattr(args, "preset", None)), ("k", getattr(args, "k", None)),
                        *given_settings(args).items()]:
        if value is not None:
            check_setting(name, value)
    for flag_name, name in (("presets", "preset"), ("embedding_dims", "embedding_dim"), ("seeds", "seed")):
        values = getattr(args, flag_name, None)
        if values is not None and not values:
            raise ConfigError(flag_name, f"{flag_name} is empty: give at least one")
        for value in values or ():
            try:
                check_setting(name, value)
            except ConfigError as e:
                raise ConfigError(flag_name, str(e)) from None
    if getattr(args, "jobs", None) is not None:
        from .grid import plan
        args.plan = plan(args.jobs, args.threads_per_run, args.backend, args.address)


def check_writable(out):
    """Fails now, not after training, when out cannot be created or written."""
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} is a file, not a folder")
    existing = next(p for p in [out, *out.parents] if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write to --out {out}: {existing} is not a writable folder")


def where_settings(args):
    """The settings given of where the data is and what the run computes on (fields marked where=True)."""
    where = {s.name for s in fields(args.settings) if s.metadata.get("where")}
    return {name: value for name, value in given_settings(args).items() if name in where}


def resumed_config(args, checkpoint):
    """The config stored in checkpoint, with where its data is from the flags; a flag that would change the run
    is refused."""
    from .checkpoint import CheckpointError, read_checkpoint
    stored = config_from_dict(read_checkpoint(checkpoint, need_training_state=True)["config"])
    where = where_settings(args)
    for name, value in given_settings(args).items():
        if name not in where and value != getattr(stored, name):
            raise CheckpointError(f"{checkpoint} was trained with {name} {getattr(stored, name)}, not {value}: "
                                  f"--resume continues a run as it was (drop {flag(name)})")
    return replace(stored, **where)


def out_dir(args):
    default = args.command if args.command in ("sweep", "compare") else args.preset or "default"
    return Path(args.out or Path("runs") / default)


def config_from_flags(args, preset=None):
    """The preset's Config with every setting given on the command line."""
    return make_config(preset or args.preset or "default", args.settings, **given_settings(args))


def train_command(args):
    from . import report
    from .checkpoint import save_codes
    from .data import load_splits
    from .evaluate import split_codes
    from .train import fit

    out = out_dir(args)
    check_writable(out)
    checkpoint = out / "model.pt"
    cfg = resumed_config(args, checkpoint) if args.resume else config_from_flags(args)
    start = time.perf_counter()
    train_split, test_split = load_splits(cfg)
    data_seconds = time.perf_counter() - start
    model, history, snapshots = fit(cfg, train_split, test_split, checkpoint=checkpoint, resume=args.resume)
    after = time.perf_counter()
    codes = split_codes(model, train_split, test_split, test_bce=history[-1]["test_bce"])
    save_codes(checkpoint, train_split, codes[0])  # so that `conae recognise` needs no data set
    metrics = report.collect_metrics(cfg, train_split, test_split, model, history, codes, args.baselines)
    metrics["phase_seconds"] = phase_seconds(history, data=data_seconds,
                                             codes_and_baselines=time.perf_counter() - after)
    report.save_run(out, metrics, report.make_figures(model, train_split, test_split, history, snapshots, metrics,
                                                      codes[1]), after)
    knn = ", ".join(f"{k}-NN {knn_at(metrics, k):.3f}" for k in HEADLINE_K)
    print(f"test BCE {metrics['test_bce']:.4f}, {knn}, {metrics['train_seconds']:.1f} s training "
          f"({metrics['images_per_second']:.0f} images/s), {metrics['seconds_after_training']:.1f} s after it; "
          f"wrote {out}/")


def phase_seconds(history, **phases):
    """Where a run's time went, for metrics.json: the given phases, and from the history the neighbour layout
    (setup), the training steps and the test-set scoring at the recorded points (save_run adds the figures)."""
    setup = history[0].get("setup_seconds", 0.0)
    return dict(phases, setup=setup, training=sum(h["seconds"] for h in history) - setup,
                scoring_during_training=sum(h.get("scoring_seconds", 0.0) for h in history))


def compare_command(args):
    from .atomic import save_figure, write_json
    from .compare import compare, comparison_table
    from .data import load_splits
    from .viz import plot_tradeoff

    out = out_dir(args)
    check_writable(out)
    configs = {name: config_from_flags(args, name) for name in args.presets}
    first = next(iter(configs.values()))
    train_split, test_split = load_splits(first)  # checked and downloaded here, before any run starts
    comparison = compare(configs, args.seeds, train_split, test_split, out, args.baselines,
                         training_subset=(first.train_subset, first.seed), plan=args.plan)
    write_json(out / "comparison.json", comparison)
    save_figure(out / "tradeoff.png", plot_tradeoff(comparison))
    print(comparison_table(comparison))
    print(f"wrote {out}/comparison.json and {out}/tradeoff.png")


def sweep_command(args):
    from .atomic import save_figure, write_json
    from .compare import sweep
    from .data import load_splits
    from .viz import plot_sweep

    out = out_dir(args)
    check_writable(out)
    cfg = config_from_flags(args)
    train_split, test_split = load_splits(cfg)  # checked and downloaded here, before any run starts
    rows = sweep(cfg, sorted(args.embedding_dims), train_split, test_split, out_dir=out, plan=args.plan)
    write_json(out / "sweep.json", dict(rows=rows, n_train=len(train_split), n_test=len(test_split),
                                        train_source=train_split.source, test_source=test_split.source,
                                        config=asdict(cfg)))
    save_figure(out / "code_size.png", plot_sweep(rows))
    for r in rows:
        print(f"code size {r['embedding_dim']:2d}: test BCE {r['test_bce']:.4f} (PCA {r['pca']['test_bce']:.4f}), "
              f"{MAIN_K}-NN {knn_at(r):.3f} (PCA {knn_at(r['pca']):.3f})")
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
    from .bundled import BUNDLED
    from .recognise import as_json, load_reference, read_files, summary_line

    reference = load_reference(args.model or BUNDLED)
    results, errors = read_files(args.images, reference, args.k)
    if out and results:
        from .atomic import save_figure
        from .viz import plot_recognition
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


def interrupted_line(args, saved, stopped_by):
    """What an interrupted command kept, and how to continue."""
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
    return f"interrupted ({stopped_by.name}): {kept}"


def main(argv=None, settings=Config):
    parser = build_parser(settings)
    args = parser.parse_args(argv)
    try:
        check_flags(args)
    except ConfigError as e:  # a bad value is a bad flag: argparse's usage line and exit status 2
        parser.command_parsers[args.command].error(f"argument {flag(e.setting)}: {e}")
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
        print(interrupted_line(args, saved, stopped_by), file=sys.stderr)
        return 128 + stopped_by
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0
