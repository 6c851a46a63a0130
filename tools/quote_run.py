"""Writes the committed run's tables into the README and docs/results.md, between their markers: the notebook's row
and the comparison in the README, the notebook's codes, the per-seed comparison, the original recipe and the
code-size sweep in results.md, each from its file in outputs/ (the tests check that they agree).

    python -m tools.quote_run      # after make run (and conae compare / sweep), before committing
"""
import json
import re
import sys
from pathlib import Path

from conae.compare import comparison_table, seeds_table, sweep_table
from conae.report import baseline_table
from conae.viz import markdown_table

REPO = Path(__file__).resolve().parents[1]
OUTPUTS = REPO / "outputs"


def notebook_row(metrics):
    """The README's row of the notebook run: test BCE, the two yardsticks, 1-NN, 5-NN and the training seconds."""
    yardsticks = metrics["bce_yardsticks"]
    return markdown_table(
        ["test BCE", "the average image's BCE", "the floor", "1-NN accuracy", "5-NN accuracy", "training"],
        [[f"{metrics['test_bce']:.4f}", f"{yardsticks['mean_image']:.3f}", f"{yardsticks['floor']:.3f}",
          f"{metrics['knn_accuracy']['1']:.3f}", f"{metrics['knn_accuracy']['5']:.3f}",
          f"{metrics['train_seconds']:.0f} s"]])


def notebook_codes(metrics):
    """results.md's table of the notebook run's codes: the autoencoder, the neighbours recipe, the baselines."""
    return baseline_table(metrics, {"autoencoder, neighbours recipe": metrics["neighbours_preset"]})


def block(text, marker):
    """The match of text's block between <!-- marker --> and <!-- /marker -->: its table is group 2."""
    found = re.search(rf"(<!-- {marker} -->\n)(.*?)(\n<!-- /{marker} -->)", text, re.DOTALL)
    if not found:
        sys.exit(f"error: no <!-- {marker} --> block")
    return found


def quoted(text, marker):
    """The table text quotes between <!-- marker --> and <!-- /marker -->."""
    return block(text, marker).group(2)


def quote(text, marker, table):
    """text with the table between <!-- marker --> and <!-- /marker --> replaced."""
    found = block(text, marker)
    return text[:found.start(2)] + table + text[found.end(2):]


def main():
    read = {name: json.loads((OUTPUTS / f"{name}.json").read_text())
            for name in ("metrics", "comparison", "original", "sweep")}
    pages = {
        REPO / "README.md": {"notebook-table": notebook_row(read["metrics"]),
                             "comparison-table": comparison_table(read["comparison"])},
        REPO / "docs" / "results.md": {"baseline-table": notebook_codes(read["metrics"]),
                                       "official-table": seeds_table(read["comparison"]),
                                       "original-table": seeds_table(read["original"]),
                                       "sweep-table": sweep_table(read["sweep"]["rows"])},
    }
    for page, tables in pages.items():
        text = page.read_text()
        for marker, table in tables.items():
            text = quote(text, marker, table)
        page.write_text(text)
        print(f"wrote {', '.join(tables)} into {page.relative_to(REPO)}")


if __name__ == "__main__":
    main()
