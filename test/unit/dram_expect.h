// What the DRAM timing rules alone predict for random accesses (test_tier_models.cpp checks
// the model against it; test_tier_cli.cpp checks a copy through the binary against it).
#pragma once
#include <algorithm>
#include <cmath>

#include "models/tier_models/dram_channel.h"
#include "sim/spec/chip.h"

namespace llmsim_test {

// Expected sustained bandwidth of random `granule`-byte reads, from the timing rules alone:
// every access misses its row, so a bank is busy for ACT -> PRE (tRAS, or longer when
// tRCD + tCL + the data bursts outlast it) plus tRP before it can open the next row, and
// `banks` banks give banks / that activates per channel; tRRD and tFAW (four per window)
// cap activates per channel too; every access also needs ceil(granule/burst) bursts on the
// data bus, whose rate is the catalog peak shared by the channels. Refresh takes the
// channel away for tRFC every tREFI.
inline llmsim::BytesPerSecond expected_random(const llmsim::MemoryTierSpec& tier, const llmsim::DramParams& p,
                                              llmsim::Bytes granule) {
  double burst_bytes = p.width_bits / 8.0 * p.burst_length;
  double bursts = std::ceil(granule / burst_bytes);
  double bus_time = bursts * burst_bytes / (tier.bandwidth / p.channels);
  double row_cycle = std::max(p.tRAS, p.tRCD + p.tCL + bus_time) + p.tRP;
  double act_rate = std::min({p.banks / row_cycle, 1 / p.tRRD, 4 / p.tFAW});
  double rate = std::min(act_rate, 1 / bus_time);
  return p.channels * rate * granule.value() * (1 - p.tRFC / p.tREFI);
}

}  // namespace llmsim_test
