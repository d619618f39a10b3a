// A workload's operations as a DAG (CUDA-graph / XLA-HLO style): each node launches its
// work onto a stream, the network or a device and reports completion; a node starts as
// soon as every node it depends on has finished. Successors of a node start in index
// order, in the instant it finishes, so the schedule is deterministic. The streams,
// devices and links the nodes run on decide how concurrent nodes share resources
// (models/resource_arbiter.h, sim/net/flow_net.h); the graph only orders them.
// A graph can be run again once every node has finished (rearm): serving builds one graph
// per replica and re-runs it every iteration instead of allocating nodes each time.
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
  // Resets every node to not launched / not finished with all its dependencies pending,
  // so start() runs the graph again. Only once every node has finished (std::logic_error
  // otherwise); legal from inside the last node's launch, after it called its Done.
  void rearm();
  // Reports node `i` finished (what its launch's Done does; lets a launch hand a plain
  // index to a completion callback instead of wrapping the Done in another closure).
  void complete(int i) { finish(i); }

  std::size_t size() const { return nodes_.size(); }
  bool finished(int i) const { return nodes_.at(static_cast<std::size_t>(i)).finished; }
  std::size_t finished_count() const { return finished_; }
  // Launched and not finished (the watchdog's "what still waits").
  std::vector<int> running() const;

 private:
  struct Node {
    Launch launch;
    std::vector<int> succ;
    int deps = 0;     // dependencies in all
    int pending = 0;  // unfinished dependencies
    bool launched = false, finished = false;
  };
  void launch(int i);
  void finish(int i);

  std::vector<Node> nodes_;
  std::size_t finished_ = 0;
};

}  // namespace llmsim
