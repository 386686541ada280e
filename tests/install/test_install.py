"""`cmake --install` into a temporary prefix, then the installed palsim and
Python package run from another directory: their defaults (--hw, table2's
configurations and paper figures) resolve to the installed data directory,
not to the source or build tree.

Run by ctest (label test_install) with BUILD_DIR and PYTHON_DIR (the package's
directory relative to the prefix) in the environment.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

BUILD = os.environ["BUILD_DIR"]
PYTHON_DIR = os.environ["PYTHON_DIR"]


class Installed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.prefix = os.path.join(cls.tmp.name, "prefix")
        cls.elsewhere = os.path.join(cls.tmp.name, "elsewhere")
        os.mkdir(cls.elsewhere)
        subprocess.run(["cmake", "--install", BUILD, "--prefix", cls.prefix], check=True,
                       capture_output=True)
        cls.data = os.path.join(cls.prefix, "share/palsim")
        cls.palsim = os.path.join(cls.prefix, "bin/palsim")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_palsim(self, *args):
        return subprocess.run([self.palsim, *args], cwd=self.elsewhere, check=True,
                              capture_output=True, text=True).stdout

    def test_layout(self):
        for path in ["bin/palsim", "share/palsim/configs/bitfusion.yaml",
                     "share/palsim/configs/paper/table2.yaml",
                     "share/palsim/workloads/examples/tiny.yaml",
                     "share/bash-completion/completions/palsim",
                     "share/doc/palsim/help/palsim-simulate.txt",
                     os.path.join(PYTHON_DIR, "palsim/__init__.py")]:
            self.assertTrue(os.path.exists(os.path.join(self.prefix, path)), path)

    def test_default_hardware_is_the_installed_one(self):
        r = json.loads(self.run_palsim("simulate", "resnet18", "--method", "lsq", "--abits", "4",
                                       "--wbits", "4", "--json", "-q"))
        self.assertEqual(r["provenance"]["hardware_origin"]["file"],
                         os.path.join(self.data, "configs/bitfusion.yaml"))
        named = json.loads(self.run_palsim("simulate", "resnet18", "--method", "lsq", "--abits",
                                           "4", "--wbits", "4", "--hw", "bpvec", "--json", "-q"))
        self.assertEqual(named["provenance"]["hardware_origin"]["file"],
                         os.path.join(self.data, "configs/bpvec.yaml"))

    def test_table2_defaults_are_installed_files(self):
        help_text = self.run_palsim("table2", "--help")
        for name in ["configs/bitfusion.yaml", "configs/bpvec.yaml", "configs/paper/table2.yaml"]:
            self.assertIn(os.path.join(self.data, name), help_text)
        self.assertNotIn(BUILD, help_text)

    def test_training_commands_hand_over_to_the_installed_helper(self):
        if not os.path.exists(os.path.join(self.prefix, "bin/palsim-train")):
            self.skipTest("built without the training module (PALSIM_WITH_TORCH=OFF)")
        self.assertIn("usage: palsim train", self.run_palsim("train", "--help"))
        self.assertIn("usage: palsim export", self.run_palsim("export", "--help"))

    def test_python_package(self):
        env = dict(os.environ, PYTHONPATH=os.path.join(self.prefix, PYTHON_DIR),
                   PYTHONDONTWRITEBYTECODE="1")
        code = ("import json, palsim; r = palsim.simulate('resnet18', method='lsq', abits=4, "
                "wbits=4, hw='bitfusion'); print(json.dumps([palsim.__file__, palsim.data_dir(), "
                "r['cycles'], r['provenance']['hardware_origin']['file']]))")
        out = subprocess.run([sys.executable, "-c", code], cwd=self.elsewhere, env=env,
                             check=True, capture_output=True, text=True).stdout
        module, data, cycles, hw = json.loads(out)
        self.assertTrue(module.startswith(self.prefix), module)
        self.assertEqual(data, self.data)
        self.assertEqual(hw, os.path.join(self.data, "configs/bitfusion.yaml"))
        cli = json.loads(self.run_palsim("simulate", "resnet18", "--method", "lsq", "--abits", "4",
                                         "--wbits", "4", "--hw", "bitfusion", "--json", "-q"))
        self.assertEqual(cycles, cli["cycles"])

    def test_bash_completion(self):
        script = os.path.join(self.prefix, "share/bash-completion/completions/palsim")
        probe = (f"source {script}; COMP_WORDS=({self.palsim} sim); COMP_CWORD=1; _palsim; "
                 f"echo ${{COMPREPLY[@]}}; COMP_WORDS=({self.palsim} simulate --mo); COMP_CWORD=2; "
                 "_palsim; echo ${COMPREPLY[@]}")
        out = subprocess.run(["bash", "-c", probe], cwd=self.elsewhere, check=True,
                             capture_output=True, text=True).stdout.splitlines()
        self.assertEqual(out, ["simulate", "--mode"])


if __name__ == "__main__":
    unittest.main()
