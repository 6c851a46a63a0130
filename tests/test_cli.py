import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conae.cli import main
from tests.conftest import FIGURES


@pytest.mark.slow
def test_train_end_to_end_on_tiny_data(tiny_root, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data-root", str(tiny_root), "--out", str(out), "--epochs", "2",
                 "--batch-size", "32", "--seed", "3", "--no-download"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(["model.pt", "metrics.json"] +
                                                           [f"{f}.png" for f in FIGURES])
    m = json.loads((out / "metrics.json").read_text())
    assert 0 < m["test_bce"] < 1 and set(m["knn_accuracy"]) == {"1", "5"}
    assert all(0 <= a <= 1 for a in m["knn_accuracy"].values())
    assert m["train_seconds"] > 0 and m["images_per_second"] > 0
    assert (m["n_train"], m["n_test"]) == (300, 100)
    assert "files" in m["train_source"] and "files" in m["test_source"]
    assert m["config"]["epochs"] == 2 and m["config"]["batch_size"] == 32 and m["config"]["seed"] == 3
    # 2 epochs of 10 steps: too short to record once an epoch, so every 2 steps, 10 points in all
    assert [e["step"] for e in m["epochs"]] == list(range(2, 21, 2))
    assert (m["steps"], m["images_seen"], m["epochs_done"]) == (20, 600, 2)
    assert m["epochs"][4]["epoch"] == 1 and m["epochs"][0]["epoch"] == pytest.approx(64 / 300, abs=1e-4)
    assert set(m["epochs"][0]) >= {"step", "epoch", "images_seen", "train_loss", "test_bce", "seconds"}
    assert m["epochs"][-1]["test_bce"] == pytest.approx(m["test_bce"], rel=1e-4)
    assert "test BCE" in capsys.readouterr().out


@pytest.mark.slow
def test_the_original_preset_is_the_original_recipe(tiny_root, tmp_path, no_figures):
    out = tmp_path / "original"
    assert main(["train", "--preset", "original", "--epochs", "1", "--data-root", str(tiny_root),
                 "--out", str(out), "--no-download"]) == 0
    cfg = json.loads((out / "metrics.json").read_text())["config"]
    keys = ("train_subset", "batch_size", "lr", "optimizer", "weight_decay", "l2_penalty", "schedule")
    assert {k: cfg[k] for k in keys} == dict(train_subset=4096, batch_size=16, lr=1e-3, optimizer="adam",
                                             weight_decay=1e-4, l2_penalty=0.0005, schedule="constant")


def test_missing_data_is_one_clear_line(tmp_path, capsys):
    assert main(["train", "--data-root", str(tmp_path), "--out", str(tmp_path / "o"),
                 "--no-download", "--no-fallback"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no MNIST test files") and err.count("\n") == 1


@pytest.mark.parametrize("flag, value", [("--epochs", "0"), ("--batch-size", "-4"), ("--embedding-dim", "x")])
def test_bad_numbers_are_rejected(flag, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", flag, value])
    assert exit_info.value.code == 2 and flag in capsys.readouterr().err


def test_help_documents_the_command_line(capsys):
    def help_text(command):  # in this process: test_the_package_installs_with_its_console_command runs the command
        with pytest.raises(SystemExit) as e:
            main([command, "--help"])
        assert e.value.code == 0
        return capsys.readouterr().out
    text = help_text("train")
    for flag in ("--dataset", "--data-root", "--out", "--preset", "--train-subset", "--epochs", "--batch-size",
                 "--embedding-dim", "--seed", "--no-download", "--resume"):
        assert flag in text
    assert "fashion-mnist" in text and "--embedding-dims" in help_text("sweep")


@pytest.mark.slow
def test_sweep_trains_one_model_per_code_size(tiny_root, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "--embedding-dims", "2,1", "--epochs", "1", "--data-root", str(tiny_root),
                 "--out", str(out), "--no-download"]) == 0
    result = json.loads((out / "sweep.json").read_text())
    assert [r["embedding_dim"] for r in result["rows"]] == [1, 2]
    assert all(0 < r["test_bce"] < 1 and 0 < r["pca"]["test_bce"] < 1 and set(r["knn_accuracy"]) == {"1", "5"}
               for r in result["rows"])
    assert result["config"]["epochs"] == 1 and result["n_train"] == 300
    assert (out / "code_size.png").is_file() and (out / "dim-1" / "model.pt").is_file()
    assert "code size  2" in capsys.readouterr().out


def test_train_metrics_hold_recognition_and_the_pca_baseline(tiny_root, tmp_path, no_figures):
    out = tmp_path / "run"
    assert main(["train", "--data-root", str(tiny_root), "--out", str(out), "--epochs", "1", "--no-download"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    rec, pca = m["recognition"], m["pca_baseline"]
    assert list(rec["knn_accuracy"]) == [str(k) for k in range(1, 26)]
    assert m["knn_accuracy"] == {k: rec["knn_accuracy"][k] for k in ("1", "5")}
    assert rec["best_knn_accuracy"] == max(rec["knn_accuracy"].values())
    assert sum(map(sum, rec["confusion_matrix"])) == 100 and m["classes"] == [str(d) for d in range(10)]
    assert 0 <= rec["linear_probe_accuracy"] <= 1 and 0 < pca["test_bce"] < 1 and "best_k" in pca


@pytest.mark.slow
def test_the_wheel_holds_the_package_its_command_and_its_model(wheel, installed_conae, tmp_path):
    """pip builds conae as a wheel with the `conae` command, its subpackage and the model that ships with it; the
    installed copy runs from any folder."""
    names = zipfile.ZipFile(wheel).namelist()
    assert {"conae/cli.py", "conae/offline/transfer.py", "conae/models/mnist-neighbours.pt",
            "conae/models/mnist-neighbours.json", "conae/models/README.md"} <= set(names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "conae = conae.cli:main" in entry_points
    installed = subprocess.run([sys.executable, "-c", "import conae.bundled, sys; print(conae.bundled.BUNDLED); "
                                "sys.argv = ['conae', 'recognise', '--about']; from conae.cli import main; main()"],
                               cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(installed_conae)},
                               capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    where, about = installed.stdout.splitlines()[:2]
    assert where.startswith(str(installed_conae)) and "neighbours preset, seed 0" in about
    command = Path(sys.executable).with_name("conae")
    if not command.exists():
        pytest.skip("conae is not installed in this environment (make test installs it with pip install -e .)")
    result = subprocess.run([str(command), "train", "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("usage: conae train")


def test_a_setting_added_to_config_is_a_flag_with_its_help_and_reaches_the_run(capsys):
    """A new field of Config, with no other edit, is a flag of train (and of the grids), with its help and default,
    checked and carried into the run's Config."""
    from dataclasses import fields, make_dataclass

    from conae.cli import build_parser, config_from_flags
    from conae.config import Config, setting
    extended = make_dataclass("Config", [("dropout", float, setting(0.0, "share of the code's numbers dropped"))],
                              bases=(Config,))
    parser = build_parser(extended)
    for command in ("train", "sweep", "compare"):
        text = parser.command_parsers[command].format_help()
        assert "--dropout DROPOUT" in text and "share of the code's numbers dropped (default: 0.0)" in text
    args = parser.parse_args(["train", "--dropout", "0.25", "--steps", "7"])
    cfg = config_from_flags(args)
    assert type(cfg) is extended and (cfg.dropout, cfg.steps) == (0.25, 7)
    assert config_from_flags(parser.parse_args(["train"])).dropout == 0.0  # not given: the default
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--dropout", "a lot"])
    assert "argument --dropout: invalid float value" in capsys.readouterr().err
    # every field of today's Config is a flag of train, and every flag of train but four is a field
    flags = {a.dest for a in build_parser().command_parsers["train"]._actions} - {"help"}
    assert flags - {f.name for f in fields(Config)} == {"preset", "out", "baselines", "resume"}
