// The wave model shared by GEMM and attention, and the dtype / row-padding rules of the
// MAC arrays (docs/models.md "Tiles and waves").
#include <algorithm>
#include <stdexcept>

#include "sim/ops/op_model.h"

namespace llmsim {
namespace opmodel {

namespace {
// TPU MXUs take bf16[8,128] row groups per pass ([ScalingBook], CHIPS.md section 6).
constexpr std::int64_t kTpuRowGranularity = 8;

std::string supported_list(const ChipSpec& chip) {
  std::string s;
  for (const auto& kv : chip.compute.peak) s += (s.empty() ? "" : ", ") + kv.first;
  return s;
}
}  // namespace

std::string matrix_dtype(const std::string& dtype, const ChipSpec& chip) {
  const auto& known = known_dtypes();
  if (std::find(known.begin(), known.end(), dtype) == known.end())
    throw std::invalid_argument("unknown dtype '" + dtype + "'");
  // w8a16 dequantises its weights to 16 bits in the operand path, so it runs on the 16-bit
  // MACs even where the chip has fp8 ones: the activations are 16-bit (a distinct format).
  if (dtype == "w8a16") {
    for (const char* d : {"bf16", "fp16"}) if (chip.compute.supports(d)) return d;
    throw std::invalid_argument("dtype w8a16 (8-bit weights, 16-bit compute) needs bf16 or fp16 on " + chip.name +
                                " (supported: " + supported_list(chip) + ")");
  }
  if (chip.compute.supports(dtype)) return dtype;
  if (dtype == "int4") {
    for (const char* d : {"bf16", "fp16", "int8"}) if (chip.compute.supports(d)) return d;
  }
  throw std::invalid_argument("dtype " + dtype + " is not supported by " + chip.name + " (supported: " +
                              supported_list(chip) + ")");
}

double matrix_fpc(const std::string& cdt, const ChipSpec& chip) {
  const ComputeSpec& cs = chip.compute;
  const double fpc = cs.flops_per_cycle_per_unit(cdt, chip.clock);
  const double accesses = cs.operand_accesses_per_mac;
  const MemoryTierSpec* sram = chip.tier("sram");
  if (!(accesses > 0) || !sram) return fpc;  // load_chip requires the tier
  const double bytes_per_clock = sram->bandwidth / (static_cast<double>(cs.units) * chip.clock);
  return std::min(fpc, 2.0 * bytes_per_clock / (accesses * dtype_bytes(cdt)));
}

std::int64_t padded_rows(std::int64_t rows, const ChipSpec& chip) {
  const std::int64_t tm = chip.compute.tile_m;
  const std::string& f = chip.family;
  std::int64_t r = tm;  // output-stationary (gpu, hpu, tensix, unknown): full tile
  if (f == "tpu") {
    r = ceil_div(rows, kTpuRowGranularity) * kTpuRowGranularity;
  } else if (f == "lpu" || f == "wafer" || f == "ipu" || f == "rdu") {
    r = rows;  // rows stream through stationary weights one per cycle
  }
  return std::min(tm, std::max<std::int64_t>(1, r));
}

bool streams_rows(const ChipSpec& chip) { return padded_rows(1, chip) < chip.compute.tile_m; }

std::int64_t block_rows(std::int64_t m, std::int64_t items_per_block, const ChipSpec& chip, std::int64_t& blocks) {
  const std::int64_t tm = chip.compute.tile_m, units = chip.compute.units;
  const std::int64_t tiles_m = ceil_div(m, tm);
  blocks = tiles_m;
  if (!streams_rows(chip)) return tiles_m == 1 ? padded_rows(m, chip) : tm;
  // A weight-stationary unit streams any number of rows through a loaded weight tile, so
  // one block of all M rows per column tile is a kernel; splitting M over b blocks fills
  // more units, but each block loads its own copies of the weight tiles, hidden only behind
  // at least tile_m streamed rows: a split block costs max(rows, tile_m). The lone block
  // keeps padded_rows' rule. Past tiles_m blocks a split only adds waves, so the best of
  // b = 1 .. tiles_m is the best of every b: a minimum over a fixed set of monotone costs.
  const std::int64_t granule = padded_rows(1, chip);
  auto rows_of = [&](std::int64_t b) {
    const std::int64_t r = ceil_div(ceil_div(m, b), granule) * granule;
    return b == 1 ? r : std::max(r, tm);
  };
  auto cost = [&](std::int64_t b) { return ceil_div(b * items_per_block, units) * rows_of(b); };
  std::int64_t best_b = 1, best = cost(1);
  auto consider = [&](std::int64_t b) {
    const std::int64_t c = cost(b);
    if (c < best) best = c, best_b = b;
  };
  if (items_per_block >= units) {
    for (std::int64_t b = 2; b <= tiles_m && ceil_div(b * items_per_block, units) * tm < best; ++b) consider(b);
  } else {  // for a wave count, the most blocks that fit it (fewest rows each)
    for (std::int64_t w = 1; w <= ceil_div(tiles_m * items_per_block, units) && w * tm < best; ++w) {
      consider(std::clamp(w * units / items_per_block, std::int64_t{1}, tiles_m));
    }
  }
  blocks = best_b;
  return rows_of(best_b);
}

void run_waves(const TileJob& job, const ChipSpec& chip, const MemoryTierSpec& tier, OpCost& c) {
  // Waves quantise compute; the stream tier is shared across waves, because double
  // buffering prefetches the next wave's operands while the current one computes. So the
  // body is the wave-quantised roofline max(waves x item time, bytes / bandwidth), which
  // is monotone in every shape dimension (a per-wave byte split is not).
  const std::int64_t units = chip.compute.units;
  const BytesPerSecond bw = tier.bandwidth * tier.efficiency;
  const std::int64_t full = job.items / units, rem = job.items % units;
  const Seconds item_time = job.item_cycles / chip.clock;
  c.tiles = job.items;
  c.waves = full + (rem > 0 ? 1 : 0);
  c.compute_time = static_cast<double>(c.waves) * item_time;
  c.bytes = job.total_bytes;
  c.peak_bandwidth = tier.bandwidth;
  // Paged bytes (KV blocks found through a block table) take 1 / paged_efficiency longer.
  c.memory_time = (job.total_bytes - job.paged_bytes) / bw + job.paged_bytes / (bw * tier.paged_efficiency);
  c.memory_bound = c.memory_time > c.compute_time;
  const double first_units = static_cast<double>(std::min(job.prologue_items > 0 ? job.prologue_items : job.items, units));
  c.prologue = chip.compute.launch_overhead + tier.latency + job.prologue_bytes * first_units / bw;
  const Seconds body = std::max(c.compute_time, c.memory_time);
  c.time = c.prologue + body;
  // Per-wave split for the timeline: equal waves when compute bound, else by active units.
  if (!c.memory_bound) {
    c.wave_time = c.last_wave_time = item_time;
  } else {
    c.wave_time = body * static_cast<double>(std::min(units, job.items)) / static_cast<double>(job.items);
    c.last_wave_time = rem > 0 ? body * static_cast<double>(rem) / static_cast<double>(job.items) : c.wave_time;
  }
}

}  // namespace opmodel
}  // namespace llmsim
