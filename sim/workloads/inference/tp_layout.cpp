#include "sim/workloads/inference/tp_layout.h"

#include <algorithm>
#include <array>

#include "sim/workloads/inference/lowering.h"

namespace llmsim {

std::size_t tp2d_phases(const InferenceConfig& cfg) {
  return (cfg.model.parallel_block ? 4 : 8) + (cfg.decode_batch_sharded ? 2 : 0);
}

namespace {

// Phases 0-6 (tp_layout.h): the head-sharded layout's collectives.
std::vector<TpCollective> tp2d_layer_collectives(const InferenceConfig& cfg, double tokens, std::int64_t layers) {
  const ModelSpec& m = cfg.model;
  const std::int64_t R = cfg.tp_rows, C = cfg.tp_cols;
  const double qh = static_cast<double>(m.heads / R), kvh = static_cast<double>(m.kv_heads_per_rank(R));
  const double hd = static_cast<double>(m.head_dim), ffn = static_cast<double>(m.ffn / R);
  const double up = m.gated_mlp ? 2.0 : 1.0, a = tokens * kActivationBytes;
  const std::int64_t n = tokens > 0 ? layers : 0;
  // A norm's statistic (sum of squares; LayerNorm also the sum) per token, in fp32, summed
  // over the row whose chips hold h / C each. A parallel block's norms share one input.
  const double stat = tokens * (m.norm_bias ? 8.0 : 4.0);
  const std::int64_t norms = m.parallel_block ? n : n * std::max<std::int64_t>(1, m.norms_per_layer / 2);
  const TpCollective norm_ar{CollectiveKind::AllReduce, false, stat, norms};
  const TpCollective qkv_rs{CollectiveKind::ReduceScatter, false, a * (qh + 2 * kvh) * hd, n};
  const TpCollective attn_ag{CollectiveKind::AllGather, false, a * qh * hd, n};
  const TpCollective out_ar{CollectiveKind::AllReduce, true, a * static_cast<double>(m.hidden / C), n};
  const TpCollective up_rs{CollectiveKind::ReduceScatter, false, a * up * ffn, n};
  const TpCollective act_ag{CollectiveKind::AllGather, false, a * ffn, n};
  if (!m.parallel_block) return {norm_ar, qkv_rs, attn_ag, out_ar, norm_ar, up_rs, act_ag, out_ar};
  // One block input feeds attention and MLP; their outputs are summed before the reduction.
  TpCollective rs = qkv_rs, ag = attn_ag;
  rs.bytes += up_rs.bytes;
  ag.bytes += act_ag.bytes;
  return {norm_ar, rs, ag, out_ar};
}

// Phases 1a and 1b of batch-sharded decode attention (tp_layout.h), over the columns.
std::array<TpCollective, 2> batch_shard_alltoalls(const InferenceConfig& cfg, double tokens, double decode,
                                                  std::int64_t layers) {
  const ModelSpec& m = cfg.model;
  const double C = static_cast<double>(cfg.tp_cols), hd = static_cast<double>(m.head_dim);
  const double qh = static_cast<double>(m.heads / cfg.tp_rows);
  // One KV head: every chip of a column computed it for its row's tokens (a replica).
  const double kvm = m.kv_heads > 1 ? 2.0 * static_cast<double>(m.kv_heads_per_rank(cfg.tp_rows)) : 0.0;
  const double in = (decode * (qh + kvm) + (tokens - decode) * kvm) / C * hd * kActivationBytes;
  const double out = decode / C * qh * hd * kActivationBytes;
  return {TpCollective{CollectiveKind::AllToAll, true, in, in > 0 ? layers : 0},
          TpCollective{CollectiveKind::AllToAll, true, out, out > 0 ? layers : 0}};
}

}  // namespace

std::vector<TpCollective> tp2d_collectives(const InferenceConfig& cfg, double tokens, double decode_tokens,
                                           std::int64_t layers) {
  std::vector<TpCollective> phases = tp2d_layer_collectives(cfg, tokens, layers);
  if (cfg.decode_batch_sharded) {
    const auto a2a = batch_shard_alltoalls(cfg, tokens, decode_tokens, layers);
    phases.insert(phases.begin() + 2, a2a.begin(), a2a.end());  // after QKV's reduce-scatter
  }
  return phases;
}

std::vector<std::vector<int>> tp2d_groups(const InferenceConfig& cfg, const std::vector<int>& stage, bool columns) {
  const std::size_t R = static_cast<std::size_t>(cfg.tp_rows), C = static_cast<std::size_t>(cfg.tp_cols);
  std::vector<std::vector<int>> groups(columns ? C : R);
  for (std::size_t row = 0; row < R; ++row)
    for (std::size_t col = 0; col < C; ++col) groups[columns ? col : row].push_back(stage[row * C + col]);
  return groups;
}

}  // namespace llmsim
