// Deadlock watchdog (docs/testing.md "Limits"). No shipped workload kind can express a
// deadlock yet (microbench collectives are self-contained; none overrides
// Workload::waiting()), so this drives a tiny test-only kind, registered here, through the
// EventQueue directly, as docs/architecture.md asks of in-process tests: device gpu0 posts a
// receive from gpu1 that gpu1 never sends, while gpu2 keeps computing for 1 ms. When the
// queue drains, waiting() must name the stuck receive, at the simulated time of the stall;
// cmd_run (sim/engine/run.cpp) turns that into exit 3 naming it. The control case (gpu1
// does send) must drain with nothing waiting.
#include <catch2/catch.hpp>

#include <map>

#include "sim/engine/simulation.h"
#include "sim/engine/workload.h"

namespace test_limits_deadlock {

using namespace llmsim;

namespace {

class DeadlockTestWorkload : public Workload {
 public:
  void load(const Doc& doc, const Topology& topo, ChipCatalog&) override {
    Fields f(doc, "workload");
    f.str("kind");
    peer_sends_ = f.boolean("peer_sends", false);
    f.finish();
    (void)topo;
  }
  void start(Simulation& sim) override {
    EventQueue& q = sim.queue();
    // gpu2: ten 100 us compute steps, the progress that precedes the stall.
    for (int i = 1; i <= 10; ++i) q.at(to_simtime(i * 100e-6), [this, &q] { last_progress_ = q.now(); });
    // gpu0 posts a receive from gpu1 at t = 0.
    pending_[{0, 1}] = 0;
    if (peer_sends_) {
      SimTime arrive = to_simtime(500e-6 + sim.topo().route(1, 0).latency);
      q.at(arrive, [this, &q] {
        pending_.erase({0, 1});
        last_progress_ = q.now();
      });
    }
  }
  void report(Simulation&, Json& summary) override { summary["test"] = "deadlock"; }
  std::vector<std::string> waiting(Simulation& sim) override {
    std::vector<std::string> w;
    for (const auto& kv : pending_) {
      w.push_back(sim.topo().vertices[static_cast<size_t>(kv.first.first)].name + ": receive from " +
                  sim.topo().vertices[static_cast<size_t>(kv.first.second)].name + " posted at " +
                  std::to_string(to_seconds(kv.second)) + " s, never sent");
    }
    return w;
  }
  SimTime last_progress() const { return last_progress_; }

 private:
  bool peer_sends_ = false;
  std::map<std::pair<int, int>, SimTime> pending_;  // (receiver, sender) -> posted at
  SimTime last_progress_ = 0;
};

LLMSIM_REGISTER_WORKLOAD(DeadlockTestWorkload, "test-deadlock");

struct Outcome {
  std::vector<std::string> waiting;
  SimTime drained_at = 0, last_progress = 0;
};

Outcome run_in_process(bool peer_sends) {
  ChipCatalog catalog(default_catalog_dir());
  Topology topo = load_topology(load_doc(std::string(LLMSIM_SOURCE_DIR) + "/topologies/dgx-h100.yaml"), catalog);
  Doc doc = parse_doc(std::string("kind: test-deadlock\npeer_sends: ") + (peer_sends ? "true" : "false") + "\n",
                      "deadlock.yaml");
  std::unique_ptr<Workload> w = WorkloadRegistry::make("test-deadlock");
  REQUIRE(w);
  w->load(doc, topo, catalog);
  Simulation sim(topo, RunOptions{});
  w->start(sim);
  sim.queue().run();  // what ScKernel does under sc_start, without the SystemC kernel
  REQUIRE(sim.queue().empty());
  Outcome o;
  o.waiting = w->waiting(sim);
  o.drained_at = sim.now();
  o.last_progress = static_cast<DeadlockTestWorkload&>(*w).last_progress();
  return o;
}

}  // namespace

TEST_CASE("limits: a deadlocked workload is named by waiting() within a second of the stall", "[limits][deadlock]") {
  Outcome stuck = run_in_process(false);
  REQUIRE(stuck.waiting.size() == 1);
  CHECK(stuck.waiting[0].find("gpu0: receive from gpu1") != std::string::npos);
  // The watchdog fires when the queue drains: at the stall, not after some timeout.
  CHECK(stuck.drained_at - stuck.last_progress <= kPsPerSecond);
  CHECK(stuck.drained_at == to_simtime(1e-3));

  Outcome ok = run_in_process(true);
  CHECK(ok.waiting.empty());
  CHECK(ok.drained_at == to_simtime(1e-3));
}

}  // namespace test_limits_deadlock
