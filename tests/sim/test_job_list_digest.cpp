// The controller's job lists of the built-in networks, pinned by a digest of
// every field of every job: a restructuring of the controller (decoder,
// output tiles, job emission) must expand every program into exactly the
// jobs it expanded into before. A digest changes when any job, dependency,
// DRAM access, tile, mode or slot changes; an intended change of the job
// list updates the digests here deliberately (and says why in its commit).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/fnv1a.h"
#include "tests/sim/sim_test_util.h"

namespace palsim::sim::test {
namespace {

// Every field of a job, in a fixed order independent of how Job names them.
class JobDigest {
 public:
  void add(uint64_t v) { words_.push_back(v); }
  void add(const frontend::Box& b) {
    for (int v : {b.n0, b.n, b.c0, b.c, b.h0, b.h, b.w0, b.w}) add(static_cast<uint64_t>(v));
  }
  void add(const Job& j) {
    add(static_cast<uint64_t>(j.engine));
    add(static_cast<uint64_t>(j.op));
    add(static_cast<uint64_t>(j.group));
    add(j.deps.size());
    for (uint32_t d : j.deps) add(d);
    add(static_cast<uint64_t>(j.transfer));
    add(static_cast<uint64_t>(j.buffer));
    add(j.accesses.size());
    for (const DramAccess& a : j.accesses) {
      for (uint64_t v : {uint64_t{a.write}, a.base_bit, a.run_bits, uint64_t{a.inner_count},
                         a.inner_stride_bits, uint64_t{a.outer_count}, a.outer_stride_bits}) {
        add(v);
      }
    }
    add(j.bits);
    add(dma_box(j));
    for (int64_t v : {j.tile.pixels, j.tile.k_elems, j.tile.m}) add(static_cast<uint64_t>(v));
    add(j.tile.accumulate);
    add(j.tile.activation_sum);
    const frontend::ArrayMode& m = j.mode;
    for (int v : {m.fa, m.fw, m.a_chunks, m.w_chunks, m.lanes_per_unit, m.outputs_per_unit,
                  m.unit_rows, m.unit_cols}) {
      add(static_cast<uint64_t>(v));
    }
    add(j.out_box);
    add(static_cast<uint64_t>(j.c0));
    add(static_cast<uint64_t>(j.pack));
    add(j.acc_box);
    add(j.opens_tile);
    const frontend::PostTile& p = j.post;
    for (int64_t v : {p.elements, p.window, int64_t{p.in_bits}, int64_t{p.from_obuf},
                      int64_t{p.residual_bits}, int64_t{p.out_bits}, p.activation_sums}) {
      add(static_cast<uint64_t>(v));
    }
    add(j.final_output);
    add(j.post_to_region);
    for (int64_t v : {int64_t{j.slot}, int64_t{j.in_slot}, int64_t{j.w_slot}, int64_t{j.o_slot},
                      int64_t{j.r_slot}, j.region}) {
      add(static_cast<uint64_t>(v));
    }
  }
  std::string hex() const {
    return fmt::format("{:016x}", fnv1a64(words_.data(), words_.size() * sizeof(uint64_t)));
  }

 private:
  // The tensor box a DMA job moves; a weight job's as (0, 1, m0, m, c0, c, 0, 1).
  static frontend::Box dma_box(const Job& j) {
    if (j.transfer != Transfer::kWeight || j.engine != Engine::kLoad) return j.box;
    return frontend::Box{0, 1, j.weights.m0, j.weights.m, j.weights.c0, j.weights.c, 0, 1};
  }
  std::vector<uint64_t> words_;
};

std::string digest(const JobList& jobs) {
  JobDigest d;
  d.add(jobs.jobs.size());
  for (const Job& j : jobs.jobs) d.add(j);
  for (const auto& q : jobs.queue) {
    d.add(q.size());
    for (uint32_t i : q) d.add(i);
  }
  return d.hex();
}

struct Form {
  std::string network, method, hw;
  int B = 2, G = 1;
  int batch = 1;
};

std::string job_list_digest(const Form& f) {
  frontend::NetworkRequest r;
  r.network = f.network;
  r.method_given = true;
  r.method.method = f.method == "palquant" ? frontend::Method::kPalQuant
                    : f.method == "ewgs"   ? frontend::Method::kEwgs
                                           : frontend::Method::kLsq;
  r.method.a_bits = r.method.w_bits = 2;
  r.method.B = f.B;
  r.method.G = f.G;
  const frontend::HwConfig hw = hw_config(f.hw);
  frontend::LoweringOptions lo;
  lo.batch = f.batch;
  const frontend::Compiled c = frontend::compile_network(hw, frontend::resolve_network(r), lo);
  return digest(expand_program(hw, c.program));
}

TEST(JobListDigest, EveryBuiltInNetworkExpandsIntoTheSameJobs) {
  // Measured on the controller before its restructuring (issue 18).
  const std::vector<std::pair<Form, std::string>> expected = {
      {{"resnet18", "lsq", "bitfusion"}, "4d5e6f55db518325"},
      {{"resnet18", "palquant", "bitfusion", 2, 2}, "5e4d4a31202196fe"},
      {{"resnet18", "palquant", "bpvec", 2, 4}, "2af1c76056e05571"},
      {{"resnet34", "palquant", "bitfusion", 2, 2}, "f70c8a21bc3760bf"},
      {{"plain18", "lsq", "bpvec"}, "6c24a0324d05a774"},
      {{"shufflenetv2", "lsq", "bitfusion"}, "41ac57b2a231db3f"},
      {{"shufflenetv2", "ewgs", "bpvec"}, "527f9b1d75f21432"},
      {{"resnet18", "palquant", "bitfusion", 2, 2, 2}, "1d15a01581225613"},
      {{"resnet18", "ewgs", "bpvec"}, "396cb5e04668482b"},
  };
  for (const auto& [form, want] : expected) {
    EXPECT_EQ(job_list_digest(form), want)
        << form.network << " " << form.method << " B=" << form.B << " G=" << form.G << " on "
        << form.hw << " batch " << form.batch;
  }
}

}  // namespace
}  // namespace palsim::sim::test
