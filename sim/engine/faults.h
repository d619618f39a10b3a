// Faults as an input (docs/faults.md): a `faults:` list in any workload document, or
// repeated `--fault KIND:TARGET@TIME[+DURATION][,key=value]` on `llmsim run`. Each fault is
// one or two state changes of sim/engine/state_events.h (a link, switch or device going
// down or degraded, a device's clock lowered) at its time and, with a duration, back; the
// workload hears of each (FaultListener) to react: serving re-queues a failed replica's
// requests, training stops its step and reports the restart cost.
#pragma once
#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>
#include <vector>

#include "sim/core/units.h"
#include "sim/core/yaml_doc.h"
#include "sim/engine/state_events.h"
#include "sim/topo/topology.h"

namespace llmsim {

class Simulation;

struct Fault {
  std::string kind;     // link-down | link-degraded | device-down | switch-down | straggler
  std::string target;   // as written: gpu0-gpu1, gpu3, nvswitch0 (docs/topologies.md names)
  SimTime at = 0;
  SimTime duration = 0;  // 0: until the end of the run
  std::string bandwidth;  // link-degraded: "25%" of nominal or a bandwidth ("100 GB/s")
  double slowdown = 0;   // straggler: compute takes (1 + slowdown) times as long
  int device = -1;       // device-down / straggler: the device index (-1 without a topology)
  SourcePos pos;
  TimedEvent begin, end;  // end.apply is empty when the fault lasts to the end
  std::string text() const;        // the compact form, "device-down:gpu3@1.5 s"
  YAML::Node resolved() const;     // the map form, for config.resolved.yaml
};

const std::vector<std::string>& fault_kinds();

// Reads and removes the optional top-level `faults:` of a workload document (so each kind's
// strict loader never sees it). `topo` is empty under `llmsim check`.
std::vector<Fault> take_faults(Doc& doc, const Topology& topo);

// What a workload does with a fault it hears of (FaultListener::fault).
enum class FaultOutcome {
  Apply,    // the state change applies as written
  Handled,  // the workload applied what it models itself (serving pauses a failed device
            // but keeps its links up, so a collective with it waits instead of partitioning)
  StopRun,  // the run ends at this instant (training: a device failure stops the job)
};

// A workload kind that reacts to faults also derives from this (run.cpp finds it with a
// dynamic_cast): `fault(sim, f, begins)` runs when the fault begins or ends, before the
// state change (which it may replace, or turn into the end of the run).
class FaultListener {
 public:
  virtual ~FaultListener() = default;
  virtual FaultOutcome fault(Simulation& sim, const Fault& f, bool begins) = 0;
};

// One `--fault` argument (the `arg`-th, 1-based): errors are positioned at the argument.
Fault parse_fault_flag(const std::string& text, int arg, const Topology& topo);

// Schedules every fault's begin and end (before the workload starts: a fault at 0 s applies
// before the first op); `notify(fault, begins)` runs just before each change and says
// whether it applies (FaultOutcome). With a timeline, each
// fault is a slice on the "faults" track spanning its outage.
void schedule_faults(Simulation& sim, const std::vector<Fault>& faults,
                     std::function<FaultOutcome(const Fault&, bool)> notify);

// The map form of every fault, or an undefined node when there are none.
YAML::Node faults_resolved(const std::vector<Fault>& faults);

}  // namespace llmsim
