// Shared by the compute-model tests: the shipped chip catalog (loaded once per test process)
// and the operator shapes several files cost.
#pragma once
#include <cstdint>
#include <string>

#include "sim/ops/op.h"

namespace llmsim_test {

inline llmsim::ChipCatalog& shipped_catalog() {
  static llmsim::ChipCatalog c(llmsim::default_catalog_dir());
  return c;
}

inline llmsim::Op gemm_op(std::int64_t m, std::int64_t n, std::int64_t k, const std::string& dtype = "auto",
                          std::int64_t batch = 1) {
  llmsim::Op op;
  op.kind = llmsim::OpKind::Gemm;
  op.m = m;
  op.n = n;
  op.k = k;
  op.batch = batch;
  op.dtype = dtype;
  return op;
}

// One prefill's attention with Llama 3 70B's heads (64 query, 8 KV, head dim 128) over `len`
// tokens; the softmax overlapped with the matrix phases or not, on warp-level MMA or not.
inline llmsim::Op prefill_attention_op(std::int64_t len, bool causal, bool softmax_overlapped, bool warp_mma = false) {
  llmsim::Op a;
  a.kind = llmsim::OpKind::Attention;
  a.dtype = "auto";
  a.heads = 64;
  a.kv_heads = 8;
  a.head_dim = 128;
  a.q_len = a.kv_len = len;
  a.causal = causal;
  a.softmax_overlapped = softmax_overlapped;
  a.warp_mma = warp_mma;
  return a;
}

// Achieved FLOP rate over the peak the op ran against.
inline double efficiency(const llmsim::OpCost& c) { return c.flops / c.time / c.peak; }

}  // namespace llmsim_test
