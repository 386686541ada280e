// palsim sweep / results / plot: parameter sweeps from YAML.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/command.h"
#include "cli/external_command.h"
#include "cli/options.h"
#include "cli/sweep_export.h"
#include "cli/sweep_runner.h"
#include "common/atomic_file.h"

namespace palsim::cli {

namespace fs = std::filesystem;

namespace {

// `word` as one word of a POSIX shell script: single-quoted, a quote inside
// written as '\'' (close, escaped quote, reopen).
std::string shell_word(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A Slurm job array in which each task runs one shard of the points into its
// own database; `palsim results --merge` combines them.
std::string slurm_script(const std::string& spec, const std::string& dir, int tasks,
                         const std::string& binary) {
  // A newline in a path would end the line it is on and start a command.
  for (const std::string* p : {&spec, &dir, &binary}) {
    if (p->find('\n') != std::string::npos)
      throw InputError(fmt::format("--slurm: the path '{}' holds a newline", *p));
  }
  return fmt::format(
      "#!/bin/sh\n"
      "#SBATCH --job-name=palsim-sweep\n"
      "#SBATCH --array=0-{0}\n"
      "#SBATCH --cpus-per-task=1\n"
      "#SBATCH --output={1}/shard_%a.log\n"
      "# Written by palsim sweep --slurm. Each task runs shard $SLURM_ARRAY_TASK_ID of {2} into "
      "its own database;\n"
      "# combine them with: palsim results --merge {1}/shard_*.db -o merged.db\n"
      "exec {3} sweep {4} --shard \"$SLURM_ARRAY_TASK_ID/{2}\" --db "
      "{5}\"$SLURM_ARRAY_TASK_ID\"'.db' "
      "--resume -j 1 --quiet\n",
      tasks - 1, dir, tasks, shell_word(binary), shell_word(spec), shell_word(dir + "/shard_"));
}

std::string self_binary() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("palsim") : p.string();
}

}  // namespace

int run_sweep(const std::vector<std::string>& args) {
  std::string spec_file, db_file, shard, slurm_dir;
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int tasks = 4;
  bool resume = false, quiet = false, submit = false, list = false;
  po::options_description desc("palsim sweep options");
  desc.add_options()("sweep", po::value(&spec_file), "SWEEP: a sweep YAML file")(
      "db", po::value(&db_file), "results database (default: next to the sweep file, NAME.db)")(
      "resume", po::bool_switch(&resume),
      "continue a sweep: skip points already done in the database")(
      "jobs,j", po::value(&jobs)->default_value(jobs), "parallel points")(
      "shard", po::value(&shard), "run only shard I/N of the points (I in 0..N-1)")(
      "list", po::bool_switch(&list), "print the points and exit")(
      "slurm", po::value(&slurm_dir),
      "write a Slurm job array (one shard per task) into this directory")(
      "tasks", po::value(&tasks)->default_value(4), "--slurm: array tasks")(
      "submit", po::bool_switch(&submit), "--slurm: submit it with sbatch")(
      "quiet,q", po::bool_switch(&quiet), "no progress on stderr");
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  if (!parse_command_line(
          args, desc, pos, vm, "usage: palsim sweep SWEEP.yaml [--db FILE] [--resume] [-j N]",
          "  palsim sweep configs/sweeps/smoke.yaml\n"
          "  palsim sweep configs/sweeps/bg_resnet18.yaml --db bg.db -j 2\n"
          "  palsim sweep configs/sweeps/bg_resnet18.yaml --db bg.db --resume\n"
          "  palsim sweep configs/sweeps/bg_resnet18.yaml --slurm slurm_bg --tasks 8 --submit")) {
    return kExitOk;
  }
  if (spec_file.empty()) throw UsageError("missing SWEEP");
  if (jobs < 1 || jobs > 256) throw UsageError("--jobs: must be between 1 and 256");
  if (submit && slurm_dir.empty()) throw UsageError("--submit needs --slurm DIR");
  const SweepSpec spec = load_sweep(spec_file);
  if (list) {
    for (const auto& p : spec.points) std::cout << p.params().dump() << "\n";
    return kExitOk;
  }
  if (!slurm_dir.empty()) {
    if (!shard.empty() || !db_file.empty())
      throw UsageError("--slurm writes its own --shard and --db per task");
    if (tasks < 1 || tasks > 10000) throw UsageError("--tasks: must be between 1 and 10000");
    std::error_code ec;
    fs::create_directories(slurm_dir, ec);
    if (ec)
      throw InputError(fmt::format("--slurm: cannot create '{}': {}", slurm_dir, ec.message()));
    const std::string script = slurm_dir + "/sweep.sbatch";
    write_file_atomically(
        script, slurm_script(fs::absolute(spec_file).string(), fs::absolute(slurm_dir).string(),
                             tasks, self_binary()));
    fmt::print("wrote {} ({} points in {} tasks)\n", script, spec.points.size(), tasks);
    if (submit) {
      const int rc = run_external({"sbatch", script});
      if (rc != 0)
        throw InputError(
            "--submit: sbatch failed (is Slurm running? see tools/slurm_integration_test)");
    }
    return kExitOk;
  }
  SweepRunOptions o;
  o.jobs = jobs;
  o.resume = resume;
  o.progress = !quiet;
  if (!shard.empty()) {
    const size_t slash = shard.find('/');
    try {
      if (slash == std::string::npos) throw std::invalid_argument("");
      o.shard_index = std::stoi(shard.substr(0, slash));
      o.shard_count = std::stoi(shard.substr(slash + 1));
    } catch (...) {
      throw UsageError(fmt::format("--shard: expected I/N, got '{}'", shard));
    }
    if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count) {
      throw UsageError(fmt::format("--shard: need 0 <= I < N, got '{}'", shard));
    }
  }
  if (db_file.empty()) db_file = default_sweep_db(spec);
  check_output_path(db_file, "--db");
  ResultDb db(db_file);
  const SweepSummary s = cli::run_sweep(spec, db, o);
  fmt::print(
      "sweep {}: {} points, {} done, {} failed, {} already done; {:.1f} s ({:.2f} points/s); "
      "results in {}\n",
      spec.name, s.total, s.done, s.failed, s.skipped, s.seconds,
      s.seconds > 0 ? (s.done + s.failed) / s.seconds : 0.0, db_file);
  if (s.interrupted) {
    fmt::print(stderr, "interrupted: finished points are saved; continue with --resume\n");
    return 128 + s.signal;  // 130 after SIGINT, 143 after SIGTERM, as a shell reports a killed job
  }
  return s.failed ? kExitFailure : kExitOk;
}

int run_results(const std::vector<std::string>& args) {
  std::vector<std::string> inputs;
  std::string output, csv, markdown;
  bool json = false, merge = false;
  po::options_description desc("palsim results options");
  desc.add_options()("db", po::value(&inputs)->composing(),
                     "DB: a sweep database (several with --merge)")(
      "json", po::bool_switch(&json), "print a JSON list, one object per point")(
      "csv", po::value(&csv), "write a CSV file (- for stdout)")(
      "markdown", po::value(&markdown), "write a Markdown table (- for stdout)")(
      "merge", po::bool_switch(&merge), "combine the databases into -o OUT (Slurm shards)")(
      "output,o", po::value(&output), "--merge: the combined database");
  po::positional_options_description pos;
  pos.add("db", -1);
  po::variables_map vm;
  if (!parse_command_line(args, desc, pos, vm,
                          "usage: palsim results DB [--json|--csv F|--markdown F]",
                          "  palsim results configs/sweeps/smoke.db --json\n"
                          "  palsim results bg.db --csv bg.csv --markdown bg.md\n"
                          "  palsim results --merge slurm_bg/shard_*.db -o bg.db")) {
    return kExitOk;
  }
  if (inputs.empty()) throw UsageError("missing DB");
  if (merge) {
    if (output.empty()) throw UsageError("--merge needs -o OUT");
    check_output_path(output, "-o");
    ResultDb out(output);
    merge_databases(inputs, out);
    fmt::print("merged {} databases into {} ({} points)\n", inputs.size(), output,
               out.all().size());
    return kExitOk;
  }
  if (inputs.size() != 1) throw UsageError("give one DB (or --merge several)");
  ResultDb db(existing_sweep_db(inputs[0]), DbAccess::kReadOnly);
  const auto records = db.all();
  if (!csv.empty() && csv != "-") check_output_path(csv, "--csv");
  if (!markdown.empty() && markdown != "-") check_output_path(markdown, "--markdown");
  if (csv == "-")
    std::cout << records_csv(records);
  else if (!csv.empty())
    write_file_atomically(csv, records_csv(records));
  if (markdown == "-")
    std::cout << records_markdown(records);
  else if (!markdown.empty())
    write_file_atomically(markdown, records_markdown(records));
  if (json || (csv.empty() && markdown.empty())) std::cout << records_json(records).dump(2) << "\n";
  return kExitOk;
}

int run_plot(const std::vector<std::string>& args) {
  std::string db_file, dir;
  po::options_description desc("palsim plot options");
  desc.add_options()("db", po::value(&db_file), "DB: a sweep database")(
      "output,o", po::value(&dir), "directory for the plots (default: DB name + _plots)");
  po::positional_options_description pos;
  pos.add("db", 1);
  po::variables_map vm;
  if (!parse_command_line(args, desc, pos, vm, "usage: palsim plot DB [-o DIR]",
                          "  palsim plot bg.db -o bg_plots")) {
    return kExitOk;
  }
  if (db_file.empty()) throw UsageError("missing DB");
  ResultDb db(existing_sweep_db(db_file), DbAccess::kReadOnly);
  if (dir.empty()) dir = fs::path(db_file).replace_extension("").string() + "_plots";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(fmt::format("-o: cannot create '{}': {}", dir, ec.message()));
  const auto files = plot_records(db.all(), dir);
  for (const auto& f : files) fmt::print("wrote {}\n", f);
  if (files.empty()) fmt::print("nothing to plot (no finished points)\n");
  return kExitOk;
}

}  // namespace palsim::cli
