// A workload's operations as a DAG (CUDA-graph / XLA-HLO style): each node launches its
// work onto a stream, the network or a device and reports completion; a node starts as
// soon as every node it depends on has finished. Successors of a node start in index
// order, in the instant it finishes, so the schedule is deterministic. The streams,
// devices and links the nodes run on decide how concurrent nodes share resources
// (models/resource_arbiter.h, sim/net/flow_net.h); the graph only orders them.
#pragma once
#include <cstddef>
#include <functional>
#include <vector>

namespace llmsim {

class OpGraph {
 public:
  using Done = std::function<void()>;
  using Launch = std::function<void(Done done)>;

  // Adds a node depending on `deps` (indices of nodes added before it); returns its index.
  int add(Launch launch, std::vector<int> deps = {});
  // Launches every node with no dependencies (call once, at the workload's start).
  void start();

  std::size_t size() const { return nodes_.size(); }
  bool finished(int i) const { return nodes_.at(static_cast<std::size_t>(i)).finished; }
  std::size_t finished_count() const { return finished_; }
  // Launched and not finished (the watchdog's "what still waits").
  std::vector<int> running() const;

 private:
  struct Node {
    Launch launch;
    std::vector<int> succ;
    int pending = 0;  // unfinished dependencies
    bool launched = false, finished = false;
  };
  void launch(int i);
  void finish(int i);

  std::vector<Node> nodes_;
  std::size_t finished_ = 0;
};

}  // namespace llmsim
