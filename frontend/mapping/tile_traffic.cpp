#include "frontend/mapping/tile_traffic.h"

namespace palsim::frontend {

DramTraffic& DramTraffic::operator+=(const DramTraffic& o) {
  requested_bits += o.requested_bits;
  moved_bits += o.moved_bits;
  cycles += o.cycles;
  return *this;
}

DramTraffic stream_traffic(const AccessCost& cost, const std::vector<DramAccess>& tile,
                           double total_bits, int64_t transfers) {
  DramTraffic t;
  t.requested_bits = total_bits;
  if (total_bits <= 0 || transfers <= 0) return t;
  double requested = 0, moved = 0, cycles = 0;
  for (const DramAccess& a : tile) {
    const TransferPrice p = cost.price(a);
    requested += static_cast<double>(a.total_bits());
    moved += static_cast<double>(p.moved_bits);
    cycles += p.cycles - cost.latency_cycles();
  }
  if (requested <= 0) return t;
  t.moved_bits = total_bits * moved / requested;
  t.cycles = total_bits * cycles / requested + static_cast<double>(transfers) *
                                                   static_cast<double>(tile.size()) *
                                                   cost.latency_cycles();
  return t;
}

}  // namespace palsim::frontend
