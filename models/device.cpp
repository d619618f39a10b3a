#include "models/device.h"

#include <memory>
#include <stdexcept>

#include "sim/engine/simulation.h"

namespace llmsim {

Device::Device(const sc_core::sc_module_name& name, int index, const ChipSpec& chip, Simulation& sim)
    : sc_core::sc_module(name), index_(index), chip_(chip), sim_(sim) {
  const auto& v = sim.topo().vertices;
  label_ = index >= 0 && static_cast<size_t>(index) < v.size() ? v[static_cast<size_t>(index)].name
                                                               : std::string(basename());
  // Children are built inside this constructor, so SystemC parents them to this module.
  core_ = std::make_unique<ComputeCore>("compute", chip_, sim_, label_);
  for (const auto& t : chip_.memory) tiers_.push_back(std::make_unique<MemoryTier>(t.tier.c_str(), chip_, t, sim_, label_));
}

bool Device::has_tier(const std::string& name) const {
  for (const auto& t : tiers_) if (t->spec().tier == name) return true;
  return false;
}

MemoryTier& Device::tier(const std::string& name) {
  for (auto& t : tiers_) if (t->spec().tier == name) return *t;
  std::string list;
  for (const auto& t : tiers_) list += (list.empty() ? "" : ", ") + t->spec().tier;
  throw std::out_of_range(label_ + " (" + chip_.name + ") has no memory tier '" + name + "' (tiers: " + list + ")");
}

MemoryTier& Device::placement_tier(const std::string& kind) {
  const PlacementSpec& p = chip_.placement;
  if (kind == "weights") return tier(p.weights);
  if (kind == "kv_cache") return tier(p.kv_cache);
  if (kind == "activations") return tier(p.activations);
  if (kind == "optimizer") return tier(p.optimizer);
  throw std::out_of_range("unknown tensor kind '" + kind + "' (weights, kv_cache, activations, optimizer)");
}

void Device::move(const std::string& from, const std::string& to, Bytes bytes, std::function<void()> done) {
  MemoryTier& a = tier(from);
  MemoryTier& b = tier(to);
  // One read stream and one write stream; on the same tier they share its bandwidth.
  auto left = std::make_shared<int>(2);
  auto fin = [left, done] { if (--*left == 0 && done) done(); };
  a.transfer(bytes, fin);
  b.transfer(bytes, fin);
}

Joules Device::dynamic_energy() const {
  Joules e = core_->energy();
  for (const auto& t : tiers_) e += t->energy();
  return e;
}

}  // namespace llmsim
