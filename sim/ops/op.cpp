// estimate_op dispatch, vector-unit operators and copies. GEMM and attention live in
// gemm.cpp / attention.cpp; the shared wave model in waves.cpp.
#include <algorithm>
#include <stdexcept>

#include "sim/ops/bsp.h"
#include "sim/ops/energy.h"
#include "sim/ops/op_model.h"

namespace llmsim {

namespace {

struct KindName {
  OpKind kind;
  const char* name;
};
const KindName kKinds[] = {
    {OpKind::Gemm, "gemm"},         {OpKind::Attention, "attention"}, {OpKind::Elementwise, "elementwise"},
    {OpKind::Norm, "norm"},         {OpKind::Softmax, "softmax"},     {OpKind::Embedding, "embedding"},
    {OpKind::Rotary, "rotary"},     {OpKind::Activation, "activation"}, {OpKind::Sampling, "sampling"},
    {OpKind::Copy, "copy"},
};

// Operation counts per element (counting conventions, not efficiencies):
constexpr double kNormFlops = 5;        // square, accumulate, scale by rsqrt, multiply by weight, +1 amortised
constexpr double kSoftmaxFlops = 5;     // max, subtract, exp, sum, divide
constexpr double kRotaryFlops = 3;      // two multiplies and one add per output element
constexpr double kActivationFlops = 8;  // SiLU/GeLU: exp (~4) + add + divide + multiply
constexpr double kSamplingFlops = 6;    // softmax (5) + one top-k compare
// Special-function results (exp / rcp / rsqrt) per element, on the chip's `vector_unit`:
constexpr double kSoftmaxSpecial = 1;     // exp (the row's reciprocal is amortised)
constexpr double kActivationSpecial = 2;  // SiLU x * 1 / (1 + exp(-x)): exp and reciprocal
constexpr double kSamplingSpecial = 1;    // the logits' softmax exp
// In an attention score's softmax: scale, running max, subtract, sum on the vector lanes, and
// one exp; without `vector_unit` data the exp counts as a fifth vector FLOP.
constexpr double kScoreVectorFlops = 4;
constexpr double kScoreSpecial = 1;
// Without a catalog `vector` peak, vector units run at 1/16 of the 16-bit matrix peak:
// H100's fp32 (non-tensor) 66.9 TF vs bf16 989 TF is 1/14.8 (CHIPS.md section 1).
constexpr double kVectorFallbackFraction = 1.0 / 16.0;

void require_vector_dtype(const std::string& dt, const ChipSpec& chip) {
  const auto& known = known_dtypes();
  if (std::find(known.begin(), known.end(), dt) == known.end())
    throw std::invalid_argument("unknown dtype '" + dt + "'");
  if (dt != "fp32" && !chip.compute.supports(dt))
    throw std::invalid_argument("dtype " + dt + " is not supported by " + chip.name);
}

OpCost estimate_vector(const Op& op, const ChipSpec& chip) {
  std::string dt = resolve_dtype(op.dtype, chip);
  require_vector_dtype(dt, chip);
  double b = dtype_bytes(dt);
  double flops = 0, bytes = 0, special = 0;
  std::string tier = chip.placement.activations;
  if (op.kind == OpKind::Elementwise || op.kind == OpKind::Activation) {
    opmodel::require_positive(op.elements, "elements");
    double e = static_cast<double>(op.elements);
    if (op.kind == OpKind::Elementwise) {
      flops = e * op.flops_per_element;
      bytes = op.bytes > 0 ? op.bytes.value() : 3 * e * b;  // two inputs, one output
    } else {
      flops = e * kActivationFlops;
      special = e * kActivationSpecial;
      bytes = 2 * e * b;
    }
  } else {
    opmodel::require_positive(op.m, "m");
    opmodel::require_positive(op.n, "n");
    double mn = static_cast<double>(op.m) * static_cast<double>(op.n);
    switch (op.kind) {
      case OpKind::Norm:  // one rsqrt per row
        flops = mn * kNormFlops;
        special = static_cast<double>(op.m);
        bytes = (2 * mn + static_cast<double>(op.n)) * b;
        break;
      case OpKind::Softmax:
        flops = mn * kSoftmaxFlops;
        special = mn * kSoftmaxSpecial;
        bytes = 2 * mn * b;
        break;
      case OpKind::Rotary: flops = mn * kRotaryFlops; bytes = 3 * mn * b; break;  // x in, out, cos/sin
      case OpKind::Embedding: bytes = 2 * mn * b; tier = chip.placement.weights; break;
      case OpKind::Sampling:
        flops = mn * kSamplingFlops;
        special = mn * kSamplingSpecial;
        bytes = mn * 4 + static_cast<double>(op.m) * 8;
        break;
      default: break;
    }
  }
  const MemoryTierSpec& t = opmodel::op_tier(op, chip, tier);
  OpCost c;
  c.dtype = dt;
  c.flops = flops;
  c.bytes = bytes;
  c.peak = opmodel::vector_peak(chip);
  c.peak_bandwidth = t.bandwidth;
  // The vector lanes and the special-function units are separate pipes: the slower bounds.
  c.compute_time = std::max(Flops{flops} / c.peak, opmodel::special_time(special, chip));
  c.memory_time = bytes / (t.bandwidth * t.efficiency);
  c.memory_bound = c.memory_time >= c.compute_time;
  c.prologue = chip.compute.launch_overhead + t.latency;
  c.time = c.prologue + std::max(c.compute_time, c.memory_time);
  c.tier = t.tier;
  c.energy = (flops * chip_pj_per_flop(chip, chip.compute.supports(dt) ? dt : "") +
              bytes * tier_pj_per_byte(chip, t)) * 1e-12;
  return c;
}

const MemoryTierSpec& tier_named(const ChipSpec& chip, const std::string& name) {
  const MemoryTierSpec* t = chip.tier(name.empty() ? chip.placement.weights : name);
  if (!t) {
    std::string list;
    for (const auto& m : chip.memory) list += (list.empty() ? "" : ", ") + m.tier;
    throw std::invalid_argument(chip.name + " has no memory tier '" + name + "' (tiers: " + list + ")");
  }
  return *t;
}

OpCost estimate_copy(const Op& op, const ChipSpec& chip) {
  if (!(op.bytes > 0)) throw std::invalid_argument("bytes must be positive");
  const MemoryTierSpec& from = tier_named(chip, op.from);
  const MemoryTierSpec& to = tier_named(chip, op.to);
  // Source and destination must both be resident: in one tier that is twice the bytes.
  if ((&from == &to ? 2 : 1) * op.bytes > std::min(from.capacity, to.capacity)) {
    throw std::invalid_argument("a " + format_quantity(op.bytes, Dim::Size) + " copy does not fit the " +
                                format_quantity(std::min(from.capacity, to.capacity), Dim::Size) + " " +
                                (from.capacity <= to.capacity ? from.tier : to.tier) + " of " + chip.name);
  }
  OpCost c;
  c.dtype = "";
  // Same tier: reads and writes share its bandwidth (C2 counts both). Different tiers:
  // both stream concurrently, the slower one bounds the copy.
  if (&from == &to) {
    c.memory_time = 2 * op.bytes / (from.bandwidth * from.efficiency);
  } else {
    c.memory_time = std::max(op.bytes / (from.bandwidth * from.efficiency), op.bytes / (to.bandwidth * to.efficiency));
  }
  c.bytes = 2 * op.bytes;  // read + written
  // Peak counted like C2 (read + written): one tier carries both, two tiers one each.
  c.peak_bandwidth = &from == &to ? from.bandwidth : 2 * std::min(from.bandwidth, to.bandwidth);
  c.memory_bound = true;
  c.prologue = chip.compute.launch_overhead + std::max(from.latency, to.latency);
  c.time = c.prologue + c.memory_time;
  c.tier = from.tier;
  if (&from != &to) c.tier_to = to.tier;
  c.energy = op.bytes.value() * (tier_pj_per_byte(chip, from) + tier_pj_per_byte(chip, to)) * 1e-12;
  return c;
}

}  // namespace

const char* op_kind_name(OpKind k) {
  for (const auto& kn : kKinds) if (kn.kind == k) return kn.name;
  return "?";
}

bool op_kind_from_name(const std::string& name, OpKind& out) {
  for (const auto& kn : kKinds) {
    if (name == kn.name) {
      out = kn.kind;
      return true;
    }
  }
  return false;
}

const std::vector<std::string>& op_kind_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& kn : kKinds) v.push_back(kn.name);
    return v;
  }();
  return names;
}

std::string resolve_dtype(const std::string& dtype, const ChipSpec& chip) {
  if (dtype != "auto") return dtype;
  if (chip.compute.supports("bf16")) return "bf16";
  if (chip.compute.supports("fp16")) return "fp16";
  return chip.compute.peak.empty() ? "bf16" : chip.compute.peak.begin()->first;
}

namespace opmodel {

void require_positive(std::int64_t v, const char* what) {
  if (v <= 0) throw std::invalid_argument(std::string(what) + " must be positive (got " + std::to_string(v) + ")");
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

FlopsPerSecond vector_peak(const ChipSpec& chip) {
  if (chip.compute.vector_peak > 0) return chip.compute.vector_peak;
  auto it = chip.compute.peak.find("fp32");
  if (it != chip.compute.peak.end()) return it->second;
  return peak16(chip) * kVectorFallbackFraction;
}

double vector_fpc(const ChipSpec& chip) {
  return vector_peak(chip) / (static_cast<double>(chip.compute.units) * chip.clock);
}

double softmax_cycles_per_score(const ChipSpec& chip) {
  const double special = chip.compute.special_rate(chip.clock);
  if (!(special > 0)) return (kScoreVectorFlops + kScoreSpecial) / vector_fpc(chip);
  const double special_per_unit = special / (static_cast<double>(chip.compute.units) * chip.clock);
  return std::max(kScoreVectorFlops / vector_fpc(chip), kScoreSpecial / special_per_unit);
}

Seconds special_time(double special, const ChipSpec& chip) {
  const double rate = chip.compute.special_rate(chip.clock);
  return rate > 0 ? special / rate : 0.0;
}

const MemoryTierSpec& op_tier(const Op& op, const ChipSpec& chip, const std::string& fallback) {
  const std::string& name = !op.stream_tier.empty() ? op.stream_tier : fallback;
  if (name.empty()) return stream_tier(chip);
  return tier_named(chip, name);
}

}  // namespace opmodel

namespace {
OpCost estimate_by_kind(const Op& op, const ChipSpec& chip) {
  switch (op.kind) {
    case OpKind::Gemm: return opmodel::estimate_gemm(op, chip);
    case OpKind::Attention: return opmodel::estimate_attention(op, chip);
    case OpKind::Copy: return estimate_copy(op, chip);
    default: return estimate_vector(op, chip);
  }
}
}  // namespace

OpCost estimate_op(const Op& op, const ChipSpec& chip) {
  OpCost c = estimate_by_kind(op, chip);  // built in place (C++17 elision), returned by NRVO
  // BSP chips: the tiles exchange operands between compute phases (bsp.h), so the
  // exchange joins the compute units' time.
  if (const Seconds x = bsp_exchange_time(op, chip); x > 0) {
    c.compute_time += x;
    c.memory_bound = c.memory_time >= c.compute_time;
    c.time = c.prologue + std::max(c.compute_time, c.memory_time);
  }
  // Timed here at the catalog's streaming figure; the pattern is the tier model's business
  // (ComputeCore scales the tier work by what the model sustains for it).
  c.pattern = op.pattern;
  return c;
}

}  // namespace llmsim
