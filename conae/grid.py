"""Grids of runs (`compare`, `sweep`): one after another in this process, on every core and GPU of a machine,
or on a Ray cluster, through joblib.

Each run is a Task: its Config (which also says where its images are), its folder, its torch threads and its
device. run_task trains it, resumes it from its model.pt, or reads its finished result.json back; so a grid
interrupted at any point continues where it stopped, and the driver assembles its results from the folders.
run_grid hands the tasks to joblib: in this process (jobs 1, the default), to loky worker processes (--jobs N),
or to Ray (--backend ray; ray.util.joblib) on this machine or, with --address, on a cluster.
"""
import json
import socket
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits

from .atomic import write_json
from .checkpoint import save_codes
from .config import HEADLINE_K, MAIN_K, Config, ConfigError, knn_at
from .data import load_splits
from .device import pick_device, resolve_precision, usable_cores
from .environment import machine
from .errors import UserError
from .evaluate import headline, recognition, split_codes
from .neighbours import check_enough_images
from .train import fit

BACKENDS = ("loky", "ray")  # joblib's process pool on this machine; Ray (pip install 'conae[ray]')


@dataclass(frozen=True)
class Plan:
    """How a grid's runs spread, checked once (plan()) before anything starts: jobs, how many at once (a count);
    threads, torch threads of each run (0: leave this process's, the serial in-process path); backend (loky or
    ray) and, for Ray, a cluster's address."""
    jobs: int = 1
    threads: int = 0
    backend: str = "loky"
    address: str = None

    @property
    def in_process(self):
        return self.jobs == 1 and self.backend == "loky"


SERIAL = Plan()  # one run after another in this process


@dataclass(frozen=True)
class Task:
    """One run of a grid: small and picklable (data travels as paths, never as tensors)."""
    cfg: Config      # the run; its data_root and dataset say where its images are (download off)
    folder: str      # its model.pt (a resume point) and, once finished, result.json
    threads: int     # torch threads of the run; 0: leave this process's as they are
    label: str       # how progress lines name it: "neighbours, seed 1"
    subset: tuple = (0, 0)  # (size, seed) of the training subset: the driver's, the same for every run of a grid


def run_task(task, splits=None, verbose=False):
    """Trains the task's run, resumes it from its model.pt, or reads back its finished result.json; returns the
    result. splits: (train, test) already loaded by the caller (the in-process path), else loaded from the paths."""
    done = Path(task.folder) / "result.json"
    if done.is_file():
        return json.loads(done.read_text())
    if not task.threads:
        return train_and_score(task, splits, verbose)
    # the same threads wherever it runs: torch's, and the math libraries' that numpy, scikit-learn and UMAP use (a
    # PCA's rounding depends on them; joblib's workers limit them, this process would not)
    torch.set_num_threads(task.threads)  # before any torch work of this run
    with threadpool_limits(limits=task.threads):
        return train_and_score(task, splits, verbose)


def train_and_score(task, splits, verbose):
    """run_task's work: the run trained (or resumed), scored, and its result.json written."""
    folder = Path(task.folder)
    done = folder / "result.json"
    if splits is None:  # the driver has said where the data came from
        splits = load_splits(task.cfg, task.subset, verbose=False)
    train_split, test_split = splits
    checkpoint = folder / "model.pt"
    model, history, _ = fit(task.cfg, train_split, test_split, verbose=verbose, checkpoint=checkpoint,
                            resume=checkpoint.is_file())
    train_codes, test_codes, test_bce = split_codes(model, train_split, test_split, test_bce=history[-1]["test_bce"])
    save_codes(checkpoint, train_split, train_codes)  # so that `conae recognise` and the explorer can use it
    rec = recognition(train_codes, train_split.labels.numpy(), test_codes, test_split.labels.numpy(), ks=HEADLINE_K)
    device = pick_device(task.cfg.device)
    result = dict(seed=task.cfg.seed, embedding_dim=task.cfg.embedding_dim, **headline(dict(rec, test_bce=test_bce)),
                  train_seconds=sum(h["seconds"] for h in history),  # the neighbour layout included
                  ran_on=dict(host=socket.gethostname(), **machine(), threads=torch.get_num_threads(),
                              device=str(device), precision=resolve_precision(task.cfg.precision, device)))
    write_json(done, result)
    return result


def numbered(i, task):
    """(i, the task's result): a worker's answer, which the driver puts back in its place."""
    return i, run_task(task)


def plan(jobs=1, threads_per_run=None, backend="loky", address=None):
    """Checks how a grid is to run, before anything starts; returns its Plan.
    jobs has scikit-learn's meaning: -1 every usable core, -2 all but one; threads_per_run defaults to the usable
    cores shared among the jobs (0, leave them, for the serial in-process path)."""
    if backend not in BACKENDS:
        raise ConfigError("backend", f"backend = {backend!r}: choose one of {', '.join(BACKENDS)}")
    if address and backend != "ray":
        raise ConfigError("address", "--address is a Ray cluster's: use it with --backend ray")
    cores = usable_cores()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs == 0 or (jobs < 0 and not address
                                                                             and cores + 1 + jobs < 1):
        raise ConfigError("jobs", f"jobs = {jobs!r}: must be a whole number other than 0: N runs at once, -1 one per "
                                  f"usable core ({cores} here), -2 all but one")
    count = jobs if jobs > 0 or address else max(1, cores + 1 + jobs)  # a cluster counts its own cores
    if threads_per_run is not None and (isinstance(threads_per_run, bool) or not isinstance(threads_per_run, int)
                                        or threads_per_run < 1 or (threads_per_run > cores and not address)):
        raise ConfigError("threads_per_run", f"threads_per_run = {threads_per_run!r}: must be a whole number from 1 "
                                             f"to the {cores} usable cores")
    if threads_per_run is None:
        threads_per_run = 0 if count == 1 and backend == "loky" else max(1, cores // count) if count > 0 else 1
    return Plan(count, threads_per_run, backend, address)


def device_for(cfg, i, backend):
    """The device of a grid's i-th run of cfg: the GPUs in turn where cfg says auto and there are some (under Ray
    "cuda", the GPU Ray gives the task), else cfg's own. A worker never picks for itself."""
    if cfg.device != "auto":
        return cfg.device
    gpus = torch.cuda.device_count()
    if not gpus:
        return "cpu"
    return "cuda" if backend == "ray" else f"cuda:{i % gpus}"


def tasks_for(runs, threads, backend, training_subset):
    """runs: [(label, cfg, folder)] -> [Task]; paths made absolute (a worker may start in another folder),
    downloads off (the driver has fetched the data), devices chosen here."""
    tasks = []
    for i, (label, cfg, folder) in enumerate(runs):
        cfg = replace(cfg, data_root=str(Path(cfg.data_root).resolve()), download=False,
                      device=device_for(cfg, i, backend))
        tasks.append(Task(cfg=cfg, folder=str(Path(folder).resolve()), threads=threads, label=label,
                          subset=training_subset))
    return tasks


def check_ray(address=None):
    """UserError unless Ray is installed and, with an address HOST:PORT, something answers there."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise UserError("--backend ray needs Ray: pip install 'conae[ray]'") from None
    if address and address != "auto" and not address.startswith("ray://"):
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
        except (OSError, ValueError):
            raise UserError(f"--address {address}: no Ray cluster answers there (start one with `ray start --head`, "
                            "give its HOST:PORT)") from None


def start_ray(address, threads):
    """Connects to the Ray cluster at address, or starts a local Ray bound to this machine; registers Ray's joblib
    backend. Returns whether this call started Ray (so it stops it). One error line when it cannot."""
    check_ray(address)
    import ray
    from ray.util.joblib import register_ray
    started = not ray.is_initialized()
    if started:
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=usable_cores(), num_gpus=torch.cuda.device_count(), include_dashboard=False,
                         _node_ip_address="127.0.0.1", log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise UserError(f"--address {address}: Ray could not connect: {str(e).splitlines()[0]}") from None
    largest = max((n["Resources"].get("CPU", 0) for n in ray.nodes() if n["Alive"]), default=0)
    if threads > largest:
        if started:
            ray.shutdown()
        raise UserError(f"--threads-per-run {threads}: no Ray node has that many CPUs (the largest has "
                        f"{largest:g})")
    register_ray()
    return started


def run_runs(runs, splits, training_subset=(0, 0), plan=SERIAL, verbose=True):
    """Trains (or resumes, or reads back) every run of a grid as plan says; runs: [(label, cfg, folder)]; splits: the driver's
    (train, test), which the in-process path uses and workers load again from the paths, the training split as
    conae.data.subset(its images, *training_subset) draws it. Returns the results in the runs' order, and warns
    when they ran in different precisions or on different kinds of CPU."""
    for _, cfg, _ in runs:  # before any run starts, not when a worker reaches it
        check_enough_images(cfg, len(splits[0]))
    tasks = tasks_for(runs, plan.threads, plan.backend, training_subset)
    started = start_ray(plan.address, plan.threads) if plan.backend == "ray" else False
    if verbose and not plan.in_process:
        before = sum((Path(t.folder) / "result.json").is_file() for t in tasks)
        at_once = plan.jobs if plan.jobs > 0 else "as many as the cluster takes"
        print(f"{len(tasks)} runs{f' ({before} finished before)' if before else ''}, {at_once} at a time on "
              f"{plan.backend}, {plan.threads} thread{'s' * (plan.threads > 1)} each", flush=True)
    try:
        results = run_grid(tasks, plan, splits, verbose)
    finally:
        if started:
            import ray
            ray.shutdown()
    warn_if_mixed(results)
    return results


def run_grid(tasks, plan=SERIAL, splits=None, verbose=True):
    """Runs every task; returns their results in the tasks' order. In process (plan.in_process): one after another
    (with splits, the data already loaded), each with its progress bar; else joblib's workers, a line as each run
    finishes."""
    from joblib import Parallel, delayed, parallel_backend

    if plan.in_process:
        before = torch.get_num_threads()
        try:
            results = []
            for task in tasks:
                if verbose:
                    print(f"{task.label}:", flush=True)
                results.append(run_task(task, splits, verbose))
            return results
        finally:
            torch.set_num_threads(before)
    args = {}
    if plan.backend == "ray":
        uses_gpu = any(t.cfg.device.startswith("cuda") for t in tasks)
        args = dict(ray_remote_args=dict(num_cpus=max(1, tasks[0].threads), num_gpus=1 if uses_gpu else 0))
    with parallel_backend(plan.backend, n_jobs=plan.jobs, **args):
        # each run as it finishes; Ray's joblib backend hands them back only all together
        finished = Parallel(return_as="list" if plan.backend == "ray" else "generator_unordered")(
            delayed(numbered)(i, task) for i, task in enumerate(tasks))
        results = [None] * len(tasks)
        for count, (i, result) in enumerate(finished, 1):
            results[i] = result
            if verbose:
                print(f"{tasks[i].label}: test BCE {result['test_bce']:.4f}, {MAIN_K}-NN {knn_at(result):.3f}, "
                      f"{result['train_seconds']:.0f} s ({count}/{len(tasks)} runs done)", flush=True)
    return results


def warn_if_mixed(results):
    """A warning when the runs of one grid ran in different precisions or on different kinds of CPU: their
    numbers then differ by rounding as well as by what the grid varies."""
    ran = [r["ran_on"] for r in results if r.get("ran_on")]
    for part, what in (("precision", "precisions"), ("cpu_id", "kinds of CPU"), ("cpu_capability", "CPU kernels")):
        kinds = {json.dumps(r.get(part), sort_keys=True) for r in ran}
        if len(kinds) > 1:
            warnings.warn(f"the runs of this grid ran with different {what} ({', '.join(sorted(kinds))}): their "
                          "numbers differ by rounding as well as by what the grid varies", stacklevel=2)
