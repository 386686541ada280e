// palsim._palsim: the C++ half of the Python package `palsim` (palsim/__init__.py
// is the other). Every function takes the command's own options as a
// command-line argument list (the package turns keyword arguments into it),
// runs through the same cli library code as the palsim executable, and
// returns the record `palsim COMMAND --json` prints, as JSON text. The GIL is
// released while palsim works, so Python threads run in parallel.
#include <dlfcn.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/bitops_run.h"
#include "cli/compile_run.h"
#include "cli/options.h"
#include "cli/provenance.h"
#include "cli/simulate_run.h"
#include "cli/sweep_db.h"
#include "cli/sweep_export.h"
#include "cli/sweep_runner.h"
#include "cli/sweep_spec.h"
#include "cli/table2_run.h"
#include "common/atomic_file.h"
#include "common/data_dir.h"
#include "common/error.h"
#include "frontend/arch/hw_config_json.h"
#include "frontend/isa/program.h"
#include "sim/simulator.h"

namespace py = pybind11;

namespace palsim::python {

namespace {

using cli::po::options_description;
using cli::po::positional_options_description;
using cli::po::variables_map;

// Parses `args` as the command line of a command into its `options` (which
// hold the values: they must stay where they are); NETWORK, when
// `positional`, is the first argument.
template <class Options>
void parse(const std::vector<std::string>& args, Options& options, bool positional,
           variables_map& vm) {
  options_description desc;
  options.add_to(desc);
  positional_options_description pos;
  if (positional) pos.add("network", 1);
  if (!cli::parse_command_line(args, desc, pos, vm, "", ""))
    throw cli::UsageError("--help: not available from Python (see help(palsim))");
}

std::string simulate(const std::vector<std::string>& args) {
  py::gil_scoped_release unlocked;
  cli::SimulateOptions options;
  variables_map vm;
  parse(args, options, true, vm);
  const cli::SimulateOutcome out = cli::simulate_run(options, vm);
  sim::require_bit_exact(out.stats);
  return out.record.dump();
}

std::string bitops(const std::vector<std::string>& args) {
  py::gil_scoped_release unlocked;
  cli::BitopsOptions options;
  variables_map vm;
  parse(args, options, true, vm);
  return cli::bitops_run(options, vm).record.dump();
}

std::string compile(const std::vector<std::string>& args, const std::string& output, bool listing) {
  py::gil_scoped_release unlocked;
  cli::CompileOptions options;
  variables_map vm;
  parse(args, options, true, vm);
  if (!output.empty()) check_output_path(output, "output");
  cli::CompileOutcome out = cli::compile_run(options, vm);
  if (!output.empty()) {
    isa::save_program(out.compiled.program, output);
    out.summary["program_file"] = output;
  }
  if (listing) out.summary["listing"] = isa::listing(out.compiled.program);
  return out.summary.dump();
}

std::string table2(const std::vector<std::string>& args) {
  py::gil_scoped_release unlocked;
  cli::Table2RunOptions options;
  variables_map vm;
  parse(args, options, false, vm);
  return cli::table_json(cli::run_table2(options.resolved())).dump();
}

std::string load_hardware(const std::string& path, const std::vector<std::string>& overrides) {
  py::gil_scoped_release unlocked;
  cli::HardwareOptions hw;
  hw.hw = path;
  hw.overrides = overrides;
  return frontend::hw_config_json(hw.load()).dump();
}

// The sweep runner stops on SIGINT / SIGTERM and then restores the default
// actions; Python's own handlers (KeyboardInterrupt) come back afterwards.
class KeepSignalHandlers {
 public:
  KeepSignalHandlers() {
    sigaction(SIGINT, nullptr, &int_);
    sigaction(SIGTERM, nullptr, &term_);
  }
  ~KeepSignalHandlers() {
    sigaction(SIGINT, &int_, nullptr);
    sigaction(SIGTERM, &term_, nullptr);
  }
  KeepSignalHandlers(const KeepSignalHandlers&) = delete;
  KeepSignalHandlers& operator=(const KeepSignalHandlers&) = delete;

 private:
  struct sigaction int_ {};
  struct sigaction term_ {};
};

std::string sweep(const std::string& spec_file, const std::string& db_file, int jobs, bool resume,
                  bool progress) {
  py::gil_scoped_release unlocked;
  if (jobs < 1 || jobs > 256) throw cli::UsageError("jobs: must be between 1 and 256");
  const cli::SweepSpec spec = cli::load_sweep(spec_file);
  const std::string db_path = db_file.empty() ? cli::default_sweep_db(spec) : db_file;
  check_output_path(db_path, "db");
  cli::ResultDb db(db_path);
  cli::SweepRunOptions o;
  o.jobs = jobs;
  o.resume = resume;
  o.progress = progress;
  const KeepSignalHandlers keep;
  const cli::SweepSummary s = cli::run_sweep(spec, db, o);
  return nlohmann::json{{"name", spec.name},
                        {"db", db_path},
                        {"points", s.total},
                        {"done", s.done},
                        {"failed", s.failed},
                        {"skipped", s.skipped},
                        {"interrupted", s.interrupted},
                        {"seconds", s.seconds}}
      .dump();
}

std::string results(const std::string& db_file) {
  py::gil_scoped_release unlocked;
  cli::ResultDb db(cli::existing_sweep_db(db_file), cli::DbAccess::kReadOnly);
  return cli::records_json(db.all()).dump();
}

// Where this module was loaded from: palsim's data directory is relative to it.
std::string module_path() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&module_path), &info) == 0 || !info.dli_fname) return "";
  return info.dli_fname;
}

}  // namespace

}  // namespace palsim::python

PYBIND11_MODULE(_palsim, m) {
  using namespace palsim::python;
  m.doc() = "palsim's simulator, for the Python package palsim (import palsim, not this)";
  palsim::set_binary_location(module_path(), PALSIM_DATA_FROM_PYTHON);
  static py::exception<palsim::InputError> error(m, "Error", PyExc_Exception);
  // Usage errors (a bad option or combination), input errors (file:line:key)
  // and failed checks are the caller's to handle: all are palsim.Error.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const palsim::cli::UsageError& e) {
      error(e.what());
    } catch (const palsim::InputError& e) {
      error(e.what());
    } catch (const palsim::RunFailure& e) {
      error(e.what());
    }
  });
  m.def("simulate", &simulate);
  m.def("bitops", &bitops);
  m.def("compile", &compile);
  m.def("table2", &table2);
  m.def("load_hardware", &load_hardware);
  m.def("sweep", &sweep);
  m.def("results", &results);
  m.def("set_command_line", [](const std::vector<std::string>& line) {
    std::vector<const char*> argv;
    for (const auto& a : line) argv.push_back(a.c_str());
    palsim::cli::set_command_line(static_cast<int>(argv.size()), argv.data());
  });
  m.def("data_dir", [] { return palsim::data_dir(); });
}
