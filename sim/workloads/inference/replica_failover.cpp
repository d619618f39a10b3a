#include "sim/workloads/inference/replica_failover.h"

#include <algorithm>

namespace llmsim {

void ReplicaHealth::add(const std::vector<std::vector<int>>& stages) {
  std::vector<int> d;
  for (const auto& s : stages) d.insert(d.end(), s.begin(), s.end());
  devices_.push_back(std::move(d));
  down_.push_back(0);
}

std::vector<std::size_t> ReplicaHealth::change(int device, int delta) {
  std::vector<std::size_t> changed;
  for (std::size_t e = 0; e < devices_.size(); ++e) {
    if (std::find(devices_[e].begin(), devices_[e].end(), device) == devices_[e].end()) continue;
    const bool was_up = down_[e] == 0;
    down_[e] = std::max(0, down_[e] + delta);
    if (was_up != (down_[e] == 0)) changed.push_back(e);
  }
  return changed;
}

std::vector<std::size_t> ReplicaHealth::device_down(int device) { return change(device, 1); }
std::vector<std::size_t> ReplicaHealth::device_up(int device) { return change(device, -1); }

bool ReplicaHealth::any_up(std::size_t lo, std::size_t hi) const {
  for (std::size_t e = lo; e < hi; ++e)
    if (up(e)) return true;
  return false;
}

}  // namespace llmsim
