"""Grids that fan out: compare and sweep over worker processes (--jobs) and Ray (--backend ray), with the same
results as one after another, resumable, and one error line for every bad way to ask."""
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch

import conae.grid
from conae.cli import main
from conae.config import ConfigError, make_config
from conae.device import resolve_precision, usable_cores
from conae.grid import Plan, plan, run_grid, tasks_for, warn_if_mixed

from .conftest import REPO, tree, write_tiny_root
from .test_robustness import assert_one_line_error

pytestmark = pytest.mark.slow  # worker processes and Ray

STEPS = "20"  # half a second a run: still long enough for an interrupt to land between runs
GRID = ["--presets", "default,neighbours", "--seeds", "0,1", "--steps", STEPS, "--baselines", "none", "--no-download"]


def compare_into(root, out, *flags):
    assert main(["compare", "--data-root", str(root), "--out", str(out), *GRID, *flags]) == 0
    return json.loads((out / "comparison.json").read_text())


def without_timings(comparison):
    """comparison.json less what may differ between two runs of the same grid: seconds."""
    for run in comparison["runs"]:
        run.pop("train_seconds")
    for median in comparison["median"].values():
        median.pop("train_seconds")
    return comparison


def weights(out):
    return {folder.name: torch.load(folder / "model.pt", weights_only=False)["model"]
            for folder in sorted((out / "runs").iterdir())}


def assert_same_grid(out, reference):
    a, b = (without_timings(json.loads((o / "comparison.json").read_text())) for o in (out, reference))
    assert a == b
    mine, theirs = weights(out), weights(reference)
    assert mine.keys() == theirs.keys() and len(mine) == 4
    for name in mine:
        for key in mine[name]:
            assert torch.equal(mine[name][key], theirs[name][key]), (name, key)


@pytest.fixture(scope="module")
def grid_data(tmp_path_factory):
    """The tiny data root, once for every grid of this module."""
    return write_tiny_root(tmp_path_factory.mktemp("grid") / "data")


@pytest.fixture(scope="module")
def serial_grid(grid_data, tmp_path_factory):
    """The grid one run after another, in this process, with 1 thread per run: what every other way must equal."""
    out = tmp_path_factory.mktemp("serial") / "compare"
    before = torch.get_num_threads()
    compare_into(grid_data, out, "--jobs", "1", "--threads-per-run", "1")
    assert torch.get_num_threads() == before  # the driver's threads are given back
    return out


def test_worker_processes_give_the_serial_results_bit_for_bit(grid_data, serial_grid, tmp_path, capsys):
    out = tmp_path / "compare"
    comparison = compare_into(grid_data, out, "--jobs", "2", "--threads-per-run", "1")
    printed = capsys.readouterr().out
    assert "4 runs, 2 at a time on loky, 1 thread each" in printed and "(4/4 runs done)" in printed
    assert_same_grid(out, serial_grid)
    ran_on = comparison["runs"][0]["ran_on"]
    assert ran_on["threads"] == 1 and ran_on["device"] == "cpu"
    assert ran_on["precision"] == resolve_precision("auto", torch.device("cpu"))  # the preset's auto, resolved here
    assert {"host", "cpu", "cpu_id", "cpu_capability"} <= set(ran_on)


def test_ray_gives_the_serial_results_bit_for_bit(grid_data, serial_grid, tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'conae[ray]'); the Ray backend is untested")
    out = tmp_path / "compare"
    # the neighbours preset's two seeds (UMAP's layout in Ray's workers too), against the serial grid's same runs
    comparison = compare_into(grid_data, out, "--jobs", "2", "--threads-per-run", "1", "--backend", "ray",
                              "--presets", "neighbours")
    serial = without_timings(json.loads((serial_grid / "comparison.json").read_text()))
    assert without_timings(comparison)["runs"] == [r for r in serial["runs"] if r["preset"] == "neighbours"]
    theirs = weights(serial_grid)
    for name, mine in weights(out).items():
        assert all(torch.equal(mine[key], theirs[name][key]) for key in mine), name
    import ray
    assert not ray.is_initialized()  # the Ray that compare started is stopped


def test_an_interrupted_parallel_grid_trains_only_its_unfinished_runs(grid_data, serial_grid, tmp_path, capsys):
    out = tmp_path / "compare"
    command = [sys.executable, "-m", "conae", "compare", "--data-root", str(grid_data), "--out", str(out), *GRID,
               "--jobs", "2", "--threads-per-run", "1"]
    # SIGINT as a terminal's Ctrl-C finds it: a shell that starts jobs in the background (CI's may) has them ignore
    # it, and Python then leaves it ignored; a session of its own, so that the grid and its workers can be frozen
    grid = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not list(out.glob("runs/*/result.json")) and time.monotonic() < deadline and grid.poll() is None:
        time.sleep(0.02)
    # the first run has finished: the grid and its workers are frozen where they stand, so that the interrupt
    # certainly lands while runs are left, then Ctrl-C, then they go on and see it
    os.killpg(grid.pid, signal.SIGSTOP)
    assert len(list(out.glob("runs/*/result.json"))) < 4, "the whole grid finished before it could be interrupted"
    grid.send_signal(signal.SIGINT)
    os.killpg(grid.pid, signal.SIGCONT)
    _, err = grid.communicate(timeout=60)
    finished = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("runs/*/result.json")}
    assert grid.returncode == 130 and "the finished runs are kept" in err, err
    assert 1 <= len(finished) < 4
    capsys.readouterr()
    assert main(command[3:]) == 0  # the rest, here: the same command, in this process's (warm) workers
    assert f"4 runs ({len(finished)} finished before)" in capsys.readouterr().out
    assert {name: (out / "runs" / name / "result.json").stat().st_mtime_ns for name in finished} == finished
    assert_same_grid(out, serial_grid)


def test_a_run_interrupted_midway_resumes_bit_for_bit_in_a_worker(grid_data, serial_grid, tmp_path, monkeypatch):
    out = tmp_path / "compare"
    real_fit, fits = conae.grid.fit, []

    def fit_then_interrupt(*a, **k):
        fits.append(1)
        if len(fits) == 3:  # the third run stops where its model.pt has a point or two, like Ctrl-C
            raise KeyboardInterrupt
        return real_fit(*a, **k)

    monkeypatch.setattr(conae.grid, "fit", fit_then_interrupt)
    assert main(["compare", "--data-root", str(grid_data), "--out", str(out), *GRID, "--threads-per-run", "1"]) == 130
    monkeypatch.setattr(conae.grid, "fit", real_fit)
    compare_into(grid_data, out, "--jobs", "2", "--threads-per-run", "1")  # the rest in workers
    assert_same_grid(out, serial_grid)


def test_sweep_continues_where_it_stopped(grid_data, tmp_path, monkeypatch, capsys):
    out = tmp_path / "sweep"
    args = ["sweep", "--embedding-dims", "1,2", "--steps", "12", "--data-root", str(grid_data), "--out", str(out),
            "--no-download", "--jobs", "2", "--threads-per-run", "1"]
    assert main(args) == 0
    first = json.loads((out / "sweep.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == ["code_size.png", "dim-1", "dim-2", "sweep.json"]
    monkeypatch.setattr(conae.grid, "fit", lambda *a, **k: pytest.fail("a finished code size was trained again"))
    assert main([*args[:-4], "--jobs", "1"]) == 0
    again = json.loads((out / "sweep.json").read_text())
    assert again["rows"] == first["rows"] and [r["embedding_dim"] for r in again["rows"]] == [1, 2]


def test_the_plan_of_a_grid():
    cores = usable_cores()
    assert plan(1) == Plan(1, 0) and plan(1).in_process  # one at a time, in this process, threads as they are
    assert plan(2) == Plan(2, max(1, cores // 2))
    assert plan(-1) == Plan(cores, 1)
    assert plan(2, 1, "ray") == Plan(2, 1, "ray") and not plan(1, 1, "ray").in_process
    assert plan(-1, None, "ray", "10.0.0.1:6379") == Plan(-1, 1, "ray", "10.0.0.1:6379")  # a cluster counts its own
    for bad, setting in [(dict(jobs=0), "jobs"), (dict(jobs=-(cores + 1)), "jobs"), (dict(jobs=1.5), "jobs"),
                         (dict(threads_per_run=cores + 1), "threads_per_run"), (dict(threads_per_run=0), "threads_per_run"),
                         (dict(backend="dask"), "backend"), (dict(address="1.2.3.4:6379"), "address")]:
        with pytest.raises(ConfigError) as e:
            plan(**bad)
        assert e.value.setting == setting


@pytest.mark.parametrize("flags, message", [
    (["--jobs", "0"], "argument --jobs: jobs = 0: must be a whole number other than 0"),
    (["--threads-per-run", str(usable_cores() + 1)], "argument --threads-per-run: threads_per_run ="),
    (["--backend", "dask"], "argument --backend: backend = 'dask': choose one of loky, ray"),
])
def test_bad_grid_flags_are_one_line_and_write_nothing(grid_data, tmp_path, capsys, flags, message):
    before = tree(grid_data)
    for command in (["compare"], ["sweep", "--embedding-dims", "1,2"]):
        out = tmp_path / command[0]
        with pytest.raises(SystemExit) as e:
            main([*command, "--data-root", str(grid_data), "--out", str(out), "--no-download", *flags])
        assert e.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("python -m conae") or err[-1].startswith("conae"), err
        assert "error: " + message.split(": ", 1)[0] in err[-1] and message in err[-1]
        assert not out.exists() and tree(grid_data) == before


def test_ray_missing_names_the_extra(grid_data, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails, as where it is not installed
    out = tmp_path / "compare"
    assert main(["compare", "--data-root", str(grid_data), "--out", str(out), *GRID, "--backend", "ray"]) == 1
    assert_one_line_error(capsys, "--backend ray needs Ray: pip install 'conae[ray]'")
    assert not out.exists()


def test_an_address_that_does_not_answer_is_one_line(grid_data, tmp_path, capsys):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'conae[ray]')")
    out = tmp_path / "compare"
    assert main(["compare", "--data-root", str(grid_data), "--out", str(out), *GRID, "--backend", "ray",
                 "--address", "127.0.0.1:9"]) == 1
    assert_one_line_error(capsys, "--address 127.0.0.1:9: no Ray cluster answers there")
    assert not out.exists()


def test_a_grid_of_mixed_precisions_or_cpus_warns():
    same = dict(precision="fp32", cpu_id={"family": "25"}, cpu_capability="avx512")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        warn_if_mixed([dict(ran_on=same), dict(ran_on=same), dict()])  # a result from before ran_on: no warning
    for part, other in (("precision", "bf16"), ("cpu_id", {"family": "6"}), ("cpu_capability", "AVX2")):
        with pytest.warns(UserWarning, match=f"ran with different .*{other if isinstance(other, str) else 6}"):
            warn_if_mixed([dict(ran_on=same), dict(ran_on={**same, part: other})])


def test_runs_are_dealt_to_the_gpus_in_turn(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)  # a machine with two GPUs
    runs = [(f"run {i}", make_config("default", seed=i), tmp_path / str(i)) for i in range(5)]
    tasks = tasks_for(runs, threads=1, backend="loky", training_subset=(0, 0))
    assert [t.cfg.device for t in tasks] == ["cuda:0", "cuda:1", "cuda:0", "cuda:1", "cuda:0"]
    assert all(not t.cfg.download and Path(t.folder).is_absolute() for t in tasks)
    ray_tasks = tasks_for(runs, threads=1, backend="ray", training_subset=(0, 0))
    assert {t.cfg.device for t in ray_tasks} == {"cuda"}  # Ray hands each run the GPU it reserved for it
    pinned = tasks_for([("cpu", make_config("default", device="cpu"), tmp_path)], 1, "loky", (0, 0))
    assert pinned[0].cfg.device == "cpu"  # a run's own device is kept
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    assert {t.cfg.device for t in tasks_for(runs, 1, "loky", (0, 0))} == {"cpu"}


def test_ray_reserves_a_gpu_for_each_run_that_uses_one(monkeypatch, tmp_path):
    import joblib
    asked = {}

    class Stop(Exception):
        pass

    def parallel_backend(backend, n_jobs, **args):  # what run_grid asks joblib for, then stop
        asked.update(backend=backend, n_jobs=n_jobs, **args)
        raise Stop

    monkeypatch.setattr(joblib, "parallel_backend", parallel_backend)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    tasks = tasks_for([("gpu", make_config("default"), tmp_path)], threads=3, backend="ray", training_subset=(0, 0))
    with pytest.raises(Stop):
        run_grid(tasks, Plan(2, 3, "ray"))
    assert asked == dict(backend="ray", n_jobs=2, ray_remote_args=dict(num_cpus=3, num_gpus=1))


def test_presets_that_see_different_images_are_not_compared_in_one_table(grid_data, tmp_path, capsys):
    out = tmp_path / "compare"
    assert main(["compare", "--data-root", str(grid_data), "--out", str(out), "--presets", "original,default",
                 "--no-download"]) == 1
    assert_one_line_error(capsys, "original: deskew False, default: deskew True", "compare them separately")
    assert not out.exists()
