// The network module: links and switches of the topology, flow-level transfers with
// max-min fair sharing, and collectives decomposed into transfers.
#pragma once
#include <systemc>

#include <functional>
#include <string>
#include <vector>

#include "sim/core/units.h"

namespace llmsim {

class Simulation;

enum class CollectiveKind { AllReduce, AllGather, ReduceScatter, AllToAll, Broadcast, Reduce, SendRecv };
const char* collective_name(CollectiveKind k);

struct CollectiveResult {
  Seconds time = 0;
  std::string algorithm;          // the algorithm actually used (after `auto`)
  // nccl-tests definitions: algbw = size / time; busbw = algbw * factor(kind, n).
  BytesPerSecond algbw = 0;
  BytesPerSecond busbw = 0;
};

class Network : public sc_core::sc_module {
 public:
  Network(const sc_core::sc_module_name& name, Simulation& sim);

  // Point-to-point transfer of `bytes` from device `src` to device `dst` along the
  // topology route; `done` runs at completion time.
  void transfer(int src, int dst, Bytes bytes, std::function<void()> done);

  // A collective over `group` (device indices; all participate) with `bytes` per rank
  // (nccl-tests "size"). `algorithm`: auto | ring | tree | direct | halving-doubling |
  // hierarchical | torus | in-switch. `done` receives the result at completion.
  void collective(CollectiveKind kind, const std::vector<int>& group, Bytes bytes, const std::string& algorithm,
                  std::function<void(const CollectiveResult&)> done, int root = 0);

 private:
  Simulation& sim_;
};

}  // namespace llmsim
