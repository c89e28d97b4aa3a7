#!/usr/bin/env python3
"""The host-memory guard and the cost estimates behind it (docs/limits.md).

1. Estimate against measurement: for compiles and an estimate of different sizes, the host
   memory lpusim estimates before the work (printed by compile, in estimate --json) is within
   2x of the peak RSS measured by the kernel for the process and its children (getrusage).
2. A lowered guard: with LPUSIM_MAX_HOST_BYTES below what each command needs, compile,
   estimate, verify, run and bench refuse with exit 2 and a message naming host memory, and
   their peak RSS stays below the guard.
3. No partial outputs: a compile refused by the guard leaves no -o file behind.

Usage: host_memory.py LPUSIM ROOT
"""
import json
import os
import re
import resource
import subprocess
import sys
import tempfile

failures = 0
cases = 0


def run(args, env_extra=None):
    """Runs lpusim; returns (exit code, stdout, stderr, peak RSS in bytes of the child tree)."""
    env = dict(os.environ, **(env_extra or {}))
    # RUSAGE_CHILDREN's maxrss is the largest of the waited-for descendants: each case runs
    # in a fresh python process so that earlier cases do not mask it.
    probe = (
        "import resource, subprocess, sys, json\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)\n"
        "print(json.dumps({'code': p.returncode, 'out': p.stdout.decode(errors='replace'),"
        " 'err': p.stderr.decode(errors='replace'),"
        " 'rss': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))\n")
    done = subprocess.run([sys.executable, "-c", probe] + args, env=env, stdout=subprocess.PIPE, check=True)
    r = json.loads(done.stdout)
    return r["code"], r["out"], r["err"], r["rss"]


def check(what, ok, detail=""):
    global failures, cases
    cases += 1
    if not ok:
        failures += 1
        print(f"FAIL: {what}")
        if detail:
            print("  " + detail.strip().replace("\n", "\n  "))
    else:
        print(f"ok: {what}")


def main():
    lpusim, root = sys.argv[1], sys.argv[2]
    mib = 1 << 20

    # 1. Estimates within 2x of the measured peak RSS.
    for args in (["compile", "tiny-llama", "--prompt-len", "8"],
                 ["compile", "tiny-mixtral", "--phase", "prefill", "--prompt-len", "8"],
                 ["compile", "gpt2", "--weights", "int8", "--prompt-len", "16"],
                 ["compile", "gpt2", "--weights", "int8", "--phase", "prefill", "--prompt-len", "8"],
                 ["compile", os.path.join(root, "workloads/graphs/lstm512_b32.json")]):
        code, out, err, rss = run([lpusim] + args)
        m = re.search(r"host memory estimated ([0-9.]+) MiB", err)
        if code != 0 or not m:
            check(f"{' '.join(args)}: compiles and prints its host-memory estimate", False, err)
            continue
        estimate = float(m.group(1)) * mib
        check(f"{' '.join(args)}: estimate {estimate / mib:.0f} MiB within 2x of peak RSS {rss / mib:.0f} MiB",
              rss / 2 <= estimate <= rss * 2, err)
    code, out, err, rss = run([lpusim, "estimate", "tiny-gpt2", "--prompt-len", "8", "--gen-len", "8", "--json"])
    if code == 0:
        estimate = json.loads(out)["host"]["estimated_host_bytes"]
        check(f"estimate tiny-gpt2: estimate {estimate / mib:.0f} MiB within 2x of peak RSS {rss / mib:.0f} MiB",
              rss / 2 <= estimate <= rss * 2)
    else:
        check("estimate tiny-gpt2 --json runs", False, err)

    # 2. Every command refuses below its need, and stays below the guard while refusing.
    with tempfile.TemporaryDirectory() as tmp:
        program = os.path.join(tmp, "gpt2_decode.s")
        code, _, err, _ = run([lpusim, "compile", "gpt2", "--weights", "int8", "-o", program])
        check("compile gpt2 decode -o (the program run below)", code == 0, err)
        guard = 96 * mib
        out_file = os.path.join(tmp, "refused.s")
        commands = {
            "compile": ["compile", "gpt2", "--weights", "int8", "-o", out_file],
            "estimate": ["estimate", "gpt2"],
            "verify": ["verify", "tiny-llama", "--prompt-len", "4", "--decode-steps", "1"],
            "run": ["run", program, "--mode", "timing"],
            "bench": ["bench", "--quick", "--out", os.path.join(tmp, "bench.json")],
        }
        for name, args in commands.items():
            code, out, err, rss = run([lpusim] + args, {"LPUSIM_MAX_HOST_BYTES": str(guard)})
            check(f"{name} with LPUSIM_MAX_HOST_BYTES={guard // mib} MiB: exit 2 naming host memory "
                  f"(exit {code}), peak RSS {rss / mib:.0f} MiB below the guard",
                  code == 2 and "host memory" in err and rss < guard, err[-600:])
        # 3. The refused compile left no output behind (nor a temporary file).
        leftovers = [f for f in os.listdir(tmp) if f.startswith("refused.s")]
        check("a refused compile -o leaves no file", not leftovers, str(leftovers))

    print(f"{cases - failures} passed, {failures} failed")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
