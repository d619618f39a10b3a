#include "sim/ops/energy.h"

#include <algorithm>

namespace llmsim {
namespace {

// Memory may take at most this share of the dynamic power budget (TDP - idle) when the
// per-byte energy is derived. CHIPS.md E2's worked example puts H100 HBM streaming at
// ~107 W of ~610 W dynamic (~18 %); the cap only binds on SRAM-streaming chips whose
// reference energy x bandwidth would exceed the whole budget (WSE-2: 20 PB/s).
constexpr double kMaxMemoryShare = 0.5;

double dynamic_budget(const ChipSpec& chip) { return std::max(Watts{0}, chip.power.tdp - chip.power.idle); }

double sustained_bw(const MemoryTierSpec& t) { return t.bandwidth * t.efficiency; }

// The on-chip path from an off-chip tier to the compute units (power.pj_per_byte_fabric);
// SRAM tiers sit next to the compute units and their own energy includes it.
double fabric_pj_per_byte(const ChipSpec& chip, const MemoryTierSpec& t) {
  return t.tier == "sram" ? 0.0 : chip.power.pj_per_byte_fabric;
}

// Watts drawn by the main (stream) tier when streaming at its sustained bandwidth.
double main_tier_power(const ChipSpec& chip) {
  const MemoryTierSpec& m = stream_tier(chip);
  if (m.pj_per_byte > 0) return (m.pj_per_byte + fabric_pj_per_byte(chip, m)) * 1e-12 * sustained_bw(m);
  double budget = dynamic_budget(chip);
  if (chip.power.pj_per_flop > 0) {
    // Explicit compute energy: memory gets what is left of the budget at full load.
    double left = budget - chip.power.pj_per_flop * 1e-12 * peak16(chip);
    return std::clamp(left, 0.0, reference_pj_per_byte(m.tier) * 1e-12 * sustained_bw(m));
  }
  return std::min(reference_pj_per_byte(m.tier) * 1e-12 * sustained_bw(m), kMaxMemoryShare * budget);
}

}  // namespace

double reference_pj_per_byte(const std::string& kind) {
  // sram: 20 pJ per 64-bit read of a 32 KB array = 2.5 pJ/B (CHIPS.md E1, Horowitz 45 nm;
  //       wire/SRAM energy scales little with process).
  if (kind == "sram") return 2.5;
  // hbm: 3.9 pJ/bit (CHIPS.md E2, [E-FGDRAM] HBM2) = 31.2 pJ/B.
  if (kind == "hbm") return 31.2;
  // gddr: 7.5 pJ/bit (CHIPS.md E2, [E-kylo] GDDR6) = 60 pJ/B.
  if (kind == "gddr") return 60.0;
  // ddr / lpddr: 20 pJ/bit, low end of DDR3-era 20-40 pJ/bit (CHIPS.md E1) = 160 pJ/B.
  return 160.0;
}

const MemoryTierSpec& stream_tier(const ChipSpec& chip) {
  if (!chip.placement.stream_from.empty()) {
    if (const MemoryTierSpec* t = chip.tier(chip.placement.stream_from)) return *t;
  }
  return chip.main_tier();
}

FlopsPerSecond peak16(const ChipSpec& chip) {
  for (const char* d : {"bf16", "fp16"}) {
    auto it = chip.compute.peak.find(d);
    if (it != chip.compute.peak.end()) return it->second;
  }
  double best = 0;
  for (const auto& kv : chip.compute.peak) best = std::max(best, kv.second.value());
  return best;
}

double tier_pj_per_byte(const ChipSpec& chip, const MemoryTierSpec& tier) {
  if (tier.pj_per_byte > 0) return tier.pj_per_byte + fabric_pj_per_byte(chip, tier);
  double bw = sustained_bw(tier);
  if (bw <= 0) return 0;
  if (&tier == &stream_tier(chip)) return main_tier_power(chip) / bw * 1e12;
  // Other tiers: reference energy, capped like the main tier.
  double cap = kMaxMemoryShare * dynamic_budget(chip) / bw * 1e12;
  return std::min(reference_pj_per_byte(tier.tier), cap);
}

double chip_pj_per_flop(const ChipSpec& chip, const std::string& dtype) {
  auto own = chip.power.pj_per_flop_dtype.find(dtype);
  if (own != chip.power.pj_per_flop_dtype.end()) return own->second;
  double p16 = peak16(chip);
  auto it = chip.compute.peak.find(dtype);
  double pd = it == chip.compute.peak.end() ? p16 : it->second.value();
  if (p16 <= 0 || pd <= 0) return 0;
  double e16 = chip.power.pj_per_flop > 0
                   ? chip.power.pj_per_flop
                   : std::max(0.0, dynamic_budget(chip) - main_tier_power(chip)) / p16 * 1e12;
  return e16 * p16 / pd;
}

}  // namespace llmsim
