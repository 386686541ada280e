// Detailed mode: the SystemC model. SystemC elaborates once per process, so
// every detailed run happens in a forked child, which streams its per-job
// records back through a pipe; the parent assembles the same statistics the
// fast mode does from them.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <systemc>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/input_file.h"
#include "common/temp_file.h"
#include "sim/core/controller.h"
#include "sim/functional/functional_state.h"
#include "sim/functional/program_graph.h"
#include "sim/simulator.h"
#include "sim/systemc/modules.h"

namespace palsim::sim {

namespace {

struct ChildResult {
  uint64_t cycles = 0;
  std::vector<JobRecord> records;
  DramStats dram;
  std::string memory;
  uint64_t unit_cycles = 0;
  double wall = 0;        // the whole child: expansion, model, check
  double model_wall = 0;  // the SystemC model alone (sc_start)
  double check_wall = 0;  // the kernels' reference, on a thread of its own
  bool checked = false, bit_exact = false;
  std::string mismatch;
  uint64_t buffer_bits[3][2] = {};
};

// The top: the clock, the modules and their bindings.
struct DetailedTop {
  sc_core::sc_time period;
  sc_core::sc_clock clk;
  sc_core::sc_signal<bool> dma_busy, array_busy, ppu_busy;
  sc_core::sc_signal<bool> dma_load_busy, dma_store_busy;
  sc_core::sc_signal<int> dma_load_layer, dma_store_layer, array_layer, ppu_layer;
  OffchipChannel channel;
  SramBuffer ibuf, wbuf, obuf;
  DmaEngine dma;
  SystolicArray array;
  PostProcessor ppu;
  Controller controller;

  DetailedTop(const frontend::HwConfig& hw, JobList& jobs, Scoreboard& sb, OffchipMemory& memory,
              DmaCore& dma_core, ArrayCore& array_core, PpuCore& ppu_core,
              std::vector<JobRecord>& records, int ops, bool progress)
      : period(1000.0 / hw.clock_mhz, sc_core::SC_NS),
        clk("clk", period),
        dma_busy("dma_busy"),
        array_busy("array_busy"),
        ppu_busy("ppu_busy"),
        dma_load_busy("dma_load_busy"),
        dma_store_busy("dma_store_busy"),
        dma_load_layer("dma_load_layer", kNoLayer),
        dma_store_layer("dma_store_layer", kNoLayer),
        array_layer("array_layer", kNoLayer),
        ppu_layer("ppu_layer", kNoLayer),
        channel("offchip", memory),
        ibuf("ibuf"),
        wbuf("wbuf"),
        obuf("obuf"),
        dma("dma", period, dma_core, jobs, records),
        array("array", period, array_core, jobs, sb, records),
        ppu("ppu", period, ppu_core, records, jobs),
        controller("controller", period, jobs, sb, ops, progress) {
    dma.clk(clk);
    dma.dram(channel);
    dma.ibuf(ibuf);
    dma.wbuf(wbuf);
    dma.obuf(obuf);
    dma.busy(dma_busy);
    dma.load.busy(dma_load_busy);
    dma.load.layer(dma_load_layer);
    dma.store.busy(dma_store_busy);
    dma.store.layer(dma_store_layer);
    array.clk(clk);
    array.ibuf(ibuf);
    array.wbuf(wbuf);
    array.obuf(obuf);
    array.busy(array_busy);
    array.layer(array_layer);
    ppu.clk(clk);
    ppu.ibuf(ibuf);
    ppu.obuf(obuf);
    ppu.busy(ppu_busy);
    ppu.layer(ppu_layer);
    controller.clk(clk);
  }
};

std::string describe_mismatch(const frontend::HwGraph& g, int t, const kernels::IntTensor& sim,
                              const kernels::IntTensor& ref) {
  if (!sim.same_shape(ref))
    return fmt::format("tensor '{}': shapes differ", g.tensors[static_cast<size_t>(t)].name);
  for (int n = 0; n < ref.n(); ++n)
    for (int c = 0; c < ref.c(); ++c)
      for (int h = 0; h < ref.h(); ++h)
        for (int w = 0; w < ref.w(); ++w) {
          if (sim.at(n, c, h, w) != ref.at(n, c, h, w)) {
            return fmt::format(
                "tensor '{}' at (n {}, c {}, h {}, w {}): simulator {} vs kernels {}",
                g.tensors[static_cast<size_t>(t)].name, n, c, h, w, sim.at(n, c, h, w),
                ref.at(n, c, h, w));
          }
        }
  return "";
}

// The private directory a VCD trace is written into before it is published.
class TraceStaging {
 public:
  explicit TraceStaging(const std::string& destination)
      : destination_(destination), dir_(temp_path_for(resolve_output_links(destination))) {
    if (::mkdir(dir_.c_str(), 0700) != 0)
      throw InputError(fmt::format("cannot write '{}': cannot create a temporary directory: {}",
                                   destination, std::strerror(errno)));
  }
  ~TraceStaging() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TraceStaging(const TraceStaging&) = delete;
  TraceStaging& operator=(const TraceStaging&) = delete;
  // The name SystemC is given (it appends ".vcd").
  std::string base() const { return dir_ + "/trace"; }
  void publish() const {
    write_file_atomically(destination_, read_file(base() + ".vcd", kMaxBinaryInputBytes));
  }

 private:
  std::string destination_;
  std::string dir_;
};

// The VCD's signals: the clock, each engine's busy flag and the layer its
// current job belongs to (kNoLayer, all ones in the VCD, when idle), with the
// layers' names in a comment so that a waveform viewer's numbers can be read.
void trace_activity(sc_core::sc_trace_file* trace, const DetailedTop& top,
                    const isa::Program& program) {
  std::string names = fmt::format(
      "palsim: *_layer signals hold the layer (hardware op) index of the engine's current job, "
      "{} when idle:",
      kNoLayer);
  for (size_t k = 0; k < program.info.ops.size(); ++k)
    names += fmt::format("\n  layer {}: {}", k, program.info.ops[k].name);
  sc_core::sc_write_comment(trace, names);
  sc_core::sc_trace(trace, top.clk, "clk");
  sc_core::sc_trace(trace, top.dma_busy, "dma_busy");
  sc_core::sc_trace(trace, top.dma_load_busy, "dma_load_busy");
  sc_core::sc_trace(trace, top.dma_store_busy, "dma_store_busy");
  sc_core::sc_trace(trace, top.array_busy, "array_busy");
  sc_core::sc_trace(trace, top.ppu_busy, "ppu_busy");
  sc_core::sc_trace(trace, top.dma_load_layer, "dma_load_layer");
  sc_core::sc_trace(trace, top.dma_store_layer, "dma_store_layer");
  sc_core::sc_trace(trace, top.array_layer, "array_layer");
  sc_core::sc_trace(trace, top.ppu_layer, "ppu_layer");
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

ChildResult run_child(const frontend::HwConfig& hw, const isa::Program& program,
                      const SimOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  // The program first: a malformed one is reported as such, whatever else.
  JobList jobs = expand_program(hw, program);
  frontend::HwGraph own_graph;
  const frontend::HwGraph* graph = o.graph;
  if (!graph) {
    own_graph = graph_from_program(program);
    graph = &own_graph;
  }
  frontend::IntegerModel own_model;
  const frontend::IntegerModel* model = o.model;
  if (!model) {
    own_model = frontend::synthetic_model(*graph, o.seed);
    model = &own_model;
  }
  ChildResult r;
  std::vector<JobRecord> records(jobs.jobs.size());
  Scoreboard sb(jobs.jobs.size());
  FunctionalState state(hw, program, *model);
  auto memory = make_offchip_memory(hw.offchip, hw.clock_mhz);
  DmaCore dma(hw.offchip, jobs, sb, state, records);
  ArrayCore array(hw, state, o.exact_arithmetic);
  PpuCore ppu(hw, jobs, sb, state, records);
  DetailedTop top(hw, jobs, sb, *memory, dma, array, ppu, records,
                  static_cast<int>(program.info.ops.size()), o.progress);
  sc_core::sc_trace_file* trace = nullptr;
  // SystemC writes the trace as it runs, under a name it derives itself: it
  // goes to a private directory beside the destination and reaches the
  // destination only when complete, written like every other output (a kill
  // or an error leaves the previous file; a device or FIFO is streamed to).
  std::unique_ptr<TraceStaging> staging;
  if (!o.vcd_trace.empty()) {
    staging = std::make_unique<TraceStaging>(o.vcd_trace);
    trace = sc_core::sc_create_vcd_trace_file(staging->base().c_str());
    trace_activity(trace, top, program);
  }
  // The kernels' reference depends on the graph and the model only: it is
  // computed on a second core while the SystemC model runs.
  using Reference = decltype(frontend::reference_execute(*graph, *model));
  std::future<Reference> reference;
  if (o.check_values) {
    reference = std::async(std::launch::async, [&] {
      const auto start = std::chrono::steady_clock::now();
      Reference ref = frontend::reference_execute(*graph, *model);
      r.check_wall = seconds_since(start);
      return ref;
    });
  }
  const auto model_start = std::chrono::steady_clock::now();
  sc_core::sc_start();
  r.model_wall = seconds_since(model_start);
  if (trace) {
    sc_core::sc_close_vcd_trace_file(trace);
    staging->publish();
  }
  for (const auto& rec : records) r.cycles = std::max(r.cycles, rec.done);
  if (sb.completed() != jobs.jobs.size())
    throw InternalError("detailed simulation stopped with jobs left");
  r.dram = memory->stats();
  r.memory = memory->describe();
  r.unit_cycles = array.unit_cycles();
  const SramBuffer* bufs[3] = {&top.ibuf, &top.wbuf, &top.obuf};
  for (int b = 0; b < 3; ++b) {
    r.buffer_bits[b][0] = bufs[b]->reads();
    r.buffer_bits[b][1] = bufs[b]->writes();
  }
  if (o.check_values) {
    r.checked = true;
    r.bit_exact = true;
    const Reference ref = reference.get();
    const std::vector<LayerRegisters> layers = decode_layers(program);
    for (size_t i = 0; i < graph->ops.size(); ++i) {
      const frontend::HwOp& op = graph->ops[i];
      // An output kept on chip (in an IBUF region) never reaches DRAM; its
      // consumer's output covers it. Every other output must be in DRAM.
      if (i < layers.size() && (layers[i].get(isa::Reg::kFlags) & isa::kFlagOnchipOutput)) continue;
      const auto it = ref.find(op.output);
      if (it == ref.end()) continue;
      const std::string m =
          describe_mismatch(*graph, op.output, state.tensor(op.output), it->second);
      if (!m.empty()) {
        r.bit_exact = false;
        r.mismatch = m;
        break;
      }
    }
  }
  r.records = std::move(records);
  r.wall = seconds_since(t0);
  return r;
}

// --- the pipe between child and parent -------------------------------------
void put(std::string& out, const void* p, size_t n) {
  out.append(static_cast<const char*>(p), n);
}
template <typename T>
void put(std::string& out, const T& v) {
  put(out, &v, sizeof v);
}
void put_string(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out += s;
}

class Reader {
 public:
  explicit Reader(const std::string& s) : s_(s) {}
  void get(void* p, size_t n) {
    if (pos_ + n > s_.size())
      throw InternalError("detailed simulation: truncated result from the child process");
    std::memcpy(p, s_.data() + pos_, n);
    pos_ += n;
  }
  template <typename T>
  T get() {
    T v;
    get(&v, sizeof v);
    return v;
  }
  std::string get_string() {
    const uint64_t n = get<uint64_t>();
    std::string s(n, '\0');
    get(s.data(), n);
    return s;
  }

 private:
  const std::string& s_;
  size_t pos_ = 0;
};

std::string serialize(const ChildResult& r) {
  std::string out;
  put<uint32_t>(out, 0);
  put(out, r.cycles);
  put<uint64_t>(out, r.records.size());
  put(out, r.records.data(), r.records.size() * sizeof(JobRecord));
  put(out, r.dram);
  put_string(out, r.memory);
  put(out, r.unit_cycles);
  put(out, r.wall);
  put(out, r.model_wall);
  put(out, r.check_wall);
  put<uint8_t>(out, r.checked);
  put<uint8_t>(out, r.bit_exact);
  put_string(out, r.mismatch);
  put(out, r.buffer_bits);
  return out;
}

}  // namespace

RunStats simulate_detailed(const frontend::HwConfig& hw, const isa::Program& program,
                           const SimOptions& options) {
  int fds[2];
  if (::pipe(fds) != 0) throw InternalError("detailed simulation: cannot create a pipe");
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw InternalError("detailed simulation: cannot fork");
  if (pid == 0) {
    // The child dies with its parent (killed, or SIGTERM): nobody would read
    // its result, and it holds a core and the model's memory for minutes.
    // The signal comes when the forking thread ends, and that thread waits
    // for the child below; the check after prctl covers a parent that died
    // before the call.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::close(fds[0]);
    ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
    // Keep stdout for palsim's own output (JSON): no SystemC info messages.
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    std::string out;
    int code = 0;
    try {
      out = serialize(run_child(hw, program, options));
    } catch (const std::exception& e) {
      out.clear();
      put<uint32_t>(out, e.what() == nullptr ? 1 : (dynamic_cast<const InputError*>(&e) ? 2 : 1));
      put_string(out, e.what());
      code = 1;
    }
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fds[1]);
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(code);
  }
  ::close(fds[1]);
  std::string data;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (data.size() < 4) {
    throw InternalError(fmt::format("detailed simulation: the child process died ({})",
                                    WIFSIGNALED(status)
                                        ? fmt::format("signal {}", WTERMSIG(status))
                                        : fmt::format("exit {}", WEXITSTATUS(status))));
  }
  Reader in(data);
  const uint32_t kind = in.get<uint32_t>();
  if (kind == 2) throw InputError(in.get_string());
  if (kind != 0) throw InternalError(fmt::format("detailed simulation: {}", in.get_string()));
  ChildResult r;
  r.cycles = in.get<uint64_t>();
  r.records.resize(in.get<uint64_t>());
  in.get(r.records.data(), r.records.size() * sizeof(JobRecord));
  r.dram = in.get<DramStats>();
  r.memory = in.get_string();
  r.unit_cycles = in.get<uint64_t>();
  r.wall = in.get<double>();
  r.model_wall = in.get<double>();
  r.check_wall = in.get<double>();
  r.checked = in.get<uint8_t>();
  r.bit_exact = in.get<uint8_t>();
  r.mismatch = in.get_string();
  in.get(r.buffer_bits, sizeof r.buffer_bits);

  JobList jobs = expand_program(hw, program);
  if (jobs.jobs.size() != r.records.size())
    throw InternalError("detailed simulation: job count mismatch");
  std::vector<Counts> counts(jobs.jobs.size());
  for (size_t k = 0; k < jobs.jobs.size(); ++k) {
    jobs.jobs[k].start = r.records[k].start;
    jobs.jobs[k].end = r.records[k].end;
    jobs.jobs[k].done = r.records[k].done;
    counts[k] = r.records[k].counts;
    // The array engine's busy cycles: its occupancy (the fast engine's rule).
    if (jobs.jobs[k].engine == Engine::kArray) {
      const auto cost = frontend::compute_tile_cost(hw, jobs.jobs[k].mode, jobs.jobs[k].tile);
      jobs.jobs[k].end = jobs.jobs[k].start + static_cast<uint64_t>(cost.cycles);
      counts[k].engine_busy[static_cast<size_t>(Engine::kArray)] =
          static_cast<uint64_t>(cost.cycles);
    }
  }
  write_timeline(hw, program, jobs, options);
  RunStats s = collect_stats(hw, program, jobs, r.cycles, counts);
  s.mode = SimMode::kDetailed;
  s.dram = r.dram;
  s.memory_model = r.memory;
  s.values_checked = r.checked;
  s.bit_exact = r.bit_exact;
  s.first_mismatch = r.mismatch;
  s.unit_cycles = r.unit_cycles;
  s.wall_seconds = r.wall;
  s.model_seconds = r.model_wall;
  s.check_seconds = r.check_wall;
  std::memcpy(s.buffer_bits, r.buffer_bits, sizeof r.buffer_bits);
  return s;
}

}  // namespace palsim::sim
