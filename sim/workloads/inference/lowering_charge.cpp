// The lowering's op-cost memo: estimate_op is pure, and an hour-long trace repeats a few
// hundred op shapes, so each shape is costed once and found again by its exact key
// (lowering.h "ChargeSlot").
#include <cstring>

#include "sim/workloads/inference/lowering.h"

namespace llmsim {

std::uint64_t OpShapeKey::hash() const {
  // One multiply per field (a bijection of the 64 bits, so no field's bits are lost), then
  // splitmix64's finaliser once to bring the high bits down to the slot index. Running the
  // finaliser per field was a 20-step chain of dependent multiplies (charge: 12 % of
  // serve-hour's CPU before, 8 % after).
  std::uint64_t h = 0;
  for (std::int64_t f : fields) h = (h ^ static_cast<std::uint64_t>(f)) * 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

bool Lowering::shape_key(const Op& op, OpShapeKey& key) const {
  if (!op.from.empty() || !op.to.empty() || !op.stream_tier.empty() || !op.pattern.is_default()) return false;
  std::int64_t dtype = -1;
  for (std::size_t i = 0; i < dtypes_.size(); ++i)
    if (op.dtype == *dtypes_[i]) dtype = static_cast<std::int64_t>(i);
  if (dtype < 0) return false;
  auto bits = [](double d) {
    std::int64_t b;
    std::memcpy(&b, &d, sizeof b);
    return b;
  };
  // clang-format off
  key.fields = {static_cast<std::int64_t>(op.kind), dtype, op.m, op.n, op.k, op.batch, op.heads, op.kv_heads,
                op.head_dim, op.q_len, op.kv_len, op.causal ? 1 : 0, op.v_head_dim, op.shared_kv ? 1 : 0,
                op.elements, bits(op.flops_per_element), bits(op.bytes), op.weights_on_chip ? 1 : 0,
                op.grouped_rows, op.softmax_overlapped ? 1 : 0, op.warp_mma ? 1 : 0, op.kv_paged ? 1 : 0,
                bits(op.softmax_exposed)};
  // clang-format on
  return true;
}

OpCharge Lowering::charge_uncached(const Op& op) const {
  const OpCost oc = estimate_op(op, chip_);
  OpCharge c;
  c.time = oc.time;
  c.memory_time = oc.memory_time;
  c.flops = oc.flops;
  c.bytes = oc.bytes;
  c.energy = oc.energy;
  c.memory_bound = oc.memory_bound;
  c.on_kv_tier = oc.tier == chip_.placement.kv_cache;
  return c;
}

OpCharge Lowering::charge(const Op& op) const {
  // 8,192 slots (1.6 MB): a decode-heavy hour hits for all but its new shapes.
  constexpr std::size_t kChargeSlots = std::size_t{1} << 13;
  OpShapeKey key;
  if (!shape_key(op, key)) return charge_uncached(op);
  if (charges_.empty()) charges_.resize(kChargeSlots);
  ChargeSlot& slot = charges_[key.hash() & (kChargeSlots - 1)];
  if (!slot.used || !(slot.key == key)) {
    slot.charge = charge_uncached(op);
    slot.key = key;
    slot.used = true;
  }
  return slot.charge;
}

}  // namespace llmsim
