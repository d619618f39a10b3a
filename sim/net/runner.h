// Runs collective plans on a FlowNet: stages in order, each stage's steps as phases, time
// accounted per label (torus dimension, hierarchy level). Plain C++ over the event queue,
// so tests drive it without a SystemC module tree; models/network.h wraps it.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/core/event_queue.h"
#include "sim/net/collective.h"
#include "sim/net/collective_kind.h"
#include "sim/net/flow_net.h"
#include "sim/output/trace_sink.h"

namespace llmsim {

class CollectiveRunner {
 public:
  CollectiveRunner(const Topology& topo, EventQueue& queue, Recorder& recorder, FlowNet& flows);

  // See Network::collective.
  void collective(CollectiveKind kind, const std::vector<int>& group, Bytes bytes, const std::string& algorithm,
                  std::function<void(const CollectiveResult&)> done, int root = 0);
  // The collective library plans run under (its protocols and channels); nullptr = none
  // (links at nominal rate). Set before the first collective: cached plans keep theirs.
  void set_library(LibraryPtr library) { library_ = std::move(library); }
  const CollectiveLibrary* library() const { return library_.get(); }
  // The plan `collective` would run for this request (validated, `auto` resolved, the
  // library's protocol applied; cached): Plan::algorithm is "p2p" / "none" for transfers
  // and single-member groups. Throws as `collective` does.
  std::shared_ptr<const Plan> resolve(CollectiveKind kind, const std::vector<int>& group, Bytes bytes,
                                      const std::string& algorithm, int root = 0);
  // Creates every device's collective track now (VCD signals must exist before sc_start).
  void create_tracks();

 private:
  struct Run;
  void begin(const std::shared_ptr<Run>& run);
  void step(const std::shared_ptr<Run>& run, int lane);
  void finish(const std::shared_ptr<Run>& run);
  int device_track(int device);

  const Topology& topo_;
  LibraryPtr library_;
  EventQueue& q_;
  Recorder& rec_;
  FlowNet& flows_;
  std::unordered_map<std::string, std::shared_ptr<const Plan>> plans_;  // reused across identical calls
  // `auto`'s choice per validated request key: costing every candidate is several plans'
  // work, and serving issues thousands of distinct sizes, more than plans_ keeps.
  std::unordered_map<std::string, std::string> auto_choice_;
  std::vector<int> device_tracks_;
  std::vector<int> components_;  // connected component per vertex, computed on first use
  // With links down (FlowNet::set_link_up): components over the links up, per epoch.
  void check_cut(const std::vector<int>& group);
  std::vector<int> cut_components_;
  std::uint64_t cut_epoch_ = 0;
};

// Convenience for tests and tools: runs one collective alone on a fresh queue and returns
// its result (fast path on or off).
CollectiveResult run_collective(const Topology& topo, CollectiveKind kind, const std::vector<int>& group, Bytes bytes,
                                const std::string& algorithm, bool fast_path = true, int root = 0,
                                FlowNet::Stats* stats = nullptr, std::uint64_t* events = nullptr,
                                const CollectiveLibrary* library = nullptr);

}  // namespace llmsim
