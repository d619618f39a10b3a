#include "sim/engine/op_graph.h"

#include <stdexcept>

namespace llmsim {

int OpGraph::add(Launch launch, std::vector<int> deps) {
  const int id = static_cast<int>(nodes_.size());
  Node n;
  n.launch = std::move(launch);
  for (int d : deps) {
    if (d < 0 || d >= id) throw std::invalid_argument("an op can only depend on ops before it");
    nodes_[static_cast<std::size_t>(d)].succ.push_back(id);
    ++n.deps;
  }
  n.pending = n.deps;
  nodes_.push_back(std::move(n));
  return id;
}

void OpGraph::start() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].pending == 0 && !nodes_[i].launched) launch(static_cast<int>(i));
  }
}

void OpGraph::rearm() {
  if (finished_ != nodes_.size()) throw std::logic_error("an op graph is re-armed only after every op finished");
  for (Node& n : nodes_) {
    n.pending = n.deps;
    n.launched = n.finished = false;
  }
  finished_ = 0;
}

std::vector<int> OpGraph::running() const {
  std::vector<int> r;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].launched && !nodes_[i].finished) r.push_back(static_cast<int>(i));
  }
  return r;
}

void OpGraph::launch(int i) {
  Node& n = nodes_[static_cast<std::size_t>(i)];
  n.launched = true;
  n.launch([this, i] { finish(i); });
}

void OpGraph::finish(int i) {
  Node& n = nodes_[static_cast<std::size_t>(i)];
  if (n.finished) return;
  n.finished = true;
  ++finished_;
  // By index, re-reading the node: a launch may add nodes (growing nodes_) or, from the
  // last node, re-arm the graph (its successor list is then finished with).
  for (std::size_t k = 0; k < nodes_[static_cast<std::size_t>(i)].succ.size(); ++k) {
    const int s = nodes_[static_cast<std::size_t>(i)].succ[k];
    Node& m = nodes_[static_cast<std::size_t>(s)];
    if (--m.pending == 0 && !m.launched) launch(s);
  }
}

}  // namespace llmsim
