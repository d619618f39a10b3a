// The chip file's parameters, declared once (sim/core/params.h): load_chip reads them by
// name, `llmsim describe chip` prints them, config.resolved.yaml records them.
#include "sim/core/params.h"

namespace llmsim {
namespace {

using P = ParamDecl;
using T = ParamType;
const char* const kSchema = "docs/catalog.md#schema";
const char* const kModels = "docs/models.md";
const char* const kValidation = "docs/validation.md";

}  // namespace

// clang-format off
LLMSIM_DECLARE_PARAMS(chip_root, {"chip", "chip", "One accelerator of the catalog (topologies/devices/*.yaml)", {
    P::req("name", T::String, "catalog id, equal to the file name").from(kSchema),
    P::derive("display", T::String, "name", "label for reports").from(kSchema),
    P::opt("vendor", T::String, "", "vendor name").from(kSchema),
    P::opt("family", T::Choice, "gpu", "architecture family")
        .one_of({"gpu", "tpu", "wafer", "ipu", "lpu", "hpu", "rdu", "tensix"}).from(kSchema),
    P::req("clock", T::Quantity, "clock the matrix peaks correspond to; the power governor's ceiling")
        .unit(Dim::Frequency).from(kSchema),
    P::derive("boost_clock", T::Quantity, "clock", "the vendor's maximum boost clock (documented data, >= clock: "
                                                   "the compute model runs at `clock` capped by the power model)")
        .unit(Dim::Frequency).from(kModels),
    P::req("power", T::Map, "TDP, idle power, energy per FLOP and per byte, DVFS curve").nested("chip.power").from(kSchema),
    P::req("compute", T::Map, "compute units, peaks, tiles").nested("chip.compute").from(kSchema),
    P::req("memory", T::List, "memory tiers, fastest first").nested("chip.memory[]").from(kSchema),
    P::opt("placement", T::Map, "", "tier each kind of tensor lives in").nested("chip.placement").from(kSchema),
    P::opt("execution", T::Map, "", "how the chip runs a model: kernel or spatial dataflow")
        .nested("chip.execution").from(kModels),
    P::opt("ports", T::List, "", "chip-to-chip ports").nested("chip.ports[]").from(kSchema),
    P::opt("published", T::Map, "", "the review's Tables 1-3 row, verbatim (copied as given)").from(kSchema),
    P::opt("sources", T::List, "", "source keys and notes (strings)").from(kSchema),
    P::opt("fitted", T::Map, "", "fitted constants: parameter -> CALIBRATION row, or \"inherited from CHIP (row)\" "
                                 "(copied as given; shown by llmsim devices and in summary.json)").from(kSchema),
    P::opt("validation", T::Map, "", "how the chip's model checks out against its held-out CALIBRATION rows "
                                     "(written by scripts/validate --write; shown by llmsim devices, in summary.json "
                                     "and beside a plan's answer)").nested("chip.validation").from(kValidation),
    P::opt("notes", T::String, "", "free text").from(kSchema),
}});

LLMSIM_DECLARE_PARAMS(chip_validation, {"chip", "chip.validation", "", {
    P::req("held_out_rows", T::Integer, "rows of docs/validation.md on this chip not used for fitting (>= 0)")
        .from(kValidation),
    P::opt("median_abs_error", T::Number, "0", "median |simulated / measured - 1| over those rows (a fraction)")
        .from(kValidation),
    P::opt("mean_speed_error", T::Number, "0", "mean of those errors signed so that + means the simulation runs "
                                               "faster than measured (a fraction)").from(kValidation),
}});

LLMSIM_DECLARE_PARAMS(chip_power, {"chip", "chip.power", "", {
    P::req("tdp", T::Quantity, "thermal design power").unit(Dim::Power).from(kSchema),
    P::req("idle", T::Quantity, "power when idle, below tdp").unit(Dim::Power).from(kSchema),
    P::opt("pj_per_flop", T::Number, "0", "dynamic energy per 16-bit FLOP in pJ (0 = derived from TDP)").from(kModels),
    P::opt("pj_per_flop_dtype", T::Map, "", "pJ per FLOP for single dtypes, e.g. {fp8: 0.30}; others: pj_per_flop "
                                           "x peak16 / peak(dtype)").from(kModels),
    P::opt("pj_per_byte_fabric", T::Number, "0", "pJ per byte between an off-chip tier and the compute units "
                                                "(controller, PHY, on-chip network, cache), added to non-SRAM tiers")
        .from(kModels),
    P::opt("dvfs", T::Map, "", "frequency / voltage curve of the clock governor").nested("chip.power.dvfs").from(kModels),
}});

LLMSIM_DECLARE_PARAMS(chip_dvfs, {"chip", "chip.power.dvfs", "", {
    P::derive("min_clock", T::Quantity, "0.4 x clock", "lowest clock the governor sets (TDP or a cap)")
        .unit(Dim::Frequency).from(kModels),
    P::opt("min_voltage", T::Number, "0.7", "voltage at min_clock, fraction of the voltage at `clock`").from(kModels),
}});

LLMSIM_DECLARE_PARAMS(chip_compute, {"chip", "chip.compute", "", {
    P::req("units", T::Positive, "SMs / CUs / MXUs / tiles / cores / PCUs").from(kSchema),
    P::req("peak", T::Map, "dense whole-chip peak per dtype: {bf16: 989 TFLOPS, ...}").unit(Dim::Flops).from(kSchema),
    P::opt("unit_rate", T::Map, "", "FLOP per cycle per unit per dtype (checked against peak)").from(kSchema),
    P::opt("vector", T::Quantity, "0 FLOPS", "non-matrix peak (elementwise, norms)").unit(Dim::Flops).from(kSchema),
    P::opt("vector_unit", T::Map, "", "vector / special-function units of the whole chip: count, lanes, exp / rcp / "
                                     "rsqrt per clock each").nested("chip.compute.vector_unit").from(kModels),
    P::opt("tile", T::Map, "", "output block one unit computes per pass").nested("chip.compute.tile").from(kSchema),
    P::opt("unit_buffer", T::Quantity, "0 B", "on-chip operand buffer per unit").unit(Dim::Size).from(kSchema),
    P::opt("launch_overhead", T::Quantity, "0 s", "per kernel / graph node dispatch").unit(Dim::Time).from(kSchema),
    P::opt("matrix_efficiency", T::Number, "1.0", "MAC-array issue efficiency on full tiles, (0, 1]").from(kModels),
    P::opt("warp_mma_fraction", T::Number, "1.0",
           "fraction of the matrix peak reachable with the previous generation's warp-level MMA instructions "
           "(Hopper: mma.sync vs warpgroup wgmma), charged to attention kernels the stack marks `attention.mma: warp`; "
           "(0, 1], 1 = no split").from(kModels),
    P::opt("tile_overhead_cycles", T::Number, "0", "cycles per output tile beyond MAC cycles").from(kModels),
    P::opt("operand_accesses_per_mac", T::Number, "0",
           "operand elements each MAC reads or writes in the unit's own SRAM (WSE AXPY: 3); caps the matrix rate at "
           "the unit's share of the sram tier's bandwidth (0 = no cap)").from(kModels),
    P::opt("collective_units", T::Integer, "0",
           "units a running collective's kernel occupies on each member (NCCL: one SM per channel)").from(kModels),
    P::opt("exchange", T::Map, "", "bulk-synchronous tiles (IPU): each operator pays a sync and an exchange of its "
                                  "operands between the units' SRAMs").nested("chip.compute.exchange").from(kModels),
}});

LLMSIM_DECLARE_PARAMS(chip_exchange, {"chip", "chip.compute.exchange", "", {
    P::req("bytes_per_cycle", T::Number, "bytes one unit receives per clock during an exchange phase (> 0)")
        .from(kModels),
    P::req("sync_cycles", T::Number, "clock cycles of one chip-wide sync (>= 0)").from(kModels),
}});

LLMSIM_DECLARE_PARAMS(chip_vector_unit, {"chip", "chip.compute.vector_unit", "", {
    P::req("count", T::Positive, "vector units on the chip (SM sub-partitions, CU SIMDs, TPCs, TPU VPUs)").from(kModels),
    P::req("lanes", T::Positive, "fp32 lanes per vector unit (documented data: `vector` is the FLOP rate charged)")
        .from(kModels),
    P::req("special", T::Number, "exp / reciprocal / rsqrt results per clock per vector unit (> 0)").from(kModels),
}});

LLMSIM_DECLARE_PARAMS(chip_tile, {"chip", "chip.compute.tile", "", {
    P::opt("m", T::Positive, "128", "tile rows").from(kModels),
    P::opt("n", T::Positive, "128", "tile columns").from(kModels),
    P::opt("k", T::Positive, "64", "k step").from(kModels),
    P::opt("mma_m", T::Integer, "0",
           "rows of one matrix instruction: an attention kernel's lone query block (a decode's GQA group) is "
           "padded to it, not to a whole tile (0 = m)").from(kModels),
}});

LLMSIM_DECLARE_PARAMS(chip_memory, {"chip", "chip.memory[]", "", {
    P::req("tier", T::Choice, "tier name").one_of({"sram", "hbm", "ddr", "lpddr", "gddr"}).from(kSchema),
    P::req("capacity", T::Quantity, "capacity per chip").unit(Dim::Size).from(kSchema),
    P::req("bandwidth", T::Quantity, "peak bandwidth per chip").unit(Dim::Bandwidth).from(kSchema),
    P::opt("latency", T::Quantity, "0 s", "unloaded access latency").unit(Dim::Time).from(kModels),
    P::opt("efficiency", T::Number, "1.0", "sustained / peak streaming bandwidth, (0, 1]").from(kModels),
    // Estimate: PagedAttention's kernel runs 20-26 % slower than FasterTransformer's
    // contiguous one at block size 16 (block-table look-ups, per-block branches), 1 / 1.23.
    P::opt("paged_efficiency", T::Number, "0.81", "model bandwidth: paged (KV-block) / sequential bandwidth, (0, 1] "
                                                 "(estimate)").from("[VLLM-PAGED] §7.1; docs/models.md"),
    P::opt("random_efficiency", T::Number, "1.0", "model bandwidth: scattered-read / sequential bandwidth, (0, 1] "
                                                 "(1 = not modelled; model dram derives it)").from(kModels),
    P::opt("pj_per_byte", T::Number, "0", "dynamic energy per byte in pJ (0 = derived)").from(kModels),
    P::opt("model", T::String, "bandwidth", "timing model of the tier: bandwidth | dram (models/tier_models/) | tlm "
                                           "(a TLM-2.0 target supplied by code, named by `target`)").from(kModels),
    P::opt("target", T::String, "", "model tlm: the registered TLM-2.0 target module (models/tier_model.h)").from(kModels),
    P::opt("dram", T::Map, "", "model dram: timing overrides, e.g. {tRCD: 14 ns} (copied as given)").from(kModels),
}});

LLMSIM_DECLARE_PARAMS(chip_placement, {"chip", "chip.placement", "", {
    P::derive("weights", T::String, "the last (largest) memory tier", "tier holding weights").from(kModels),
    P::derive("kv_cache", T::String, "weights", "tier holding the KV cache").from(kModels),
    P::derive("activations", T::String, "weights", "tier holding activations").from(kModels),
    P::derive("optimizer", T::String, "weights", "tier holding optimizer state").from(kModels),
    P::opt("stream_from", T::String, "", "tier weights stream from at each use (\"\" = weights)").from(kModels),
    P::opt("staging", T::String, "", "tier weights are copied to before use").from(kModels),
}});

LLMSIM_DECLARE_PARAMS(chip_execution, {"chip", "chip.execution", "", {
    P::opt("model", T::Choice, "kernel", "kernel: operators one after another on the whole chip; spatial: a layer's "
                                        "operators laid out on a 2-D core mesh, tokens pay its traversal")
        .one_of({"kernel", "spatial"}).from(kModels),
    P::opt("regions", T::Choice, "chip", "spatial: layer = each layer of a stage owns units/layers of the mesh "
                                        "(layer pipelining); chip = layers run in turn on the whole mesh")
        .one_of({"layer", "chip"}).from(kModels),
    P::opt("mesh_x", T::Positive, "1", "spatial: core mesh columns").from(kModels),
    P::opt("mesh_y", T::Positive, "1", "spatial: core mesh rows").from(kModels),
    P::opt("hop_cycles", T::Number, "1", "spatial: latency of one mesh hop in core clock cycles (> 0)").from(kModels),
}});

LLMSIM_DECLARE_PARAMS(chip_ports, {"chip", "chip.ports[]", "", {
    P::req("kind", T::String, "nvlink | ici | ipu-link | groq-c2c | roce | pcie | ...").from(kSchema),
    P::opt("count", T::Positive, "1", "ports of this kind").from(kSchema),
    P::req("bandwidth", T::Quantity, "per link, per direction").unit(Dim::Bandwidth).from(kSchema),
    P::opt("latency", T::Quantity, "0 s", "per hop").unit(Dim::Time).from(kSchema),
}});
// clang-format on

}  // namespace llmsim
