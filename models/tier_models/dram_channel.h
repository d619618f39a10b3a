// The "dram" tier model: cycle-approximate DRAM channels (docs/models.md "Memory tier
// models"). A tier is `channels` identical, independent channels (HBM3 pseudo-channels,
// DDR5 sub-channels), each with `banks` banks holding one open row (open-page policy).
// bandwidth(pattern) runs a bounded sample of that pattern through ONE channel's bank state
// machines, an event per access (never per clock), and scales by the channel count: address
// interleaving spreads a long stream evenly, so the channels are symmetric. Cached per
// pattern. Exposed here so tests can check the parameters and the per-channel simulation.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "models/tier_model.h"

namespace llmsim {

// One channel's geometry and timing. Times in seconds, sizes in bytes.
struct DramParams {
  std::string standard;     // "HBM3" | "DDR5" (the default set used)
  // Geometry (per channel).
  int width_bits = 32;      // data pins per channel
  double data_rate = 0;     // bits/s per pin (transfers/s), after matching the catalog peak
  int burst_length = 8;     // beats per read/write command
  int banks = 16;           // independently activatable banks per channel
  Bytes row_bytes = 1024;   // row (page) size per channel
  int channels = 1;         // per tier: catalog peak / per-channel peak, rounded
  // Timing (JEDEC names).
  Seconds tRCD = 0;   // ACT -> READ/WRITE
  Seconds tCL = 0;    // READ -> first data (also used for WRITE -> data)
  Seconds tRP = 0;    // PRE -> ACT
  Seconds tRAS = 0;   // ACT -> PRE
  Seconds tRRD = 0;   // ACT -> ACT, different banks (tRRD_S)
  Seconds tFAW = 0;   // window holding at most four ACTs
  Seconds tWR = 0;    // end of write data -> PRE
  Seconds tWTR = 0;   // end of write data -> next read data on the bus (turnaround)
  Seconds tREFI = 0;  // average refresh interval
  Seconds tRFC = 0;   // all-bank refresh time (banks closed and blocked)

  Bytes burst_bytes() const { return burst_length * width_bits / 8.0; }
  Seconds tBURST() const { return burst_length / data_rate; }           // one burst on the bus
  BytesPerSecond channel_peak() const { return width_bits / 8.0 * data_rate; }
  BytesPerSecond peak() const { return channels * channel_peak(); }
};

// JEDEC defaults (typical datasheet values; docs/models.md lists each with its source).
DramParams hbm3_params();  // JESD238 HBM3, 6.4 Gb/s, one 32-bit pseudo-channel
DramParams ddr5_params();  // JESD79-5 DDR5-4800, one 32-bit sub-channel of x8 devices

// Names accepted under a tier's `dram:` map, in the loader's error order.
const std::vector<std::string>& dram_timing_names();

// The set for a tier: by kind (hbm -> HBM3; ddr, lpddr, gddr -> DDR5; sram -> HBM3 shape,
// only meaningful with overrides), `dram:` overrides applied, channel count derived from the
// catalog peak and the data rate adjusted so channels x channel_peak == spec.bandwidth.
// Throws std::invalid_argument on an unknown override name (the loader checks first).
DramParams dram_params_for(const MemoryTierSpec& spec);

// One channel driven by a saturating stream of `pattern`, for at least `min_time` of
// simulated time (or `max_accesses` row-sized pieces). Deterministic for a seed.
struct ChannelRun {
  Bytes bytes = 0;      // useful bytes delivered
  Seconds time = 0;     // until the last data beat
  std::int64_t accesses = 0, row_hits = 0, activates = 0, refreshes = 0;
  BytesPerSecond bandwidth() const { return time > 0 ? bytes / time : BytesPerSecond{0}; }
};
ChannelRun simulate_channel(const DramParams& p, const AccessPattern& pattern, Seconds min_time,
                            std::int64_t max_accesses = 1 << 18, std::uint64_t seed = 1);

class DramTierModel : public TierModel {
 public:
  explicit DramTierModel(const MemoryTierSpec& spec);
  // channels x one channel's simulated bandwidth over kRefreshWindows x tREFI.
  BytesPerSecond bandwidth(const AccessPattern& p) const override;
  // Closed bank: max(catalog latency, tRCD + tCL + bursts of one granule).
  Seconds latency(const AccessPattern& p) const override;
  std::string name() const override { return "dram"; }
  const DramParams& params() const { return params_; }

  // Sample length: whole refresh intervals, so the refresh share is not a phase accident.
  static constexpr int kRefreshWindows = 8;

 private:
  DramParams params_;
  Seconds catalog_latency_;
  using Key = std::tuple<int, double, double>;  // kind, granule, read fraction
  mutable std::mutex mu_;
  mutable std::map<Key, BytesPerSecond> cache_;
};

}  // namespace llmsim
