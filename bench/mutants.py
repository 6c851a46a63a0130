"""The share of mutants the tests catch, module by module, from what `mutmut run` left in mutants/.

    make mutants                      # mutmut over one mutant in five of pyproject's [tool.mutmut] modules, then this
    make mutants MUTANTS=             # every mutant (about five times as long)
    python -m bench.mutants [--survivors] [--folder mutants]

mutmut changes one thing at a time in a module (an operator, a number, a string, a removed argument...) and runs the
tests that reach the changed function against it. A mutant is caught when a test fails (killed) or hangs past
mutmut's time limit (timed out); it survives when every test passes, and "no test" means no quick test reaches it.
Each surviving mutant is an assertion the tests do not make (`mutmut show NAME` prints its change), or a change that
makes no difference to what the code does. The sample `make mutants` runs by default is the mutants whose number
in their function ends in 3 or 7 (mutmut numbers each function's mutants 1, 2, 3...): one in five, from every
function with three or more, the same sample on every run.
"""
import argparse
import json
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code  # mutmut's own reading of its exit codes

NAMES = {"timeout": "timed out", "no tests": "no test", "not checked": "not run"}  # mutmut's words, as the table has them
COLUMNS = ("killed", "timed out", "survived", "no test")  # the mutants run; those outside the sample are counted apart


def results(folder):
    """{module: {mutant name: status}} from mutmut's .meta files."""
    found = {}
    for meta in sorted(Path(folder).rglob("*.py.meta")):
        module = meta.relative_to(folder).as_posix()[:-len(".meta")]
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        found[module] = {name: NAMES.get(status_by_exit_code[code], status_by_exit_code[code])
                         for name, code in codes.items()}
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default="mutants", help="where mutmut ran (default: mutants)")
    parser.add_argument("--survivors", action="store_true", help="also list every mutant not caught")
    args = parser.parse_args()
    found = results(args.folder)
    if not found:
        raise SystemExit(f"no mutmut results in {args.folder}/: run `make mutants` first")
    print("| module | mutants run | " + " | ".join(COLUMNS) + " | share caught |")
    print("| --- | --- | " + " | ".join("---" for _ in COLUMNS) + " | --- |")
    total = Counter()
    for module, statuses in [*found.items(), ("all", None)]:
        counts = total if statuses is None else Counter(statuses.values())
        if statuses is not None:
            total.update(counts)
        n = sum(counts.values()) - counts["not run"]
        caught = (counts["killed"] + counts["timed out"]) / n if n else 0.0
        print(f"| {module} | {n} | " + " | ".join(str(counts[c]) for c in COLUMNS) + f" | {caught:.3f} |")
    print(f"\n{sum(total.values()) - total['not run']} of {sum(total.values())} mutants run")
    others = {status: count for status, count in total.items() if status not in (*COLUMNS, "not run")}
    if others:  # suspicious, segfault, ...: run, not caught, and not in a column of their own
        print("also run, and counted as not caught: " + ", ".join(f"{count} {status}" for status, count in others.items()))
    if args.survivors:
        for module, statuses in found.items():
            for name, status in statuses.items():
                if status not in ("killed", "timed out"):
                    print(f"{status}: {name}")


if __name__ == "__main__":
    main()
