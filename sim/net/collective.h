// Collective algorithms as plans of phases. An algorithm turns (kind, group, bytes) into
// a list of stages; a stage repeats one communication pattern `steps` times (a ring step,
// a halving-doubling round, a torus dimension), so a 4,096-rank ring is one pattern and a
// repeat count, not 8,190 copies. Algorithms live one per file in sim/net/algorithms/ and
// register themselves by name (Ramulator-style), so adding one touches nothing else.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/net/collective_kind.h"
#include "sim/net/collective_library.h"
#include "sim/net/flow_net.h"
#include "sim/topo/topology.h"

namespace llmsim {

struct CollectiveRequest {
  CollectiveKind kind = CollectiveKind::AllReduce;
  std::vector<int> group;   // device indices, in rank order
  Bytes bytes = 0;          // nccl-tests "size" (all-gather: the gathered output)
  int root = 0;             // rank index within group (broadcast / reduce)
  // The collective library whose protocols and channels the plan runs under; nullptr =
  // none: links at their nominal rate, no protocol latency (collective_library.h).
  const CollectiveLibrary* library = nullptr;
};

struct Stage {
  PatternPtr pattern;
  Bytes bytes = 0;          // per pair per step (times the pattern's per-pair weight)
  int steps = 1;
  std::string label;        // which accounting line it belongs to ("dim0", "inter", ...)
  // The protocol's own latency per step (NCCL hwLat: flag polling, FIFO hand-off), paid
  // before each step's data moves (collective_library.h).
  Seconds step_latency = 0;
};

struct Plan {
  std::string algorithm;    // filled by the runner: the algorithm that made it
  std::string protocol;     // the collective library's protocol ("" = none modelled)
  Seconds startup = 0;      // fixed cost before the first stage (set-up, barrier)
  // Pipeline lanes: the data is cut into this many parts that flow through the stages
  // one behind the other, so stages on different links (NVLink, rails) overlap.
  int lanes = 1;
  std::vector<Stage> stages;
  // estimate_plan's time on the idle network, filled on first use (Network::idle_time);
  // negative until then. The plan is immutable otherwise, so the figure never goes stale.
  mutable Seconds idle_estimate = -1;
  // Per-dimension reports (torus dims, hierarchical levels): busbw of a label =
  // busbw_factor(kind, ranks) x bytes / (time spent in the label's stages).
  struct Dim {
    std::string label;
    Bytes bytes = 0;
    int ranks = 0;
  };
  std::vector<Dim> dims;
};

class CollectiveAlgorithm {
 public:
  virtual ~CollectiveAlgorithm() = default;
  // Why this algorithm cannot run `req` on `topo`; "" when it can.
  virtual std::string unsupported(const Topology& topo, const CollectiveRequest& req) const = 0;
  virtual Plan plan(const Topology& topo, const CollectiveRequest& req) const = 0;
};

class AlgorithmRegistry {
 public:
  using Factory = std::function<std::unique_ptr<CollectiveAlgorithm>()>;
  static bool add(const std::string& name, Factory f);
  static const CollectiveAlgorithm* get(const std::string& name);  // nullptr if unknown
  static std::vector<std::string> names();
};

#define LLMSIM_REGISTER_COLLECTIVE(CLASS, NAME)                                      \
  static const bool llmsim_collective_##CLASS = ::llmsim::AlgorithmRegistry::add( \
      NAME, [] { return std::unique_ptr<::llmsim::CollectiveAlgorithm>(new CLASS()); })

// nccl-tests bus-bandwidth factor: all-reduce 2(n-1)/n; all-gather, reduce-scatter and
// all-to-all (n-1)/n; broadcast, reduce and send/recv 1.
double busbw_factor(CollectiveKind kind, int n);

// Analytical time of a plan on an idle network (collective_cost.cpp): the start-up, then
// per stage `steps` x (the stage's step_latency + largest route start-up + max(slowest
// route alone, most loaded directed link: load x bytes / bandwidth)), with Plan::lanes pipelined as
// sum of per-lane stage times + (lanes - 1) x the longest. Exact for the fast path and
// for the bulk path's symmetric contention; close otherwise (max-min sharing may leave the
// busiest link idle part of a step, and the largest start-up and largest drain may belong
// to different routes): within 10 % on the tested trees and hierarchical plans.
Seconds estimate_plan(const Topology& topo, const Plan& plan);

struct AlgorithmCost {
  std::string algorithm;
  Seconds time = 0;
};
// The algorithms `auto` considers for `req`, in tie-break order; `tried` (optional) gets
// "name: why not" for the others.
std::vector<std::string> auto_candidates(const Topology& topo, const CollectiveRequest& req,
                                         std::string* tried = nullptr);
// The plan `algorithm` (a registered name) makes for `req`, under the request's library
// when it has one: each candidate protocol costed, the cheapest kept (Plan::protocol).
Plan plan_for(const Topology& topo, const CollectiveRequest& req, const std::string& algorithm);
// estimate_plan of every candidate's plan (plan_for), in the same order.
std::vector<AlgorithmCost> auto_costs(const Topology& topo, const CollectiveRequest& req);
// The `auto` rule (documented in docs/models.md): the candidate with the least modelled
// time, ties to the earlier candidate. Returns an algorithm name.
std::string choose_algorithm(const Topology& topo, const CollectiveRequest& req);

// Validation before a run: "" when `algorithm` (or auto) can run `req`, else why not
// (the microbench turns this into a positioned InputError).
std::string collective_unsupported(const Topology& topo, const CollectiveRequest& req,
                                   const std::string& algorithm);

// Throws InfeasibleError naming the cut when group members cannot reach each other.
void check_connected(const Topology& topo, const std::vector<int>& group);
// The same against precomputed connected-component labels (link_components).
void check_connected(const Topology& topo, const std::vector<int>& group, const std::vector<int>& components);
// Per vertex; links marked in `down` (per link id; empty = none) do not join.
std::vector<int> link_components(const Topology& topo, const std::vector<char>& down = {});

// Helpers for algorithm files.
PatternPtr make_pattern();
void add_ring(Pattern& p, const std::vector<int>& order, bool reverse = false);
void add_pair(Pattern& p, int src, int dst, double weight = 1);
bool is_power_of_two(int n);
// Switches adjacent to every member that reduce in the network (NVLS / SHARP).
std::vector<int> reducing_switches(const Topology& topo, const std::vector<int>& group);
// Members grouped by node (equal counts) or empty when the group is not node-regular.
std::vector<std::vector<int>> members_by_node(const Topology& topo, const std::vector<int>& group);

}  // namespace llmsim
