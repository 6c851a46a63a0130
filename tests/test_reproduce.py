"""Numbers that re-run: the committed notebook, executed again with its own parameters, gives its numbers again
(exactly, in the environment it recorded; within tolerances elsewhere)."""
import json

import pytest

from conae.environment import environment, one_line
from conae.train import pick_device
from tests.conftest import REPO
from tests.test_notebook import run

TOLERANCES = {"test BCE": 0.002, "1-NN": 0.02, "5-NN": 0.02}


def headline(metrics):
    return {"test BCE": metrics["test_bce"], "1-NN": metrics["knn_accuracy"]["1"],
            "5-NN": metrics["knn_accuracy"]["5"]}


def same_machine_kind(recorded, current):
    keys = ("python", "packages", "platform", "cpu", "threads", "device")
    return all(recorded.get(k) == current.get(k) for k in keys)


def test_reexecuting_the_committed_notebook_reproduces_its_numbers(tmp_path):
    committed = json.loads((REPO / "outputs" / "metrics.json").read_text())
    run(tmp_path)  # the committed parameters; only the output folder moves
    again = json.loads((tmp_path / "out" / "metrics.json").read_text())
    if again["train_source"] != committed["train_source"]:
        pytest.skip(f"this checkout has other data than the committed run ({again['train_source']}): "
                    "numbers cannot be compared")
    recorded, current = committed["environment"], environment(pick_device("auto"), neighbour_methods=True)
    exact = same_machine_kind(recorded, {**current, "packages": {k: current["packages"].get(k)
                                                                 for k in recorded["packages"]}})
    before, after = headline(committed), headline(again)
    moved = [f"{name} {before[name]:.4f} -> {after[name]:.4f}" for name in before
             if (before[name] != after[name] if exact else abs(before[name] - after[name]) > TOLERANCES[name])]
    why = "the recorded environment is this one, so they must be equal" if exact else f"tolerances {TOLERANCES}"
    assert not moved, (f"moved: {'; '.join(moved)} ({why})\n"
                       f"recorded: {one_line(recorded)}\ncurrent:  {one_line(current)}")
