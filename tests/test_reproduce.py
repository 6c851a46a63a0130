"""Numbers that re-run: the committed notebook, executed again with its own parameters, gives its numbers again:
bitwise where everything that decides the floats is the recorded run's (the environment's float parts, the code's
digest among them), and within tolerances elsewhere. The committed run must be of the code here, so that on the
recorded kind of machine the bitwise comparison is the one that runs.

The tolerances (docs/reproduce.md, "Numbers that re-run", has the spread `bench/float_spread.py` measured): training
is chaotic, so a change of rounding alone (AVX2 instead of AVX-512 kernels, 1 thread instead of 2, bfloat16 instead
of float32) sends it down another path and moves the numbers about as far as a change of seed does. The tolerances
cover the spread between seeds, so another CPU passes, and a change that moves a number further than a new seed
would fails."""
import json

import pytest
import torch

from conae.environment import code_digest, environment, float_differences, gpu, one_line
from tests.conftest import REPO

TOLERANCES = {"test BCE": 0.004, "1-NN": 0.05, "5-NN": 0.05}
COMMITTED = REPO / "outputs" / "metrics.json"


def headline(metrics):
    return {"test BCE": metrics["test_bce"], "1-NN": metrics["knn_accuracy"]["1"],
            "5-NN": metrics["knn_accuracy"]["5"]}


def verdict(before, after, reasons):
    """The failure message, or None when the numbers reproduce: equal when nothing that decides the floats
    differs (reasons, conae.environment.float_differences, is empty), else within TOLERANCES."""
    exact = not reasons
    moved = [f"{name} {before[name]:.4f} -> {after[name]:.4f}" for name in before
             if (before[name] != after[name] if exact else abs(before[name] - after[name]) > TOLERANCES[name])]
    if not moved:
        return None
    why = ("everything that decides the floats is the recorded run's, so they must be equal" if exact else
           f"beyond the tolerances {TOLERANCES}, which apply because: " + "; ".join(reasons))
    return f"moved: {'; '.join(moved)} ({why})"


def test_the_committed_run_is_of_the_code_here():
    recorded = json.loads(COMMITTED.read_text())["environment"]
    assert recorded.get("code_digest") == code_digest(), (
        "conae/ has changed since the committed notebook run: re-execute it (make run) and commit ConAE.ipynb and "
        "outputs/ with the change, so that the reproduce test compares bitwise where it can")


@pytest.mark.slow
@pytest.mark.reproduce
def test_reexecuting_the_committed_notebook_reproduces_its_numbers(reexecuted_notebook):
    committed = json.loads(COMMITTED.read_text())
    again = json.loads((reexecuted_notebook[1] / "metrics.json").read_text())
    if again["train_source"] != committed["train_source"]:
        pytest.skip(f"this checkout has other data than the committed run ({again['train_source']}): "
                    "numbers cannot be compared")
    recorded, current = committed["environment"], again["environment"]
    failure = verdict(headline(committed), headline(again), float_differences(recorded, current))
    assert failure is None, f"{failure}\nrecorded: {one_line(recorded)}\ncurrent:  {one_line(current)}"


# the test of the test: which rule applies, and that it still fails beyond the tolerances

def this_environment():
    """This machine's record of a CPU run in float32."""
    return environment("cpu", neighbour_methods=True, precision="fp32")


NUMBERS = {"test BCE": 0.1691, "1-NN": 0.718, "5-NN": 0.755}


def test_the_same_environment_and_code_demand_equality():
    env = this_environment()
    assert float_differences(env, json.loads(json.dumps(env))) == []  # survives metrics.json
    assert verdict(NUMBERS, dict(NUMBERS), []) is None
    failure = verdict(NUMBERS, {**NUMBERS, "5-NN": 0.754}, [])
    assert "5-NN 0.7550 -> 0.7540" in failure and "must be equal" in failure


@pytest.mark.parametrize("part, change", [
    ("cpu_id", lambda env: {**env, "cpu_id": {**(env["cpu_id"] or {}), "family": "23"}}),
    ("cpu_capability", lambda env: {**env, "cpu_capability": "AVX2" if env["cpu_capability"] != "AVX2" else "AVX512"}),
    ("math_libraries", lambda env: {**env, "math_libraries": {"oneDNN": "0.0.1", "MKL": None}}),
    ("precision", lambda env: {**env, "precision": "bf16"}),
    ("code_digest", lambda env: {**env, "code_digest": "0" * 16}),  # a run of other code
    ("code_digest", lambda env: {k: v for k, v in env.items() if k != "code_digest"}),  # a record from before it
    ("cpu_id", lambda env: {k: v for k, v in env.items() if k != "cpu_id"}),  # a record from before it was kept
])
def test_another_cpu_precision_or_code_uses_the_tolerances_and_says_which_part_differed(part, change):
    current = this_environment()
    reasons = float_differences(change(current), current)
    assert [r.split(":")[0] for r in reasons] == [part]
    within = {"test BCE": 0.1699, "1-NN": 0.716, "5-NN": 0.743}  # AVX-512 kernels against the AVX2 run's numbers
    assert verdict(NUMBERS, within, reasons) is None
    beyond = {**within, "5-NN": 0.700}
    failure = verdict(NUMBERS, beyond, reasons)
    assert "5-NN 0.7550 -> 0.7000" in failure and "tolerances" in failure and part in failure
    assert "test BCE" not in failure.split("(")[0]  # only the number that moved too far is named


def test_the_code_digest_is_of_what_the_code_does_not_of_its_comments(tmp_path, monkeypatch):
    import conae.environment
    package = tmp_path / "conae"
    package.mkdir()
    module = package / "a.py"
    module.write_text('"""A module."""\nSCALE = 1  # a constant\n\n\ndef f(x):\n    """Doubles."""\n    return SCALE * x\n')
    monkeypatch.setattr(conae.environment, "PACKAGE", package)
    first = code_digest()
    (package / "notes.txt").write_text("not code")
    module.write_text('"""A module, its docstring edited."""\nSCALE = 1  # another comment\n\n\ndef f(x):\n'
                      '    """Doubles x (a docstring edited)."""\n    # a comment added\n    return SCALE * x\n')
    assert code_digest() == first  # comments, docstrings and layout: no re-execution
    module.write_text('"""A module."""\nSCALE = 2  # a constant\n\n\ndef f(x):\n    """Doubles."""\n    return SCALE * x\n')
    assert code_digest() != first  # one changed constant
    module.write_text('"""A module."""\nSCALE = 1\n\n\ndef f(x):\n    """Doubles."""\n    return x * SCALE\n')
    assert code_digest() != first  # the same value by another expression is another code
    module.write_text('"""A module."""\nSCALE = 1  # a constant\n\n\ndef f(x):\n    """Doubles."""\n    return SCALE * x\n')
    assert code_digest() == first
    (package / "offline").mkdir()
    (package / "offline" / "b.py").write_text("")  # a new module, in a subpackage too
    assert code_digest() != first


def test_the_environment_names_what_decides_the_floats():
    env = this_environment()
    assert env["cpu_capability"] and set(env["math_libraries"]) == {"oneDNN", "MKL"}
    assert env["precision"] == "fp32" and len(env["code_digest"]) == 16
    if env["platform"].startswith("Linux x86_64"):
        assert set(env["cpu_id"]) == {"vendor", "family", "model", "stepping"} and env["cpu_id"]["family"]
    line = one_line(env)
    assert f"{env['cpu_capability']} kernels" in line


def test_a_cuda_run_records_its_gpu_and_another_gpu_is_a_float_difference(monkeypatch):
    assert gpu("cpu") is None and this_environment()["gpu"] is None
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: f"Fake GPU {torch.device(device).index}")
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 91300)
    assert gpu("cuda:1") == dict(name="Fake GPU 1", cuda="13.0", cudnn=91300)
    on_gpu = environment("cuda:0", precision="bf16")
    assert on_gpu["gpu"] == dict(name="Fake GPU 0", cuda="13.0", cudnn=91300) and on_gpu["device"] == "cuda:0"
    assert "(Fake GPU 0, CUDA 13.0, cuDNN 91300)" in one_line(on_gpu)
    other = {**on_gpu, "gpu": {**on_gpu["gpu"], "name": "Fake GPU 1"}}
    assert [r.split(":")[0] for r in float_differences(on_gpu, other)] == ["gpu"]
    assert {"device", "gpu", "precision"} <= {r.split(":")[0] for r in float_differences(this_environment(), on_gpu)}
