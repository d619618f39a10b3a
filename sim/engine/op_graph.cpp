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
    ++n.pending;
  }
  nodes_.push_back(std::move(n));
  return id;
}

void OpGraph::start() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].pending == 0 && !nodes_[i].launched) launch(static_cast<int>(i));
  }
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
  const std::vector<int> succ = n.succ;  // launching may grow nodes_? no, but keep a copy
  for (int s : succ) {
    Node& m = nodes_[static_cast<std::size_t>(s)];
    if (--m.pending == 0 && !m.launched) launch(s);
  }
}

}  // namespace llmsim
