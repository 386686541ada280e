#!/usr/bin/env python3
"""Every command example in the README, in docs/*.md and in every `palsim CMD --help` is
checked, so that an example cannot go stale:

  - its command exists and every option it passes is one that command's
    --help lists;
  - every configuration, network or sweep file it names inside the
    repository (configs/, workloads/, tests/, docs/, tools/) exists;
  - the quick ones (bitops, network, compile, disasm and fast-mode simulate)
    are run, in a scratch directory that sees the repository's folders, and
    must succeed.

  check_examples.py PALSIM SOURCE_DIR [LEFT_OUT]

LEFT_OUT: commands this build does not have (comma-separated; the training
commands in a build without libtorch): their examples are not checked.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

PALSIM, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
LEFT_OUT = set(sys.argv[3].split(",")) if len(sys.argv) > 3 and sys.argv[3] else set()
TREE = ("configs/", "workloads/", "tests/", "docs/", "tools/")
# Options whose value is a file palsim writes (it need not exist beforehand).
OUTPUTS = {"-o", "--output", "--json-file", "--csv", "--markdown", "--breakdown", "--db",
           "--slurm", "--trace", "--timeline", "--out", "--dir"}
RUN = {"bitops", "network", "compile", "disasm", "simulate"}
TIMEOUT = 120


def palsim(args, cwd=None):
    return subprocess.run([PALSIM] + args, cwd=cwd, capture_output=True, text=True,
                          timeout=TIMEOUT)


def commands():
    out = palsim(["--help"]).stdout
    block = out.split("commands:", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.strip().splitlines()]


def options_of(command):
    text = palsim([command, "--help"]).stdout
    # Boost.Program_options lists "  -o [ --output ] arg" or "  --hw arg".
    names = set(re.findall(r"^\s+(?:-(\w) \[ )?--([\w-]+)", text, re.M))
    opts = {"--help", "-h"}
    for short, long in names:
        opts.add("--" + long)
        if short:
            opts.add("-" + short)
    examples = text.split("Examples:", 1)[1] if "Examples:" in text else ""
    return opts, [(f"palsim {command} --help", line) for line in examples.splitlines()]


def document_examples(relative):
    found, fenced, pending = [], False, ""
    path = os.path.join(SOURCE, relative)
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            if not fenced:
                continue
            line = pending + line.rstrip("\n")
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            pending = ""
            found.append((f"{relative}:{number}", line))
    return found


def split(line):
    """The palsim command of an example line, as words, or None."""
    line = line.strip()
    if line.startswith("$ "):
        line = line[2:]
    for prefix in ("build/palsim ", "palsim "):
        if line.startswith(prefix):
            words = shlex.split(line[len(prefix):], comments=True)
            # What a shell would pipe or redirect the command into is not palsim's.
            for i, w in enumerate(words):
                if w in ("|", ">", "2>", "&&", ";"):
                    words = words[:i]
                    break
            return words or None
    return None


def check(where, words, options, problems, runs):
    command = words[0]
    if command in LEFT_OUT:
        return
    if command not in options:
        problems.append(f"{where}: unknown command '{command}'")
        return
    previous = ""
    for w in words[1:]:
        flag = w.split("=", 1)[0]
        if flag.startswith("-") and flag != "-" and not re.fullmatch(r"-\d.*", flag):
            if flag not in options[command]:
                problems.append(f"{where}: palsim {command} has no option {flag}")
        elif w.startswith(TREE) and w.endswith((".yaml", ".yml")) and previous not in OUTPUTS:
            if not os.path.exists(os.path.join(SOURCE, w)):
                problems.append(f"{where}: {w} does not exist in the repository")
        previous = flag
    detailed = "detailed" in words
    if command in RUN and not detailed and not any(w in ("--help", "-h") for w in words):
        runs.append((where, words))


def main():
    cmds = commands()
    options, examples = {}, []
    for c in cmds:
        options[c], ex = options_of(c)
        examples += ex
    documents = ["README.md"] + sorted(
        os.path.join("docs", d) for d in os.listdir(os.path.join(SOURCE, "docs")) if d.endswith(".md"))
    for d in documents:
        examples += document_examples(d)
    problems, runs, checked = [], [], 0
    for where, line in examples:
        words = split(line)
        if not words:
            continue
        checked += 1
        check(where, words, options, problems, runs)
    with tempfile.TemporaryDirectory(prefix="palsim-doc-") as scratch:
        for d in TREE:
            os.symlink(os.path.join(SOURCE, d), os.path.join(scratch, d.rstrip("/")))
        for where, words in runs:
            # An input another tool writes first (a model exported from
            # PyTorch): its example is checked above, not run.
            if any(w.endswith((".yaml", ".onnx")) and not os.path.exists(os.path.join(scratch, w))
                   and not w.startswith(TREE) for w in words[1:]):
                continue
            try:
                r = palsim(words, cwd=scratch)
            except subprocess.TimeoutExpired:
                problems.append(f"{where}: palsim {' '.join(words)}: no result in {TIMEOUT} s")
                continue
            if r.returncode != 0:
                message = (r.stderr.strip().splitlines() or ["?"])[-1]
                problems.append(f"{where}: palsim {' '.join(words)}: exit {r.returncode}: {message}")
    print(f"{checked} examples checked, {len(runs)} run")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
