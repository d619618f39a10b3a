// One accelerator from the chip catalog (topologies/devices/*.yaml), units resolved.
// Per-chip DENSE figures: sparse datasheet headlines and platform aggregates are kept
// only in `published` (the review's tables, verbatim) and never simulated with.
#pragma once
#include <yaml-cpp/yaml.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/core/units.h"
#include "sim/core/yaml_doc.h"

namespace llmsim {

// Data types the compute model knows. "int4" means int4 weights (w4a16-style). "w8a16" is
// weight-only 8-bit: weights stored and read at 1 byte (fp8 or int8), dequantised in the
// kernel, activations and matrix compute 16-bit (docs/models.md "Weight-only formats").
const std::vector<std::string>& known_dtypes();  // fp64 fp32 tf32 bf16 fp16 fp8 int8 int4 w8a16
double dtype_bytes(const std::string& dtype);     // 8 4 4 2 2 1 1 0.5 1; throws std::out_of_range
// A weight format with no MAC rate of its own (w8a16): never a chip's `peak` dtype.
bool weight_only_format(const std::string& dtype);
// Bytes per element of a GEMM's activation operand when its weights are `dtype`: 16-bit for
// the weight-only formats (int4, w8a16), else the dtype's own width.
double activation_bytes(const std::string& dtype);

struct MemoryTierSpec {
  std::string tier;                 // sram | hbm | ddr | lpddr | gddr
  Bytes capacity = 0;
  BytesPerSecond bandwidth = 0;     // peak, per chip
  Seconds latency = 0;              // unloaded access latency
  double efficiency = 1.0;          // sustained / peak streaming bandwidth (cite a case id)
  // Model bandwidth: what a paged (KV-block) or scattered stream sustains, as a fraction of
  // the sequential figure. The loader applies the declared defaults and their sources
  // (chip_params.cpp); a spec built in code is pattern-blind until it sets them.
  double paged_efficiency = 1.0;
  double random_efficiency = 1.0;
  double pj_per_byte = 0;           // dynamic energy per byte moved (0 = derived)
  std::string model = "bandwidth";  // timing model by registered name (models/tier_model.h)
  std::map<std::string, Seconds> dram;  // `dram:` timing overrides for model dram ("tRCD" -> s)
  std::string target;               // model tlm: registered TLM target (TlmTargetRegistry)
  SourcePos pos;
};

// Where each kind of tensor lives, per architecture (docs/models.md "Placement").
struct PlacementSpec {
  std::string weights = "hbm";      // tier name
  std::string kv_cache = "hbm";
  std::string activations = "hbm";
  std::string optimizer = "hbm";
  std::string stream_from;          // tier weights stream from each use ("" = weights tier)
  std::string staging;              // optional staging tier (SN40L: DDR -> HBM)
};

// The dense peak must equal units x unit_rate x clock within this relative tolerance
// (docs/catalog.md "Consistency"): vendor peaks are rounded and some clocks are derived.
constexpr double kPeakConsistencyTolerance = 0.03;

struct ComputeSpec {
  int units = 1;                                  // SMs / CUs / cores / tiles / PCUs / MXUs
  std::map<std::string, FlopsPerSecond> peak;     // dense peak per dtype (whole chip)
  // Architectural FLOP (or OP) per cycle per unit, per dtype, from the chip's microarchitecture
  // (e.g. H100 bf16 4096/SM/clk). Optional; where given, load_chip checks it against `peak`.
  std::map<std::string, double> unit_rate;
  FlopsPerSecond vector_peak = 0;                 // non-matrix ops (elementwise, norms)
  // Vector units of the whole chip (`vector_unit`, docs/models.md "Vector and special-function
  // units"): how many (SM sub-partitions, CU SIMDs, TPCs, TPU VPUs), their fp32 lanes, and
  // the exp / reciprocal / rsqrt results each returns per clock. 0 = not stated: special
  // functions are then not charged apart from `vector_peak` (folded into it, as on the
  // dataflow chips whose vector figures come from whole kernels).
  int vector_units = 0;
  int vector_lanes = 0;
  double special_per_clock = 0;  // per vector unit
  // Per-unit matrix tile: the output block one unit computes per pass (m x n), stepping k.
  int tile_m = 128, tile_n = 128, tile_k = 64;
  // Rows of one matrix instruction (Ampere mma.sync m16, Hopper wgmma m64, CDNA 3 MFMA 16):
  // an attention kernel's lone query block is padded to it, not to tile_m. tile_m if unset.
  int mma_m = 128;
  Bytes unit_buffer = 0;                          // on-chip operand buffer per unit
  Seconds launch_overhead = 0;                    // per kernel / graph node dispatch
  double matrix_efficiency = 1.0;                 // MAC-array issue efficiency on full tiles
  // Fraction of the matrix peak the previous generation's warp-level MMA instructions reach
  // (Hopper: mma.sync vs the asynchronous warpgroup wgmma); a kernel written for them
  // (FlashAttention-2) runs its matrix phases at this share. 1 = no such split.
  double warp_mma_fraction = 1.0;
  // Cycles per tile-pass beyond pure MAC cycles (pipeline fill/drain, epilogue).
  double tile_overhead_cycles = 0;
  // Units a running collective's kernel occupies on each member (NCCL: one CTA, so one
  // SM, per channel); taken from whatever computes alongside it. 0 = none (DMA-driven).
  int collective_units = 0;
  // SRAM accesses of operand bytes per MAC (a WSE core's AXPY: read x, read y, write y = 3):
  // caps the matrix rate at what the sram tier feeds (matrix_fpc). 0 = no cap.
  double operand_accesses_per_mac = 0;

  // Per-unit FLOP per cycle for a dtype (peak / (units * clock)); 0 if unsupported.
  double flops_per_cycle_per_unit(const std::string& dtype, Hertz clock) const;
  bool supports(const std::string& dtype) const { return peak.count(dtype) > 0; }
  // Whole-chip exp / rcp / rsqrt results per second at `clock`; 0 when not stated.
  double special_rate(Hertz clock) const { return vector_units * special_per_clock * clock; }
};

struct PortSpec {
  std::string kind;                 // nvlink | ici | ipu-link | groq-c2c | roce | pcie | ...
  int count = 1;
  BytesPerSecond bandwidth = 0;     // per link, per direction
  Seconds latency = 0;
};

struct PowerSpec {
  Watts tdp = 0;
  Watts idle = 0;
  // Optional explicit dynamic energies; when 0 they are derived so that a chip at full
  // matrix load plus full streaming of its main tier sits at TDP (docs/models.md).
  double pj_per_flop = 0;
  // Explicit pJ per FLOP for single dtypes (fp8 vs bf16: a narrower multiplier and half the
  // operand bytes, not half the energy); dtypes absent follow pj_per_flop x peak16/peak.
  std::map<std::string, double> pj_per_flop_dtype;
  // pJ per byte between an off-chip tier and the compute units (memory controller, PHY,
  // on-chip network, last-level cache, load/store issue), added to every non-SRAM tier.
  double pj_per_byte_fabric = 0;
  // DVFS curve (docs/models.md "Power"): voltage linear in clock from (dvfs_min_clock,
  // dvfs_min_voltage x nominal) up to (clock, nominal), flat below.
  Hertz dvfs_min_clock = 0;      // 0 = 0.4 x clock (the documented default curve)
  double dvfs_min_voltage = 0.7;
};

// The review's Tables 1-3 (seed/000_*.txt): one column of the combined row.
struct PublishedColumn {
  int table;            // 1, 2 or 3
  std::string key;      // YAML key under published.tableN, e.g. "tdp_w"
  std::string heading;  // the paper's heading, e.g. "TDP (W)", "Memory Bandwidth"
  std::string id() const { return "t" + std::to_string(table) + "." + key; }  // "t1.tdp_w"
};
// Every column of Tables 1, 2, 3 after the Accelerator column, in the paper's order.
const std::vector<PublishedColumn>& published_columns();

// One chip's row of the review's tables, verbatim strings ("-", "20k", "3,958 TFLOPS").
struct PublishedRow {
  int row = 0;                        // 1-based row in the paper (same in all three tables)
  std::string accelerator;            // first column, e.g. "NVIDIA H100"
  std::map<std::string, std::string> cells;  // column id ("t2.fp8") -> cell text
  const std::string& cell(const PublishedColumn& c) const { return cells.at(c.id()); }
};

// The chip's line of docs/validation.md's per-chip table, copied into its file by
// scripts/validate --write: how far the simulation lands from the published measurements
// it was not fitted on (errors as fractions).
struct ChipValidation {
  std::int64_t held_out_rows = 0;
  double median_abs_error = 0;
  double mean_speed_error = 0;  // + = the simulation runs faster than measured
};

struct ChipSpec {
  std::string name;          // catalog id, e.g. nvidia-h100-sxm
  std::string display;       // "NVIDIA H100 SXM5 80GB"
  std::string vendor;
  std::string family;        // gpu | tpu | wafer | ipu | lpu | hpu | rdu | tensix
  std::string file;          // path it was loaded from
  Hertz clock = 0;           // the clock the matrix peaks are quoted at: the governor's ceiling
  Hertz boost_clock = 0;     // the vendor's maximum boost (documented data; >= clock)
  PowerSpec power;
  ComputeSpec compute;
  std::vector<MemoryTierSpec> memory;  // fastest first
  PlacementSpec placement;
  std::vector<PortSpec> ports;
  YAML::Node published;      // review Tables 1-3 row, verbatim (absent for non-review chips)
  std::optional<PublishedRow> published_row;  // the same, parsed and checked complete
  std::vector<std::string> sources;
  // Fitted constants: parameter path ("compute.matrix_efficiency") -> the CALIBRATION row
  // it was fitted on ("C1"), or "inherited from CHIP (row)" when borrowed from another
  // chip ("inherited from CHIP PARAM (row)" when it is another parameter of that chip, e.g.
  // a DDR efficiency taken from the H100's HBM one).
  std::map<std::string, std::string> fitted;
  // How the chip's model checks out on its held-out rows (chip_validation.h); absent for
  // chips no validation row runs on.
  std::optional<ChipValidation> validation;
  // The chip as loaded: every declared field, defaults filled in, quantities in SI base
  // units (sim/core/params.h); written into config.resolved.yaml.
  YAML::Node resolved;

  const MemoryTierSpec* tier(const std::string& name) const;  // nullptr if absent
  const MemoryTierSpec& main_tier() const;  // where weights live (placement.weights)
  Bytes total_capacity() const;
};

// Parses one chip document (strict; positioned errors).
ChipSpec load_chip(const Doc& doc);

// The catalog directory: loads chips by name on demand ("nvidia-h100-sxm" ->
// DIR/nvidia-h100-sxm.yaml) or by path (anything containing '/' or ending in .yaml).
class ChipCatalog {
 public:
  explicit ChipCatalog(std::string dir);
  // `from` is where the reference appeared, for the error when it is unknown.
  const ChipSpec& get(const std::string& name_or_path, const SourcePos& from = {});
  // Registers a chip loaded from elsewhere (a config.resolved.yaml): `get(name)` returns it.
  void add(ChipSpec chip);
  std::vector<std::string> names() const;           // every *.yaml in dir, sorted
  std::vector<const ChipSpec*> all();               // loaded in name order
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::map<std::string, std::unique_ptr<ChipSpec>> loaded_;
};

// Default catalog directory: $LLMSIM_HOME/topologies/devices, else the source tree's.
std::string default_catalog_dir();
std::string project_root();

}  // namespace llmsim
