import json

import pytest

from conae.atomic import atomic_write, write_json


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text("old")

    def crash_halfway(tmp):
        tmp.write_text("new, but only half")
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        atomic_write(path, crash_halfway)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_failed_first_write_leaves_nothing(tmp_path):
    with pytest.raises(TypeError):  # json cannot encode an object: nothing may be left behind
        write_json(tmp_path / "metrics.json", {"x": object()})
    assert list(tmp_path.iterdir()) == []


def test_successful_write_replaces(tmp_path):
    write_json(tmp_path / "m.json", {"a": 1})
    write_json(tmp_path / "m.json", {"a": 2})
    assert json.loads((tmp_path / "m.json").read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_writers_sharing_a_folder_use_temporaries_of_their_own(tmp_path):
    names = []
    for _ in range(2):
        atomic_write(tmp_path / "result.json", lambda tmp: (names.append(tmp.name), tmp.write_text("{}")))
    assert names[0] != names[1] and all(n.endswith(".tmp.json") for n in names)
