#include "sim/core/stats.h"

#include "sim/core/controller.h"
#include "sim/core/cycle_attribution.h"

#include <algorithm>

#include "frontend/arch/access_cost.h"

namespace palsim::sim {

Counts& Counts::operator+=(const Counts& o) {
  frontend::ActionCounts::operator+=(o);
  dram_transfers += o.dram_transfers;
  folds += o.folds;
  for (int e = 0; e < kEngines; ++e)
    engine_busy[static_cast<size_t>(e)] += o.engine_busy[static_cast<size_t>(e)];
  return *this;
}

bool Counts::operator==(const Counts& o) const {
  return frontend::ActionCounts::operator==(o) && dram_transfers == o.dram_transfers &&
         folds == o.folds && engine_busy == o.engine_busy;
}

const char* stall_name(Stall s) {
  switch (s) {
    case Stall::kInput:
      return "input";
    case Stall::kWeight:
      return "weights";
    case Stall::kPsum:
      return "psum_reload";
    case Stall::kOutputSpace:
      return "output_buffer";
    case Stall::kOnchip:
      return "onchip_intermediate";
    case Stall::kOther:
      return "other";
  }
  return "?";
}

double dram_efficiency(const Counts& c) {
  if (c.dram_moved_bits == 0) return 1.0;
  return static_cast<double>(c.dram_read_bits + c.dram_write_bits) /
         static_cast<double>(c.dram_moved_bits);
}

namespace {
uint64_t moved_bits(const frontend::HwConfig& hw, const Job& j) {
  uint64_t bits = 0;
  for (const DramAccess& a : j.accesses) bits += frontend::transfer_moved_bits(hw.offchip, a);
  return bits;
}
}  // namespace

Counts job_counts(const frontend::HwConfig& hw, const Job& j) {
  Counts c;
  const uint64_t busy = j.end - j.start;
  c.engine_busy[static_cast<size_t>(j.engine)] = busy;
  switch (j.engine) {
    case Engine::kLoad:
      c.dram_read_bits = j.bits;
      c.dram_transfers = j.accesses.size();
      c.dram_moved_bits = moved_bits(hw, j);
      if (j.buffer == Buffer::kIbuf) c.ibuf_write_bits = j.bits;
      if (j.buffer == Buffer::kWbuf) c.wbuf_write_bits = j.bits;
      if (j.buffer == Buffer::kObuf) c.obuf_write_bits = j.bits;
      break;
    case Engine::kStore:
      c.dram_write_bits = j.bits;
      c.dram_transfers = j.accesses.size();
      c.dram_moved_bits = moved_bits(hw, j);
      c.obuf_read_bits = j.bits;
      break;
    case Engine::kArray: {
      const frontend::ComputeCost k = frontend::compute_tile_cost(hw, j.mode, j.tile);
      c.ibuf_read_bits = static_cast<uint64_t>(k.ibuf_read_bits);
      c.wbuf_read_bits = static_cast<uint64_t>(k.wbuf_read_bits);
      c.obuf_read_bits = static_cast<uint64_t>(k.obuf_read_bits);
      c.obuf_write_bits = static_cast<uint64_t>(k.obuf_write_bits);
      c.unit_busy_cycles = static_cast<uint64_t>(k.unit_busy_cycles);
      c.asu_busy_cycles = static_cast<uint64_t>(k.asu_busy_cycles);
      c.chunk_products = static_cast<uint64_t>(k.macs);
      c.chunk_product_input_bits = static_cast<uint64_t>(k.mac_input_bits);
      c.folds = static_cast<uint64_t>(k.folds);
      break;
    }
    case Engine::kPpu: {
      const frontend::PostCost k = frontend::post_tile_cost(hw, j.post);
      c.ppu_elements = static_cast<uint64_t>(k.elements);
      c.ibuf_read_bits = static_cast<uint64_t>(k.ibuf_read_bits);
      c.obuf_read_bits = static_cast<uint64_t>(k.obuf_read_bits);
      // Results go to OBUF for the DMA, or to the on-chip region in IBUF.
      if (j.final_output && j.post_to_region) {
        c.ibuf_write_bits = static_cast<uint64_t>(k.obuf_write_bits);
      } else {
        c.obuf_write_bits = static_cast<uint64_t>(k.obuf_write_bits);
      }
      break;
    }
  }
  return c;
}

namespace {

Stall stall_cause(const JobList& list, const Job& j) {
  // The dependency that completed last is the one the array waited for.
  uint64_t latest = 0;
  const Job* culprit = nullptr;
  for (uint32_t d : j.deps) {
    const Job& dj = list.jobs[d];
    if (!culprit || dj.done >= latest) {
      latest = dj.done;
      culprit = &dj;
    }
  }
  if (!culprit) return Stall::kOther;
  if (culprit->engine == Engine::kLoad) {
    switch (culprit->transfer) {
      case Transfer::kInput:
        return Stall::kInput;
      case Transfer::kWeight:
        return Stall::kWeight;
      case Transfer::kPsumLoad:
        return Stall::kPsum;
      default:
        return Stall::kOther;
    }
  }
  if (culprit->engine == Engine::kStore) return Stall::kOutputSpace;
  if (culprit->engine == Engine::kPpu)
    return culprit->op == j.op ? Stall::kOutputSpace : Stall::kOnchip;
  return Stall::kOther;
}

}  // namespace

RunStats collect_stats(const frontend::HwConfig& hw, const isa::Program& program,
                       const JobList& list, uint64_t total_cycles,
                       const std::vector<Counts>& override_counts) {
  RunStats r;
  r.cycles = total_cycles;
  r.seconds = static_cast<double>(total_cycles) / (hw.clock_mhz * 1e6);
  r.jobs = list.jobs.size();
  const auto& ops = program.info.ops;
  r.layers.resize(ops.size());
  const std::vector<LayerRecord> records = decode_layer_records(program);
  for (size_t i = 0; i < ops.size(); ++i) {
    LayerStats& l = r.layers[i];
    l.name = ops[i].name;
    l.kind = ops[i].kind;
    l.role = ops[i].role;
    l.layers = ops[i].layers;
    l.network_macs = ops[i].macs * program.info.batch;
    l.mapping = ops[i].mapping;
    l.shape = records[i].shape;
    l.mapping_record = records[i].mapping;
    l.first_start = UINT64_MAX;
  }
  uint64_t prev_array_end = 0;
  for (size_t k = 0; k < list.jobs.size(); ++k) {
    const Job& j = list.jobs[k];
    LayerStats& l = r.layers.at(static_cast<size_t>(j.op));
    l.counts += override_counts.empty() ? job_counts(hw, j) : override_counts[k];
    l.first_start = std::min(l.first_start, j.start);
    l.last_done = std::max(l.last_done, j.done);
  }
  // Array stalls, in array order.
  for (uint32_t id : list.queue[static_cast<int>(Engine::kArray)]) {
    const Job& j = list.jobs[id];
    if (j.start > prev_array_end) {
      const Stall s = stall_cause(list, j);
      r.layers[static_cast<size_t>(j.op)].stalls[static_cast<size_t>(s)] +=
          j.start - prev_array_end;
    }
    prev_array_end = j.end;
  }
  const std::vector<uint64_t> attributed =
      attribute_cycles(list, static_cast<int>(r.layers.size()), total_cycles);
  const double units = static_cast<double>(hw.array.rows) * hw.array.cols;
  const double multipliers = static_cast<double>(hw.multipliers());
  const std::vector<LayerRegisters> regs = decode_layers(program);
  double useful_total = 0;
  for (auto& l : r.layers) {
    const size_t k = static_cast<size_t>(&l - r.layers.data());
    if (l.first_start == UINT64_MAX) l.first_start = 0;
    l.cycles = attributed[k];
    l.energy = frontend::energy_of(hw, l.counts, l.cycles);
    l.utilization = l.cycles ? static_cast<double>(l.counts.unit_busy_cycles) /
                                   (static_cast<double>(l.cycles) * units)
                             : 0;
    if (k < regs.size()) {
      auto layout = [&](isa::Reg block, isa::Reg group_major) {
        return frontend::layout_name(
            {static_cast<int>(regs[k].get(block)), static_cast<int>(regs[k].get(group_major))});
      };
      l.input_layout = layout(isa::Reg::kInBlock, isa::Reg::kInGroupMajor);
      l.output_layout = layout(isa::Reg::kOutBlock, isa::Reg::kOutGroupMajor);
    }
    if (k < regs.size() && regs[k].kind == isa::LayerKind::kConv) {
      const int64_t a = regs[k].get(isa::Reg::kABits), w = regs[k].get(isa::Reg::kWBits);
      const double useful =
          static_cast<double>(l.network_macs) * static_cast<double>(((a + 1) / 2) * ((w + 1) / 2));
      useful_total += useful;
      l.mac_utilization = l.cycles ? useful / (static_cast<double>(l.cycles) * multipliers) : 0;
    }
    r.counts += l.counts;
    r.energy += l.energy;
    for (int s = 0; s < kStallCauses; ++s)
      r.stalls[static_cast<size_t>(s)] += l.stalls[static_cast<size_t>(s)];
  }
  r.utilization = total_cycles ? static_cast<double>(r.counts.unit_busy_cycles) /
                                     (static_cast<double>(total_cycles) * units)
                               : 0;
  r.mac_utilization =
      total_cycles ? useful_total / (static_cast<double>(total_cycles) * multipliers) : 0;
  return r;
}

}  // namespace palsim::sim
