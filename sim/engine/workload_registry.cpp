#include <map>

#include "sim/engine/workload.h"

namespace llmsim {
namespace {
std::map<std::string, WorkloadRegistry::Factory>& workload_table() {
  static std::map<std::string, WorkloadRegistry::Factory> t;
  return t;
}
}  // namespace

bool WorkloadRegistry::add(const std::string& kind, Factory f) {
  workload_table()[kind] = std::move(f);
  return true;
}

std::unique_ptr<Workload> WorkloadRegistry::make(const std::string& kind) {
  auto it = workload_table().find(kind);
  return it == workload_table().end() ? nullptr : it->second();
}

std::vector<std::string> WorkloadRegistry::kinds() {
  std::vector<std::string> k;
  for (const auto& kv : workload_table()) k.push_back(kv.first);
  return k;
}

}  // namespace llmsim
