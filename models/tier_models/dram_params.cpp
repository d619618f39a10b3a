// Default DRAM parameter sets for the "dram" tier model and their fit to a catalog tier.
// Sources (docs/models.md "Memory tier models" has the table): JEDEC JESD238 (HBM3) and
// JESD79-5 (DDR5) define the structure (channel width, burst length, banks, page size,
// refresh interval); the core timings in ns are typical datasheet values for 16 Gb dies
// at those speed bins, since JEDEC leaves them as per-bin minimums the vendor picks.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/tier_models/dram_channel.h"
#include "sim/spec/chip.h"
#include "sim/spec/tier_model_names.h"

namespace llmsim {
namespace {

constexpr double kNs = 1e-9;
constexpr double kUs = 1e-6;

// Name -> member, the single list behind dram_timing_names() and the overrides.
const std::vector<std::pair<std::string, Seconds DramParams::*>>& timing_members() {
  static const std::vector<std::pair<std::string, Seconds DramParams::*>> m = {
      {"tRCD", &DramParams::tRCD}, {"tCL", &DramParams::tCL},   {"tRP", &DramParams::tRP},
      {"tRAS", &DramParams::tRAS}, {"tRRD", &DramParams::tRRD}, {"tFAW", &DramParams::tFAW},
      {"tWR", &DramParams::tWR},   {"tWTR", &DramParams::tWTR}, {"tREFI", &DramParams::tREFI},
      {"tRFC", &DramParams::tRFC},
  };
  return m;
}

}  // namespace

DramParams hbm3_params() {
  DramParams p;
  p.standard = "HBM3";
  // JESD238: a 64-bit channel is two independent 32-bit pseudo-channels; BL8 -> 32 B per
  // READ; 6.4 Gb/s/pin top bin (819 GB/s per 16-channel stack); 16 banks per pseudo-channel
  // in 4 bank groups (4/8-high stacks); 1 KiB page per pseudo-channel.
  p.width_bits = 32;
  p.data_rate = 6.4e9;
  p.burst_length = 8;
  p.banks = 16;
  p.row_bytes = 1024;
  // Typical HBM3 datasheet values (core timings unchanged from HBM2E in ns).
  p.tRCD = 14 * kNs;
  p.tCL = 14 * kNs;
  p.tRP = 14 * kNs;
  p.tRAS = 33 * kNs;
  p.tRRD = 4 * kNs;    // tRRDS
  p.tFAW = 16 * kNs;
  p.tWR = 16 * kNs;
  p.tWTR = 8 * kNs;    // tWTRL
  p.tREFI = 3.9 * kUs; // JESD238, 0-85 C
  p.tRFC = 350 * kNs;  // tRFCab, 16 Gb die
  return p;
}

DramParams ddr5_params() {
  DramParams p;
  p.standard = "DDR5";
  // JESD79-5: a DIMM channel is two independent 32-bit sub-channels; BL16 -> 64 B per
  // READ; 32 banks (8 groups x 4) in 16 Gb devices; x8 devices have 1 KiB pages, four of
  // them make a sub-channel, so 4 KiB per row. DDR5-4800 (tCK 0.416 ns).
  p.width_bits = 32;
  p.data_rate = 4.8e9;
  p.burst_length = 16;
  p.banks = 32;
  p.row_bytes = 4096;
  // JESD79-5 DDR5-4800B speed bin and 16 Gb timing tables.
  p.tRCD = 16 * kNs;
  p.tCL = 16.67 * kNs;  // CL40
  p.tRP = 16 * kNs;
  p.tRAS = 32 * kNs;
  p.tRRD = 3.33 * kNs;  // tRRD_S = 8 nCK
  p.tFAW = 13.33 * kNs; // 32 nCK, 1 KiB page
  p.tWR = 30 * kNs;
  p.tWTR = 10 * kNs;    // tWTR_L
  p.tREFI = 3.9 * kUs;
  p.tRFC = 295 * kNs;   // tRFC1, 16 Gb
  return p;
}

const std::vector<std::string>& dram_timing_names() {
  static const std::vector<std::string> n = [] {
    std::vector<std::string> v;
    for (const auto& m : timing_members()) v.push_back(m.first);
    return v;
  }();
  return n;
}

// The chip loader checks `dram:` overrides against these names (sim/spec/chip.cpp).
static const bool kDramOverridesDeclared = TierModelNames::add_overrides("dram", dram_timing_names());

DramParams dram_params_for(const MemoryTierSpec& spec) {
  // HBM3 for hbm; DDR5 for the other off-chip DRAMs (LPDDR/GDDR have the same bank/row
  // structure and core timings within ~20 %; override with `dram:` where it matters).
  // sram has no rows: the HBM3 shape keeps the model defined, but "bandwidth" suits it.
  DramParams p = (spec.tier == "ddr" || spec.tier == "lpddr" || spec.tier == "gddr") ? ddr5_params()
                                                                                   : hbm3_params();
  for (const auto& [name, value] : spec.dram) {
    bool found = false;
    for (const auto& m : timing_members()) {
      if (m.first == name) {
        p.*(m.second) = value;
        found = true;
      }
    }
    if (!found) throw std::invalid_argument("unknown DRAM timing parameter '" + name + "'");
  }
  // The catalog peak is the truth: as many channels as the nominal per-channel peak fits
  // (H100 3.35 TB/s / 25.6 GB/s = 131 pseudo-channels), then the pin rate is trimmed so the
  // channels add up to the catalog figure exactly (H100: 6.4 -> 6.39 Gb/s; the trim is at
  // most half a channel's share, under 1 % for any HBM tier).
  BytesPerSecond nominal = p.channel_peak();
  p.channels = std::max(1, static_cast<int>(std::lround(spec.bandwidth / nominal)));
  p.data_rate = spec.bandwidth / p.channels / (p.width_bits / 8.0);
  return p;
}

}  // namespace llmsim
