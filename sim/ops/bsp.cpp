// BSP supersteps (bsp.h). What an operator exchanges depends on how it is split over the
// tiles, which Poplar plans per operator; here the planner takes the split that exchanges
// least.
#include <algorithm>
#include <cmath>

#include "sim/ops/bsp.h"

namespace llmsim {

namespace {

constexpr double kPartialBytes = 4;  // split-K partial sums are reduced in fp32

struct Exchange {
  double bytes = 0;      // received by all tiles together
  double receivers = 1;  // tiles receiving at once
  int supersteps = 1;    // syncs
};

// A GEMM batch entry on `q` tiles as pm x pn x pk blocks: a tile computes an
// (M/pm) x (N/pn) block over K/pk and needs that slice of A and of B, so A is received pn
// times and B pm times (every tile listens to the holder of its slice; a broadcast costs
// the receivers, not the sender); a K split adds a second superstep that reduces the pk
// fp32 partials of every output. Operands start spread evenly over the tiles (Poplar's
// linear mapping of a tensor another operator produced). The split is the one that
// exchanges least among those keeping more than half of the q tiles busy (the compute is
// timed on all of them): pm and pn powers of two, pk the rest. A fixed candidate set and
// costs that grow with M, N and K keep the exchange monotone in the shape.
Exchange gemm_exchange(const Op& op, const ChipSpec& chip, double w_b, double a_b) {
  const double M = static_cast<double>(op.m), N = static_cast<double>(op.n), K = static_cast<double>(op.k);
  const double batch = static_cast<double>(op.batch);
  const double A = M * K * a_b;
  const double B = op.weights_on_chip ? 0.0 : K * N * w_b;
  const std::int64_t units = chip.compute.units;
  const std::int64_t q = std::max<std::int64_t>(1, units / op.batch);
  Exchange best;
  double best_per_tile = -1;
  for (std::int64_t pm = 1; pm <= q; pm *= 2) {
    for (std::int64_t pn = 1; pm * pn <= q; pn *= 2) {
      const std::int64_t pk = q / (pm * pn);  // floor(x) > x / 2: over half the tiles busy
      const double tiles = static_cast<double>(pm * pn * pk);
      const double bytes = A * static_cast<double>(pn) + B * static_cast<double>(pm) +
                           static_cast<double>(pk - 1) * M * N * kPartialBytes;
      if (best_per_tile < 0 || bytes / tiles < best_per_tile) {
        best_per_tile = bytes / tiles;
        best.bytes = batch * bytes;
        best.receivers = std::min(static_cast<double>(units), batch * tiles);
        best.supersteps = pk > 1 ? 2 : 1;
      }
    }
  }
  return best;
}

// Attention: each (sequence, head) pair goes to its own tiles and, when there are fewer
// pairs than tiles, its queries split over s tiles, each of which needs that head's whole
// K and V. Keys and values computed this step (training, prefill: q_len of them) start
// spread over the tiles and reach all s; a KV cache is a persistent tensor laid out where
// its attention reads it, so cached rows reach only the s - 1 other query tiles. Scores
// and values are two supersteps (the softmax's row reduction sits between them).
Exchange attention_exchange(const Op& op, const ChipSpec& chip, double b) {
  const double batch = static_cast<double>(op.batch), heads = static_cast<double>(op.heads);
  const double hd = static_cast<double>(op.head_dim);
  const double vhd = op.v_head_dim > 0 ? static_cast<double>(op.v_head_dim) : hd;
  const double q_bytes = batch * heads * static_cast<double>(op.q_len) * hd * b;
  // K and V rows as each head reads them (a KV head serves heads / kv_heads query heads;
  // MLA reads one tensor).
  const double row = batch * heads * (op.shared_kv ? hd : hd + vhd) * b;
  const double fresh = static_cast<double>(std::min(op.kv_len, op.q_len));
  const double cached = static_cast<double>(op.kv_len) - fresh;
  const double pairs = batch * heads;
  const double s =
      std::clamp(std::floor(static_cast<double>(chip.compute.units) / pairs), 1.0, static_cast<double>(op.q_len));
  Exchange e;
  e.bytes = q_bytes + row * (fresh * s + cached * (s - 1));
  e.receivers = std::min(static_cast<double>(chip.compute.units), pairs * s);
  e.supersteps = 2;
  return e;
}

Exchange exchange_of(const Op& op, const ChipSpec& chip) {
  const std::string dt = resolve_dtype(op.dtype, chip);
  const double b = dtype_bytes(dt);
  Exchange e;
  e.receivers = static_cast<double>(chip.compute.units);
  switch (op.kind) {
    case OpKind::Gemm: return gemm_exchange(op, chip, b, activation_bytes(dt));
    case OpKind::Attention: return attention_exchange(op, chip, b);
    // A row reduction regathers rows that the producing GEMM left split over its column
    // tiles: the input crosses the exchange once.
    case OpKind::Norm:
    case OpKind::Softmax:
    case OpKind::Sampling:
    case OpKind::Embedding: e.bytes = static_cast<double>(op.m) * static_cast<double>(op.n) * b; return e;
    // Elementwise operators run on the tiles that hold their operands: one compute set.
    default: return e;
  }
}

}  // namespace

namespace {
BspSpec read_bsp(const ChipSpec& chip) {
  BspSpec b;
  const YAML::Node compute = chip.resolved ? chip.resolved["compute"] : YAML::Node();
  const YAML::Node x = compute && compute.IsMap() ? compute["exchange"] : YAML::Node();
  if (!x || !x.IsMap()) return b;  // a kernel chip, or a chip built in code
  b.bytes_per_cycle = x["bytes_per_cycle"].as<double>();
  b.sync_cycles = x["sync_cycles"].as<double>();
  return b;
}
}  // namespace

BspSpec bsp_of(const ChipSpec& chip) {
  // Asked for every operator a serving run costs (serve-hour: millions): the YAML lookups
  // cost ~4 % of that run, so the last chip document's answer is kept. The cache holds a
  // reference to that document, so no other chip's document can take its identity.
  static YAML::Node last_doc;
  static BspSpec last;
  if (!chip.resolved) return read_bsp(chip);
  if (last_doc && last_doc.is(chip.resolved)) return last;
  last = read_bsp(chip);
  last_doc.reset(chip.resolved);
  return last;
}

Seconds bsp_exchange_time(const Op& op, const ChipSpec& chip) {
  const BspSpec bsp = bsp_of(chip);
  if (!bsp.on() || op.kind == OpKind::Copy) return 0;
  const Exchange e = exchange_of(op, chip);
  return e.bytes / (e.receivers * bsp.bytes_per_cycle * chip.clock) +
         static_cast<double>(e.supersteps) * bsp.sync_cycles / chip.clock;
}

}  // namespace llmsim
