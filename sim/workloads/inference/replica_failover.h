// Which serving replicas a device failure takes out (docs/faults.md "Serving"). A replica
// (each of its pipeline engines) is down while any of its devices is; the workload drains
// a failed engine's scheduler and routes its requests again over the engines still up.
#pragma once
#include <cstddef>
#include <vector>

namespace llmsim {

class ReplicaHealth {
 public:
  // One engine's devices ([stage][tp rank]), in engine order.
  void add(const std::vector<std::vector<int>>& stages);
  // A device went down (came back): the engines holding it that just went down (came up).
  std::vector<std::size_t> device_down(int device);
  std::vector<std::size_t> device_up(int device);
  bool up(std::size_t engine) const { return engine >= down_.size() || down_[engine] == 0; }
  bool any_up(std::size_t lo, std::size_t hi) const;

 private:
  std::vector<std::size_t> change(int device, int delta);
  std::vector<std::vector<int>> devices_;  // per engine
  std::vector<int> down_;                  // per engine: how many of its devices are down
};

}  // namespace llmsim
