// 2-D tensor parallelism for inference (parallelism.tp_rows x tp_cols = tp): the layout's
// collectives and the device groups they run over. docs/models.md "2-D tensor parallelism".
//
// Rank r = row x C + col of a stage (C = tp_cols, R = tp_rows). A row group is the C chips
// of one row: they split the hidden dimension h (a GEMM's K when it reads the residual
// stream, its N when it writes it) and the tokens of attention. A column group is the R
// chips of one column: they split heads and FFN. Per chip, each weight matrix is a
// (1/C x 1/R) or (1/R x 1/C) block: 1/tp of the model, as in 1-D. The residual stream is
// sharded h / C over a row and replicated down a column. Per layer (T tokens, 2-byte
// activations, qh = heads / R, kvh = max(1, kv_heads / R), up = 2 if gated else 1):
//   0 all-reduce over each row group, T x 4 B (8 B for LayerNorm): the attention norm's
//     statistic per token, its sum of squares over h, of which each chip holds h / C
//   1 reduce-scatter over each row group, input T (qh + 2 kvh) head_dim: QKV partial sums
//     (K = h / C), scattered over the row's chips by token for attention
//   2 all-gather over each row group, output T qh head_dim: attention outputs of the
//     row's tokens, the input of attn_out (K = qh head_dim)
//   3 all-reduce over each column group, T h / C: attn_out partial sums (N = h / C)
//   0' the MLP norm's statistic, as 0 (a model with post-norms, Gemma-2: twice each)
//   4 reduce-scatter over each row group, input T up ffn / R: MLP-up partial sums,
//     scattered by FFN column for the activation (ffn / tp per chip, as 1-D)
//   5 all-gather over each row group, output T ffn / R: the activations, mlp_down's input
//   6 all-reduce over each column group, T h / C: mlp_down partial sums
// A parallel block (PaLM, GPT-J) fuses 1 with 4, 2 with 5 and 3 with 6, and its norms read
// one input, so one statistic: four per layer.
// decode_attention: batch (Pope et al.'s batch-sharded multi-query attention) adds two
// phases after 1, over each column group (D decode tokens, D / C of them on a row's chip):
//   1a all-to-all, D / C (qh + kvm) head_dim per chip: a column's chips trade head slices
//      of their D / C tokens for every head of D / tp of them (kvm = 0 when the model has
//      one KV head, which every chip of the column already computed; else 2 kvh, and the
//      prefill tokens' K and V go to their sequences' owners too: (T - D) / C x 2 kvh)
//   1b all-to-all, D / C qh head_dim: the attention outputs back to head slices, before 2
// All R row groups (or C column groups) run at once, on disjoint chips.
// Sources: [POPE-INFER] 2-D weight-stationary (E over x, F and heads over yz, all-gather and
// reduce-scatter on each axis); tt-metal's Galaxy Llama (weights over both mesh axes,
// collectives along rows and columns) [TT-METAL-CCL]; both recalled, not re-read.
#pragma once
#include <cstdint>
#include <vector>

#include "sim/net/collective_kind.h"
#include "sim/workloads/inference/config.h"

namespace llmsim {

struct TpCollective {
  CollectiveKind kind = CollectiveKind::AllReduce;
  bool columns = false;    // over the column groups (R chips each); else the row groups (C chips)
  Bytes bytes = 0;         // nccl-tests size of one group's collective
  std::int64_t count = 0;  // per stage: layers x (1 per layer)
};

// The layout's collectives, in layer order, for `layers` layers of `tokens` tokens of which
// `decode_tokens` decode (always tp2d_phases(cfg) of them; count 0 when there is nothing to
// move).
std::vector<TpCollective> tp2d_collectives(const InferenceConfig& cfg, double tokens, double decode_tokens,
                                           std::int64_t layers);
std::size_t tp2d_phases(const InferenceConfig& cfg);

// The device groups of one axis of a stage (`stage`: rank -> device): R row groups of C
// devices, or C column groups of R.
std::vector<std::vector<int>> tp2d_groups(const InferenceConfig& cfg, const std::vector<int>& stage, bool columns);

}  // namespace llmsim
