#!/usr/bin/env python3
"""Structure-aware mutation test: every bundled model config and graph, mutated one key at a
time (key deleted, value's type swapped, number scaled by 0, -1, 1e3, 1e9, set to a huge
integer or the string "NaN"), compiled by lpusim under a per-case time and memory limit. Each
case must exit 0 (accepted) or 2 (refused as bad input): never a crash (1, a signal), a hang
(timeout) or runaway memory (killed at the address-space limit).

Usage: mutated_inputs.py LPUSIM ROOT [--seconds S]
The cases are a deterministic sample (fixed seed); the run stops starting new cases after S
seconds (default 100) so that it stays within its CI budget, and fails if fewer than 100 ran.
"""
import copy
import glob
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

CASE_SECONDS = 30              # generous for a loaded CI machine; a tiny compile takes < 1 s
CASE_ADDRESS_SPACE = 8 << 30   # ulimit -v: lpusim reserves ~1 GiB of address space at start
HOST_BUDGET = 2 << 30          # LPUSIM_MAX_HOST_BYTES: the guard must refuse before the limit


def mutations(doc):
    """(description, mutated document) for every key path of the document, one change each."""
    out = []

    def walk(node, path):
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, value in list(items):
            here = path + [key]
            out.append((f"delete {here}", lambda d, h=here: delete(d, h)))
            swaps = [None, True, "text", [], {}, 1]
            for swap in swaps:
                out.append((f"{here} = {swap!r}", lambda d, h=here, s=swap: assign(d, h, copy.deepcopy(s))))
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                for factor in (0, -1, 1e3, 1e9):
                    scaled = value * factor
                    if isinstance(value, int) and float(scaled).is_integer() and abs(scaled) < 2**63:
                        scaled = int(scaled)
                    out.append((f"{here} x {factor}", lambda d, h=here, s=scaled: assign(d, h, s)))
                out.append((f"{here} = 2^64", lambda d, h=here: assign(d, h, 2**64)))
                out.append((f"{here} = 'NaN'", lambda d, h=here: assign(d, h, "NaN")))
            walk(value, here)

    walk(doc, [])
    return out


def resolve(doc, path):
    for key in path[:-1]:
        doc = doc[key]
    return doc, path[-1]


def delete(doc, path):
    parent, key = resolve(doc, path)
    del parent[key]


def assign(doc, path, value):
    parent, key = resolve(doc, path)
    parent[key] = value


def limit_child():
    resource.setrlimit(resource.RLIMIT_AS, (CASE_ADDRESS_SPACE, CASE_ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main():
    lpusim, root = sys.argv[1], sys.argv[2]
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--seconds" else 100.0
    sources = sorted(glob.glob(os.path.join(root, "workloads/transformers/*/config.json")))
    graphs = sorted(glob.glob(os.path.join(root, "workloads/graphs/*.json")) +
                    glob.glob(os.path.join(root, "tests/data/graphs/*.json")))
    rng = random.Random(15)
    cases = []
    for path in sources + graphs:
        doc = json.load(open(path))
        for description, mutate in rng.sample(mutations(doc), k=min(36, len(mutations(doc)))):
            mutated = copy.deepcopy(doc)
            mutate(mutated)
            cases.append((path, description, mutated, path in graphs))
    rng.shuffle(cases)
    env = dict(os.environ, LPUSIM_MAX_HOST_BYTES=str(HOST_BUDGET))
    start = time.monotonic()
    ran = failures = 0
    codes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path, description, mutated, is_graph in cases:
            if time.monotonic() - start > seconds:
                break
            name = "graph.json" if is_graph else "config.json"
            case_file = os.path.join(tmp, name)
            with open(case_file, "w") as f:
                f.write(json.dumps(mutated, allow_nan=False))
            args = [lpusim, "compile", case_file] + ([] if is_graph else ["--prompt-len", "4"])
            try:
                done = subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      timeout=CASE_SECONDS, preexec_fn=limit_child)
                code = done.returncode
                stderr = done.stderr.decode(errors="replace").strip()
            except subprocess.TimeoutExpired:
                code, stderr = "timeout", f"still running after {CASE_SECONDS} s"
            ran += 1
            codes[code] = codes.get(code, 0) + 1
            if code not in (0, 2):
                failures += 1
                print(f"FAIL: {os.path.relpath(path, root)}: {description}: exit {code}")
                print("  " + stderr[-400:].replace("\n", "\n  "))
    summary = ", ".join(f"exit {c}: {n}" for c, n in sorted(codes.items(), key=str))
    print(f"{len(cases)} cases sampled, {ran} run in {time.monotonic() - start:.0f} s ({summary})")
    print(f"{ran - failures} passed, {failures} failed")
    return 0 if failures == 0 and ran >= 100 else 1


if __name__ == "__main__":
    sys.exit(main())
