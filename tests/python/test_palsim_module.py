"""The Python package palsim against the palsim executable: the same runs give
the same records (after the provenance of the command line, which differs by
construction), and bad input raises palsim.Error with the command's message.

Run by ctest (label test_python) with Debian's python3, PYTHONPATH set to the
package and PALSIM_BINARY / PALSIM_SOURCE_DIR in the environment.
"""

import concurrent.futures
import json
import os
import subprocess
import tempfile
import unittest

import pandas

import palsim

PALSIM = os.environ["PALSIM_BINARY"]
SOURCE = os.environ["PALSIM_SOURCE_DIR"]


def cli_json(*args, cwd=SOURCE):
    out = subprocess.run([PALSIM, *args], cwd=cwd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def without_command_line(record):
    """The record without what names the process that produced it."""
    record = json.loads(json.dumps(record))
    for holder in [record] + (record if isinstance(record, list) else []):
        if isinstance(holder, dict) and "provenance" in holder:
            holder["provenance"].pop("command_line", None)
    return record


class SameAsTheExecutable(unittest.TestCase):
    def test_simulate_resnet18(self):
        module = palsim.simulate("resnet18", method="lsq", abits=4, wbits=4, hw="bitfusion")
        cli = cli_json("simulate", "resnet18", "--method", "lsq", "--abits", "4", "--wbits", "4",
                       "--hw", "bitfusion", "--json", "-q")
        self.assertEqual(without_command_line(module), without_command_line(cli))
        self.assertGreater(module["cycles"], 0)

    def test_simulate_with_overrides_and_a_network_file(self):
        tiny = os.path.join(SOURCE, "workloads/examples/tiny_palquant.yaml")
        hw = os.path.join(SOURCE, "configs/bpvec.yaml")
        module = palsim.simulate(tiny, hw=hw, overrides={"offchip.model": "ddr4"}, no_onchip=True)
        cli = cli_json("simulate", tiny, "--hw", hw, "--set", "offchip.model=ddr4", "--no-onchip",
                       "--json", "-q")
        self.assertEqual(without_command_line(module), without_command_line(cli))

    def test_simulate_detailed(self):
        tiny = os.path.join(SOURCE, "workloads/examples/tiny_palquant.yaml")
        module = palsim.simulate(tiny, hw="bpvec", mode="detailed")
        cli = cli_json("simulate", tiny, "--hw", "bpvec", "--mode", "detailed", "--json", "-q")
        # The detailed model's wall-clock time and rate are figures of the
        # machine, not of the run.
        for record in (module, cli):
            for key in ("wall_seconds", "model_seconds", "check_seconds",
                        "unit_cycles_per_second"):
                record["detailed"].pop(key)
        self.assertEqual(without_command_line(module), without_command_line(cli))

    def test_bitops(self):
        module = palsim.bitops("resnet18", method="palquant", B=2, G=2)
        cli = cli_json("bitops", "resnet18", "--method", "palquant", "--B", "2", "--G", "2",
                       "--json")
        self.assertEqual(module, cli)
        self.assertAlmostEqual(module["bitops"], 14.87, places=2)

    def test_compile_writes_the_same_program(self):
        with tempfile.TemporaryDirectory() as d:
            summary = palsim.compile("resnet18", method="palquant", B=2, G=2, hw="bitfusion",
                                     output=os.path.join(d, "module.bin"), listing=True)
            subprocess.run([PALSIM, "compile", "resnet18", "--method", "palquant", "--B", "2",
                            "--G", "2", "--hw", "bitfusion", "-o", os.path.join(d, "cli.bin")],
                           cwd=SOURCE, check=True, capture_output=True)
            with open(os.path.join(d, "module.bin"), "rb") as a, \
                    open(os.path.join(d, "cli.bin"), "rb") as b:
                self.assertEqual(a.read(), b.read())
        self.assertGreater(summary["instructions"], summary["operations"])
        self.assertIn(summary["network"], summary["listing"])

    def test_table2(self):
        module = palsim.table2(jobs=2)
        cli = cli_json("table2", "--json", "-j", "2", "-q")
        self.assertEqual(without_command_line(module), without_command_line(cli))

    def test_sweep_and_results(self):
        with tempfile.TemporaryDirectory() as d:
            spec = os.path.join(SOURCE, "configs/sweeps/smoke.yaml")
            summary = palsim.sweep(spec, db=os.path.join(d, "module.db"), jobs=2)
            self.assertEqual((summary["points"], summary["done"], summary["failed"]), (6, 6, 0))
            subprocess.run([PALSIM, "sweep", spec, "--db", os.path.join(d, "cli.db"), "-j", "2",
                            "-q"], cwd=SOURCE, check=True, capture_output=True)
            module = palsim.results(os.path.join(d, "module.db"))
            cli = cli_json("results", os.path.join(d, "cli.db"), "--json")
            for record in module + cli:
                record.pop("seconds", None)
            self.assertEqual(without_command_line(module), without_command_line(cli))

    def test_sweep_from_a_dict(self):
        with tempfile.TemporaryDirectory() as d:
            cwd = os.getcwd()
            os.chdir(d)
            try:
                spec = {"format": "palsim-sweep-1", "name": "dict",
                        "networks": [{"name": "resnet18", "input_size": 32, "base_width": 16,
                                      "blocks": [1, 1, 1, 1], "stem": "small", "classes": 10}],
                        "methods": [{"method": "lsq", "bits": 4}],
                        "hardware": [os.path.join(SOURCE, "configs/bitfusion.yaml")]}
                summary = palsim.sweep(spec)
                self.assertEqual(summary["done"], 1)
                self.assertEqual(os.listdir(d), ["dict.db"])
                self.assertEqual(len(palsim.results("dict.db")), 1)
            finally:
                os.chdir(cwd)

    def test_load_hardware(self):
        hw = palsim.load_hardware("bitfusion", {"buffers.ibuf.size_bytes": 16384})
        self.assertEqual(hw["buffers"]["ibuf"]["size_bytes"], 16384)
        self.assertEqual(palsim.load_hardware(os.path.join(SOURCE, "configs/bitfusion.yaml")),
                         palsim.load_hardware("bitfusion"))


class ForNotebooks(unittest.TestCase):
    def test_layers_make_a_data_frame(self):
        r = palsim.simulate("resnet18", method="palquant", B=2, G=2, hw="bpvec")
        frame = pandas.DataFrame(r["layers"])
        self.assertEqual(len(frame), len(r["layers"]))
        self.assertEqual(int(frame["cycles"].sum()), sum(layer["cycles"] for layer in r["layers"]))

    def test_threads_run_in_parallel_and_agree(self):
        forms = [dict(method="palquant", B=2, G=g) for g in (1, 2, 3, 4)]
        alone = [palsim.simulate("resnet18", hw="bitfusion", **f)["cycles"] for f in forms]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            together = list(pool.map(lambda f: palsim.simulate("resnet18", hw="bitfusion", **f)
                                     ["cycles"], forms))
        self.assertEqual(alone, together)


class BadInput(unittest.TestCase):
    def test_option_out_of_range(self):
        with self.assertRaises(palsim.Error) as e:
            palsim.simulate("resnet18", method="lsq", abits=99, hw="bitfusion")
        self.assertIn("abits", str(e.exception))

    def test_option_for_another_method(self):
        with self.assertRaises(palsim.Error) as e:
            palsim.bitops("resnet18", method="lsq", G=2)
        self.assertIn("--G applies to --method palquant only", str(e.exception))

    def test_unknown_hardware_name(self):
        with self.assertRaises(palsim.Error) as e:
            palsim.simulate("resnet18", hw="nosuch")
        self.assertIn("'nosuch' is neither a file nor a shipped configuration", str(e.exception))

    def test_file_line_and_key(self):
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad.yaml")
            with open(os.path.join(SOURCE, "configs/bitfusion.yaml")) as f:
                text = f.read()
            with open(bad, "w") as f:
                f.write(text + "no_such_key: 1\n")
            line = text.count("\n") + 1
            with self.assertRaises(palsim.Error) as e:
                palsim.load_hardware(bad)
            cli = subprocess.run([PALSIM, "simulate", "resnet18", "--hw", bad], cwd=d,
                                 capture_output=True, text=True)
        self.assertIn(f"{bad}:{line}:", str(e.exception))
        self.assertIn("no_such_key", str(e.exception))
        self.assertEqual(cli.returncode, 1)
        self.assertIn(str(e.exception), cli.stderr)

    def test_bad_override(self):
        with self.assertRaises(palsim.Error) as e:
            palsim.simulate("resnet18", hw="bitfusion", overrides={"buffers.nosuch": 1})
        self.assertIn("buffers.nosuch", str(e.exception))

    def test_missing_database(self):
        with self.assertRaises(palsim.Error) as e:
            palsim.results("/nonexistent/x.db")
        self.assertIn("/nonexistent/x.db: no such database", str(e.exception))


if __name__ == "__main__":
    unittest.main()
