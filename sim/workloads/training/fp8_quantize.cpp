#include "sim/workloads/training/fp8_quantize.h"

#include <algorithm>

namespace llmsim {
namespace {

// Megatron-LM's tensor-parallel split of a layer's GEMMs (Shoeybi et al. 2019): the
// column-parallel ones read the all-gathered sequence-parallel input, the row-parallel ones
// reduce-scatter their output (so their gradient arrives all-gathered).
bool column_parallel(const std::string& name) { return name == "qkv" || name == "mlp_up" || name == "shared_up"; }
bool row_parallel(const std::string& name) { return name == "attn_out" || name == "mlp_down" || name == "shared_down"; }

Op cast(const char* name, std::int64_t rows, std::int64_t cols, std::int64_t batch) {
  Op o;
  o.kind = OpKind::Elementwise;
  o.name = name;
  o.dtype = "auto";
  o.elements = std::max<std::int64_t>(1, rows) * cols * batch;
  o.flops_per_element = kFp8CastFlops;
  o.bytes = static_cast<double>(o.elements) * kFp8CastTransposeBytes;
  return o;
}

}  // namespace

Fp8CastOps fp8_cast_ops(const TrainingConfig& cfg, const std::vector<Op>& layer_forward) {
  Fp8CastOps casts;
  const std::int64_t tp = cfg.par.tp;
  const bool sp = cfg.par.sequence_parallel && tp > 1;
  for (const Op& op : layer_forward) {
    if (op.kind != OpKind::Gemm || op.dtype != "fp8") continue;
    const std::int64_t x_rows = sp && column_parallel(op.name) ? op.m / tp : op.m;
    const std::int64_t dy_rows = sp && row_parallel(op.name) ? op.m / tp : op.m;
    casts.forward.push_back(cast("fp8_cast_x", x_rows, op.k, op.batch));
    casts.backward.push_back(cast("fp8_cast_dy", dy_rows, op.n, op.batch));
  }
  return casts;
}

}  // namespace llmsim
