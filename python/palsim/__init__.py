"""palsim from Python: BitOps, compilation, simulation, Table 2 and sweeps of
quantized networks on precision-scalable accelerators, in this process.

Every function takes the options of the palsim command of the same name as
keyword arguments: ``abits=4`` is ``--abits 4``, ``no_onchip=True`` is
``--no-onchip``, ``blocks=[1, 1, 1, 1]`` is ``--blocks 1,1,1,1``,
``overrides={"buffers.ibuf.size_bytes": 16384}`` is
``--set buffers.ibuf.size_bytes=16384``. Defaults, ranges and checks are the
command's own (``palsim simulate --help`` lists them). Results are the records
``palsim COMMAND --json`` prints, as dicts and lists; per-layer records
(``result["layers"]``) are ready for ``pandas.DataFrame``.

Mistakes in arguments or input files raise :class:`palsim.Error` with the
command's message: the option (``--abits: ...``) or the file, line and key.

palsim releases the GIL while it works: runs in several Python threads
(``concurrent.futures.ThreadPoolExecutor``) run in parallel.

    >>> import palsim
    >>> r = palsim.simulate("resnet18", method="lsq", abits=4, wbits=4, hw="bitfusion")
    >>> r["cycles"], r["energy_pj"]
"""

import json
import os
import sys
import tempfile

from . import _palsim

Error = _palsim.Error
Error.__module__ = __name__

__all__ = [
    "Error",
    "bitops",
    "compile",
    "data_dir",
    "load_hardware",
    "results",
    "simulate",
    "sweep",
    "table2",
]

# What produced a result is recorded in it (provenance.command_line): the
# script that called palsim.
_palsim.set_command_line(list(sys.argv) if sys.argv and sys.argv[0] else ["python"])


def _arguments(positional, options):
    """The command line that `options` (keyword arguments) stand for."""
    args = [] if positional is None else [os.fspath(positional)]
    for name, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args += [flag, ",".join(str(v) for v in value)]
        else:
            args += [flag, str(os.fspath(value) if isinstance(value, os.PathLike) else value)]
    return args


def _override_items(overrides):
    """"KEY=VALUE" for each entry of a dict (or a list of "KEY=VALUE")."""
    if not overrides:
        return []
    if isinstance(overrides, dict):
        return [f"{key}={_yaml_value(value)}" for key, value in overrides.items()]
    return list(overrides)


def _overrides(overrides):
    return [a for item in _override_items(overrides) for a in ("--set", item)]


def _yaml_value(value):
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def data_dir():
    """The directory palsim reads its shipped configs/ and workloads/ from."""
    return _palsim.data_dir()


def bitops(network, **options):
    """BitOps of `network` (a built-in name or a YAML network file) in a form:
    the record of ``palsim bitops --json``."""
    return json.loads(_palsim.bitops(_arguments(network, options)))


def compile(network, *, hw=None, overrides=None, output=None, listing=False, **options):
    """Maps `network` onto the accelerator `hw` (a shipped name such as
    "bitfusion" or a YAML file); writes the program to `output` if given.
    Returns {network, hardware, instructions, operations, onchip_intermediates}
    (and "listing", the readable program, if `listing`)."""
    args = _arguments(network, dict(options, hw=hw)) + _overrides(overrides)
    return json.loads(_palsim.compile(args, os.fspath(output) if output else "", bool(listing)))


def simulate(network=None, *, hw=None, overrides=None, mode=None, progress=False, **options):
    """One inference of `network` on `hw`: the record of ``palsim simulate
    --json`` (cycles, energy_pj, energy_breakdown_pj, layers, provenance...).
    `mode` is "fast" (the default) or "detailed"; program="prog.bin" simulates a compiled
    program instead of a network."""
    args = _arguments(network, dict(options, hw=hw, mode=mode, quiet=not progress))
    return json.loads(_palsim.simulate(args + _overrides(overrides)))


def table2(*, progress=False, **options):
    """The paper's Table 2 on both accelerators: the record of
    ``palsim table2 --json`` ({provenance, rows})."""
    return json.loads(_palsim.table2(_arguments(None, dict(options, quiet=not progress))))


def load_hardware(path, overrides=None):
    """An accelerator configuration (a shipped name or a YAML file) with
    `overrides` applied: every resolved value, as a palsim-hw-1 document."""
    return json.loads(_palsim.load_hardware(os.fspath(path), _override_items(overrides)))


def sweep(spec_or_path, *, db=None, jobs=1, resume=False, progress=False):
    """Runs a sweep (a palsim-sweep-1 YAML file, or the same as a dict) into
    the database `db` (default: NAME.db beside the sweep file; for a dict, in
    the current directory, against which a dict's relative paths resolve
    too). Returns {name, db, points, done, failed, skipped, interrupted,
    seconds}; read the points with :func:`results`."""
    if isinstance(spec_or_path, dict):
        # The sweep reader resolves relative paths against the sweep file's
        # directory: the dict is written, briefly, into the current one.
        with tempfile.NamedTemporaryFile(
            "w", suffix=".yaml", prefix=".palsim-sweep-", dir=os.getcwd(), delete=False
        ) as f:
            json.dump(spec_or_path, f)
        try:
            return sweep(f.name, db=db, jobs=jobs, resume=resume, progress=progress)
        finally:
            os.unlink(f.name)
    out = _palsim.sweep(os.fspath(spec_or_path), os.fspath(db) if db else "", int(jobs),
                        bool(resume), bool(progress))
    return json.loads(out)


def results(db):
    """The points of a sweep database, one dict per point (the records of
    ``palsim results --json``)."""
    return json.loads(_palsim.results(os.fspath(db)))
