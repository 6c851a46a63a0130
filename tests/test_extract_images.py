import base64
import io
import json

import matplotlib.pyplot as plt
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

import extract_images


def png(color):
    fig = plt.figure(figsize=(1, 1))
    fig.patch.set_facecolor(color)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def image_output(data):
    return new_output("display_data", data={"image/png": base64.b64encode(data).decode(), "text/plain": "<Figure>"})


def write_notebook(path):
    named = new_code_cell("viz.plot_loss(history)", outputs=[image_output(png("red"))])
    named.metadata["figure"] = "training_curve"
    tagged = new_code_cell("two figures", outputs=[image_output(png("green")), image_output(png("blue"))])
    tagged.metadata["tags"] = ["figure:pair"]
    plain = new_code_cell("plt.plot()", outputs=[new_output("stream", name="stdout", text="hi\n"),
                                                 image_output(png("black"))])
    nb = new_notebook(cells=[new_markdown_cell("# t"), named, tagged, plain])
    nbformat.write(nb, path)


def test_writes_every_png_with_stable_names(tmp_path, capsys):
    write_notebook(tmp_path / "nb.ipynb")
    assert extract_images.main([str(tmp_path / "nb.ipynb"), str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == \
        [".extract_images.json", "output_4.png", "pair.png", "pair_2.png", "training_curve.png"]
    assert (tmp_path / "out" / "training_curve.png").read_bytes() == png("red")
    assert (tmp_path / "out" / "output_4.png").read_bytes() == png("black")
    assert "wrote 4 figures" in capsys.readouterr().out


def check_error(args, message, capsys):
    assert extract_images.main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_missing_notebook(tmp_path, capsys):
    check_error([str(tmp_path / "nope.ipynb"), str(tmp_path / "out")], "notebook not found", capsys)
    assert not (tmp_path / "out").exists()


def test_invalid_json(tmp_path, capsys):
    (tmp_path / "bad.ipynb").write_text("{ not json")
    check_error([str(tmp_path / "bad.ipynb"), str(tmp_path / "out")], "not a valid notebook", capsys)
    assert not (tmp_path / "out").exists()


def test_not_executed(tmp_path, capsys):
    nbformat.write(new_notebook(cells=[new_code_cell("1 + 1")]), tmp_path / "raw.ipynb")
    check_error([str(tmp_path / "raw.ipynb"), str(tmp_path / "out")], "no PNG outputs; execute it first", capsys)
    assert not (tmp_path / "out").exists()


def test_other_nbformat_major_version(tmp_path, capsys):
    (tmp_path / "v3.ipynb").write_text(json.dumps({"nbformat": 9, "nbformat_minor": 0, "cells": []}))
    check_error([str(tmp_path / "v3.ipynb"), str(tmp_path / "out")], "not a valid notebook", capsys)


def test_removes_only_the_stale_pngs_it_wrote(tmp_path, capsys):
    out = tmp_path / "out"
    write_notebook(tmp_path / "nb.ipynb")
    out.mkdir()
    (out / "metrics.json").write_text("{}")      # not a PNG it wrote: never touched
    (out / "mine.png").write_bytes(png("white"))  # a user's own figure: never touched
    assert extract_images.main([str(tmp_path / "nb.ipynb"), str(out)]) == 0
    (out / "pair_2.png").write_bytes(png("yellow"))  # a written PNG the user has since changed: kept

    nb = nbformat.read(tmp_path / "nb.ipynb", as_version=4)
    nb.cells[1].metadata["figure"] = "loss"  # training_curve.png is now loss.png
    nb.cells[2].outputs = []                 # pair.png and pair_2.png are no longer produced
    nbformat.write(nb, tmp_path / "nb.ipynb")
    capsys.readouterr()
    assert extract_images.main([str(tmp_path / "nb.ipynb"), str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == \
        [".extract_images.json", "loss.png", "metrics.json", "mine.png", "output_2.png", "pair_2.png"]
    assert "removed stale output_4.png, pair.png, training_curve.png" in capsys.readouterr().out
    assert json.loads((out / ".extract_images.json").read_text())["files"].keys() == {"loss.png", "output_2.png"}
