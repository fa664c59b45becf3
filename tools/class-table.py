#!/usr/bin/env python3
"""One table from the reports of a class: python3 tools/class-table.py report-*.json

Each file is one student's `cargo course list --verify --json`, named report-NAME.json.
x = done, . = not done yet.
"""
import json
import pathlib
import sys

reports = {}
for arg in sorted(sys.argv[1:]):
    path = pathlib.Path(arg)
    name = path.stem[len("report-"):] if path.stem.startswith("report-") else path.stem
    reports[name] = json.loads(path.read_text(encoding="utf-8"))

# Every exercise that any report lists, in the order the reports list them.
ids, levels = [], {}
for report in reports.values():
    for ex in report["exercises"]:
        if ex["id"] not in levels:
            ids.append(ex["id"])
            levels[ex["id"]] = ex["level"]

width = max([len("finished")] + [len(name) for name in reports])
print("student".ljust(width), *(f"{i:>3}" for i in ids), " done")
print("level".ljust(width), *(f"{levels[i][0]:>3}" for i in ids))
finished = dict.fromkeys(ids, 0)
for name, report in reports.items():
    status = {ex["id"]: ex["status"] for ex in report["exercises"]}
    cells = []
    for i in ids:
        done = status.get(i) == "done"
        finished[i] += done
        cells.append("x" if done else ".")
    print(name.ljust(width), *(f"{c:>3}" for c in cells), f"{report['done']:>2}/{report['total']}")
print("finished".ljust(width), *(f"{finished[i]:>3}" for i in ids))
