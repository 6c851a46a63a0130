"""Numbers that re-run: the committed notebook, executed again with its own parameters, gives its numbers again:
bitwise where everything that decides the floats is the recorded run's (the environment's float parts and the
code), and within tolerances elsewhere.

The tolerances (docs/reproduce.md, "Numbers that re-run"; `bench/float_spread.py` measures them): training is chaotic, so a
change of rounding alone (AVX2 instead of AVX-512 kernels, 1 thread instead of 2) sends it down another path and
moves the numbers about as far as a change of seed does. On the notebook's 1,000 deskewed test images rounding
moved test BCE by up to 0.0008 and the k-NN accuracies by up to 0.020; seeds moved them by up to 0.0009 and 0.046
(0.0023 and 0.041 on the official 10,000). The tolerances cover that spread between seeds, so another CPU passes,
and a change that moves a number further than a new seed would fails."""
import json

import pytest

from conae.environment import code_differs_from, environment, float_differences, one_line
from conae.device import pick_device
from tests.conftest import REPO

TOLERANCES = {"test BCE": 0.004, "1-NN": 0.05, "5-NN": 0.05}


def headline(metrics):
    return {"test BCE": metrics["test_bce"], "1-NN": metrics["knn_accuracy"]["1"],
            "5-NN": metrics["knn_accuracy"]["5"]}


def why_not_exact(recorded, current, code_differs):
    """Everything that keeps the re-run from being bitwise the recorded one ([] when nothing does)."""
    reasons = float_differences(recorded, current)
    commit = (recorded.get("git_commit") or "")[:10]
    if recorded.get("code_changed") or not commit:
        reasons.append(f"the committed run was made from conae at {commit or 'an unknown commit'} with uncommitted "
                       "changes, so its code cannot be re-run exactly" if commit else
                       "the committed run recorded no commit of conae")
    elif code_differs is None:
        reasons.append(f"cannot tell whether conae here is the recorded commit {commit} (no git, or a clone without it)")
    elif code_differs:
        reasons.append(f"conae here differs from the recorded commit {commit}")
    return reasons


def verdict(before, after, reasons):
    """The failure message, or None when the numbers reproduce: equal when nothing differs, else within
    TOLERANCES."""
    exact = not reasons
    moved = [f"{name} {before[name]:.4f} -> {after[name]:.4f}" for name in before
             if (before[name] != after[name] if exact else abs(before[name] - after[name]) > TOLERANCES[name])]
    if not moved:
        return None
    why = ("everything that decides the floats is the recorded run's, so they must be equal" if exact else
           f"beyond the tolerances {TOLERANCES}, which apply because: " + "; ".join(reasons))
    return f"moved: {'; '.join(moved)} ({why})"


@pytest.mark.slow
def test_reexecuting_the_committed_notebook_reproduces_its_numbers(reexecuted_notebook):
    committed = json.loads((REPO / "outputs" / "metrics.json").read_text())
    again = json.loads((reexecuted_notebook[1] / "metrics.json").read_text())
    if again["train_source"] != committed["train_source"]:
        pytest.skip(f"this checkout has other data than the committed run ({again['train_source']}): "
                    "numbers cannot be compared")
    recorded, current = committed["environment"], environment(pick_device("auto"), neighbour_methods=True)
    reasons = why_not_exact(recorded, current, code_differs_from(recorded.get("git_commit")))
    failure = verdict(headline(committed), headline(again), reasons)
    assert failure is None, f"{failure}\nrecorded: {one_line(recorded)}\ncurrent:  {one_line(current)}"


# the test of the test: which rule applies, and that it still fails beyond the tolerances

def this_environment():
    """This machine's record, as if made from committed code."""
    return {**environment("cpu", neighbour_methods=True), "git_commit": "0" * 40, "code_changed": False}


NUMBERS = {"test BCE": 0.1691, "1-NN": 0.718, "5-NN": 0.755}


def test_the_same_environment_and_code_demand_equality():
    env = this_environment()
    assert why_not_exact(env, dict(env), code_differs=False) == []
    assert verdict(NUMBERS, dict(NUMBERS), []) is None
    failure = verdict(NUMBERS, {**NUMBERS, "5-NN": 0.754}, [])
    assert "5-NN 0.7550 -> 0.7540" in failure and "must be equal" in failure


@pytest.mark.parametrize("part, change", [
    ("cpu_id", lambda env: {**env, "cpu_id": {**(env["cpu_id"] or {}), "family": "23"}}),
    ("cpu_capability", lambda env: {**env, "cpu_capability": "AVX2" if env["cpu_capability"] != "AVX2" else "AVX512"}),
    ("math_libraries", lambda env: {**env, "math_libraries": {"oneDNN": "0.0.1", "MKL": None}}),
    ("cpu_id", lambda env: {k: v for k, v in env.items() if k != "cpu_id"}),  # a record from before it was kept
])
def test_a_different_cpu_generation_uses_the_tolerances_and_says_which_part_differed(part, change):
    current = this_environment()
    reasons = why_not_exact(change(current), current, code_differs=False)
    assert [r.split(":")[0] for r in reasons] == [part]
    within = {"test BCE": 0.1699, "1-NN": 0.716, "5-NN": 0.743}  # AVX-512 kernels against the AVX2 run's numbers
    assert verdict(NUMBERS, within, reasons) is None
    beyond = {**within, "5-NN": 0.700}
    failure = verdict(NUMBERS, beyond, reasons)
    assert "5-NN 0.7550 -> 0.7000" in failure and "tolerances" in failure and part in failure
    assert "test BCE" not in failure.split("(")[0]  # only the number that moved too far is named


def test_a_run_from_uncommitted_or_different_code_uses_the_tolerances_and_says_so():
    env = this_environment()
    dirty = {**env, "git_commit": "7c02a737a5faa6b9f7fc433cfc1047770025d575", "code_changed": True}
    assert "with uncommitted changes" in why_not_exact(dirty, env, code_differs=False)[0]
    clean = {**dirty, "code_changed": False}
    assert "differs from the recorded commit 7c02a737a5" in why_not_exact(clean, env, code_differs=True)[0]
    assert "cannot tell" in why_not_exact(clean, env, code_differs=None)[0]
    assert why_not_exact(clean, env, code_differs=False) == []


def test_the_environment_names_what_decides_the_floats():
    env = this_environment()
    assert env["cpu_capability"] and set(env["math_libraries"]) == {"oneDNN", "MKL"}
    assert env["gpu"] is None  # a CPU run; a CUDA run records the GPU's name, CUDA and cuDNN
    if env["platform"].startswith("Linux x86_64"):
        assert set(env["cpu_id"]) == {"vendor", "family", "model", "stepping"} and env["cpu_id"]["family"]
    line = one_line(env)
    assert f"{env['cpu_capability']} kernels" in line
    assert float_differences(env, json.loads(json.dumps(env))) == []  # survives metrics.json
