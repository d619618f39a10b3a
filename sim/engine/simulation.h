// One simulation = one object tree: the topology it runs on, the elaborated SystemC
// module tree (devices, network), the event queue, the recorder. Nothing global, so
// tests build as many as they like (see docs/architecture.md on SystemC's one kernel).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/model_context.h"
#include "sim/core/event_queue.h"
#include "sim/engine/stats.h"
#include "sim/core/yaml_doc.h"
#include "sim/output/trace_sink.h"
#include "sim/topo/topology.h"

namespace sc_core {
class sc_module;
}

namespace llmsim {

class Device;
class PowerMonitor;
class PowerSeries;
class PowerGroup;
class NodePower;
class Network;

struct RunOptions {
  std::string outdir = "out";
  bool timeline = false;
  bool vcd = false;
  std::string timeline_filter;     // regex on track process names ("" = all)
  std::string vcd_filter;
  std::uint64_t seed = 1;
  bool seed_given = false;         // --seed was on the command line (overrides workload seeds)
  bool progress = false;
  bool quiet = false;
  SimTime max_sim_time = EventQueue::kNever;
  std::uint64_t max_events = 0;    // 0 = unlimited
  double max_wall_s = 0;           // 0 = unlimited
  bool stats_full = false;         // --stats full: per-component statistics in summary.json
  std::uint64_t tie_shuffle = 0;   // debug: randomise same-time event order
  std::vector<Override> overrides;
};

// Models see it through ModelContext (models/model_context.h).
class Simulation : public ModelContext {
 public:
  Simulation(const Topology& topo, RunOptions options);
  ~Simulation() override;
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Builds the module tree (devices with compute core + memory tiers, links, switches).
  // `prefix` makes SystemC names unique when a process builds several simulations.
  void elaborate(const std::string& prefix = "");

  EventQueue& queue() override { return queue_; }
  SimTime now() const override { return queue_.now(); }
  const Topology& topo() const override { return topo_; }
  const RunOptions& options() const { return options_; }
  Recorder& recorder() override { return recorder_; }

  int num_devices() const override { return static_cast<int>(devices_.size()); }
  Device& device(int i) override { return *devices_.at(static_cast<size_t>(i)); }
  Network& network() { return *network_; }
  // Per-device power (time series, cap governor) and the sum over devices.
  PowerMonitor& power(int i) { return *power_.at(static_cast<size_t>(i)); }
  PowerSeries& system_power() { return *system_power_; }
  std::vector<std::unique_ptr<PowerGroup>>& power_groups() { return power_groups_; }
  std::vector<std::unique_ptr<NodePower>>& node_power() { return node_power_; }
  StatsRegistry& stats() { return stats_; }

  // Device `folded` runs none of its own work: `twin` simulates the same work for it
  // (training's folded data-parallel replicas, docs/training.md "Folding"), so the energy
  // and the system power count twin's activity for it too (docs/outputs.md "power").
  void stand_in(int folded, int twin);
  // The device whose activity stands for device d's energy (d itself unless folded).
  int energy_source(int d) const { return twin_.empty() ? d : twin_[static_cast<size_t>(d)]; }
  // The devices' energy up to now (summary.json energy_j), folded devices as their twins.
  Joules devices_energy();

 private:
  const Topology& topo_;
  RunOptions options_;
  EventQueue queue_;
  Recorder recorder_;
  // Group modules for dotted device names ("node3" of "node3.gpu5"), declared before the
  // devices so the devices (their children) are destroyed first.
  std::vector<std::unique_ptr<sc_core::sc_module>> groups_;
  std::map<std::string, sc_core::sc_module*> group_at_;
  sc_core::sc_module* group(const std::string& path);
  std::vector<std::unique_ptr<Device>> devices_;
  std::unique_ptr<Network> network_;
  std::unique_ptr<PowerSeries> system_power_;
  std::vector<std::unique_ptr<PowerGroup>> power_groups_;  // shared caps (`power_cap.total`)
  std::vector<std::unique_ptr<NodePower>> node_power_;     // per node (hierarchies): power counter tracks
  std::vector<std::unique_ptr<PowerMonitor>> power_;  // after devices_: destroyed first
  std::vector<int> twin_;                             // per device: energy_source (empty: every device itself)
  StatsRegistry stats_;
};

}  // namespace llmsim
