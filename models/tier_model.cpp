#include "models/tier_model.h"

#include <map>

#include "sim/spec/tier_model_names.h"

namespace llmsim {
namespace {
// Function-local static: registrations run during static initialisation of other
// translation units, in an order C++ does not define, so the table must exist on first use.
// std::map keeps names() sorted, hence deterministic whatever the link order.
std::map<std::string, TierModelRegistry::Factory>& tier_model_table() {
  static std::map<std::string, TierModelRegistry::Factory> t;
  return t;
}
}  // namespace

bool TierModelRegistry::add(const std::string& name, Factory f) {
  tier_model_table()[name] = std::move(f);
  return TierModelNames::add(name);  // for the chip loader (sim/spec/chip.cpp)
}

std::unique_ptr<TierModel> TierModelRegistry::make(const std::string& name, const MemoryTierSpec& spec) {
  auto it = tier_model_table().find(name);
  return it == tier_model_table().end() ? nullptr : it->second(spec);
}

std::vector<std::string> TierModelRegistry::names() {
  std::vector<std::string> n;
  for (const auto& kv : tier_model_table()) n.push_back(kv.first);
  return n;
}

}  // namespace llmsim
