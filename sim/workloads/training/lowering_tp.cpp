// The tensor-parallel collectives of a training pass (lowering.h), and their overlap with
// the GEMMs that produce or consume them when the software stack decomposes them
// (tensor_parallel.comm_overlap: XLA's collective matmul [XLA-CM], Megatron-Core /
// Transformer Engine's tp_comm_overlap [NEMO-TPOVERLAP]). docs/training.md "TP overlap".
#include <algorithm>
#include <cmath>

#include "sim/workloads/training/lowering.h"

namespace llmsim {
namespace {

// Summed as the executor runs a pass (executor.cpp as_cost): one compute-bound aggregate
// lasting the ops' estimated times, overheads included.
void add_cost(OpCost& to, const OpCost& c, double n) {
  to.time += c.time * n;
  to.compute_time += c.time * n;
  to.flops += c.flops * n;
  to.bytes += c.bytes * n;
  to.energy += c.energy * n;
}

// The GEMMs of a layer's forward by name (layer_forward_ops), and a layer's two sides:
// attention (column-parallel QKV in, row-parallel output out) and MLP (up in, down out).
struct Side {
  std::vector<Op> in, out;
};

}  // namespace

// One collective kind paired with `gemms` (one occurrence = one of each): each GEMM is cut
// into row blocks, one per decomposed step (the AG + GEMM and GEMM + RS decompositions shard
// the token rows): tp steps of one shard's rows, or on a bidirectional ring (the stack's
// comm_overlap_directions = 2) ceil(tp / 2) steps of two shards' rows. Per occurrence one
// block runs before the collective (the first gathered shard is local; the last scattered
// partial is reduced after it), and the others beside it: the occurrence lasts
// block + max((steps - 1) x block, collective) instead of GEMM + collective. Each block
// reads the GEMM's whole weight, so fewer, taller blocks matter where a block's rows are
// too few to cover that read.
CommStep TrainingLowering::overlapped(CollectiveKind kind, Bytes bytes, std::int64_t count,
                                      const std::vector<Op>& gemms, PassCost& pass) const {
  const std::int64_t n = cfg_.par.tp;
  const std::int64_t shards = std::min(n, cfg_.software.tp_comm_overlap_directions);
  const std::int64_t steps = (n + shards - 1) / shards;
  CommStep st(kind, bytes, count);
  st.chunks = steps;
  OpCost whole, block;
  for (const Op& g : gemms) {
    add_cost(whole, estimate_op(g, chip_), 1);
    Op piece = g;
    piece.m = (g.m * shards + n - 1) / n;
    add_cost(block, estimate_op(piece, chip_), 1);
  }
  const double times = static_cast<double>(count);
  add_cost(st.beside, block, times * static_cast<double>(steps - 1));
  // The pass keeps everything else plus the first / last block of each occurrence.
  accumulate(pass, whole, -times);
  accumulate(pass, block, times);
  return st;
}

// Megatron-LM: per layer two all-reduces forward (attention and MLP outputs) and two
// backward (their input gradients); with sequence parallelism each becomes an all-gather
// before the side's first GEMM and a reduce-scatter after its last (same bytes, Korthikanti
// §4.2.2). Full recompute re-runs the forward's inside the backward. A parallel block (PaLM,
// GPT-J, GPT-NeoX) feeds attention and MLP the same normed input and adds both row-parallel
// outputs into one residual: one all-reduce (or gather + scatter) per layer each way [PALM].
// With overlap, a forward gather pairs with the side's input GEMM, a forward reduction with
// its output GEMM; backward, the input gradient's reduction (RS / AR) with the input GEMM's
// data-gradient GEMM, the output gradient's gather with the output GEMM's. An MoE layer's
// expert side keeps its collectives after the compute (not decomposed here).
std::vector<CommStep> TrainingLowering::tp_steps(bool forward, std::int64_t layers, PassCost& pass) const {
  const ModelSpec& m = cfg_.model;
  const bool sp = cfg_.par.sequence_parallel, full = cfg_.par.recompute == "full";
  const Bytes b = static_cast<double>(cfg_.tokens_per_rank()) * static_cast<double>(m.hidden) * kTrainActivationBytes;
  if (!cfg_.software.tp_comm_overlap) {
    const std::int64_t per_layer = m.parallel_block ? 1 : 2;
    const std::int64_t n = forward ? per_layer * layers : per_layer * layers * (full ? 2 : 1);
    if (!sp) return {{CollectiveKind::AllReduce, b, n}};
    return {{CollectiveKind::AllGather, b, n}, {CollectiveKind::ReduceScatter, b, n}};
  }
  std::vector<Op> ops = layer_forward_ops();
  auto named = [&ops](const char* name) {
    for (const Op& o : ops)
      if (o.name == name) return std::vector<Op>{o};
    return std::vector<Op>{};  // MoE: no dense MLP GEMM, the side is not decomposed
  };
  std::vector<Side> sides = {{named("qkv"), named("attn_out")}, {named("mlp_up"), named("mlp_down")}};
  if (m.parallel_block) {
    for (const Op& o : sides[1].in) sides[0].in.push_back(o);
    for (const Op& o : sides[1].out) sides[0].out.push_back(o);
    sides.pop_back();
  }
  auto dgrad = [this](const std::vector<Op>& g) {  // dX[m,k] = dY[m,n] W^T[n,k]
    std::vector<Op> out;
    for (const Op& o : g) out.push_back(gemm("dgrad", o.m, o.k, o.n, o.batch));
    return out;
  };
  std::vector<CommStep> steps;
  auto add = [&](CollectiveKind kind, const std::vector<Op>& gemms) {
    if (gemms.empty()) {
      steps.push_back({kind, b, layers});
      return;
    }
    steps.push_back(overlapped(kind, b, layers, gemms, pass));
  };
  const CollectiveKind reduce = sp ? CollectiveKind::ReduceScatter : CollectiveKind::AllReduce;
  for (const Side& side : sides) {
    if (forward || full) {  // the forward's (again inside the backward with full recompute)
      if (sp) add(CollectiveKind::AllGather, side.in);
      add(reduce, side.out);
    }
    if (forward) continue;
    add(reduce, dgrad(side.in));
    if (sp) add(CollectiveKind::AllGather, dgrad(side.out));
  }
  return steps;
}

}  // namespace llmsim
