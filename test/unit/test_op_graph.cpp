// [op_graph] The op-graph executor's ordering on its own (no devices: each node's launch
// records itself and keeps its Done; the test finishes nodes by hand), and re-arming a
// finished graph for another run (serving re-runs one graph per iteration).
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "sim/engine/op_graph.h"

namespace test_op_graph {

using namespace llmsim;

namespace {
// A diamond a -> {b, c} -> d whose launches append their name and park their Done.
struct Diamond {
  OpGraph g;
  std::vector<char> launched;
  std::vector<OpGraph::Done> parked = std::vector<OpGraph::Done>(4);
  Diamond() {
    auto node = [this](char name, int i) {
      return [this, name, i](OpGraph::Done done) {
        launched.push_back(name);
        parked[static_cast<std::size_t>(i)] = std::move(done);
      };
    };
    int a = g.add(node('a', 0));
    int b = g.add(node('b', 1), {a});
    int c = g.add(node('c', 2), {a});
    g.add(node('d', 3), {b, c});
  }
  void finish(int i) { parked[static_cast<std::size_t>(i)](); }
};
}  // namespace

TEST_CASE("op graph: a node starts when its last dependency finishes, successors in index order", "[op_graph]") {
  Diamond d;
  d.g.start();
  CHECK(d.launched == std::vector<char>{'a'});
  d.finish(0);
  CHECK(d.launched == std::vector<char>{'a', 'b', 'c'});
  d.finish(2);
  CHECK(d.launched.size() == 3);  // d still waits for b
  CHECK(d.g.running() == std::vector<int>{1});
  d.finish(1);
  CHECK(d.launched.back() == 'd');
  d.finish(3);
  CHECK(d.g.finished_count() == 4);
}

TEST_CASE("op graph: rearm runs a finished graph again, and refuses one still running", "[op_graph]") {
  Diamond d;
  d.g.start();
  d.finish(0);
  CHECK_THROWS_AS(d.g.rearm(), std::logic_error);  // b and c are running
  d.finish(1);
  d.finish(2);
  d.finish(3);
  d.g.rearm();
  CHECK(d.g.finished_count() == 0);
  CHECK_FALSE(d.g.finished(0));
  d.launched.clear();
  d.g.start();
  d.finish(0);
  d.finish(1);
  d.finish(2);
  d.finish(3);
  CHECK(d.launched == std::vector<char>{'a', 'b', 'c', 'd'});
  CHECK(d.g.finished_count() == 4);
}

TEST_CASE("op graph: the last node may re-arm and restart the graph from its launch", "[op_graph]") {
  OpGraph g;
  int runs = 0;
  std::vector<OpGraph::Done> first(1);
  int a = g.add([&](OpGraph::Done done) { first[0] = std::move(done); });
  g.add(
      [&](OpGraph::Done done) {
        done();
        if (++runs < 3) {
          g.rearm();
          g.start();
        }
      },
      {a});
  g.start();
  for (int i = 0; i < 3; ++i) {
    OpGraph::Done finish_first = first[0];  // a copy: the restart parks a new Done in first[0]
    finish_first();                         // the end node then restarts the graph
  }
  CHECK(runs == 3);
  CHECK(g.finished_count() == 2);
}

}  // namespace test_op_graph
