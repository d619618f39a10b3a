#include "sim/engine/sinks.h"

#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "sim/core/error.h"
#include "sim/engine/simulation.h"
#include "sim/output/chrome_trace.h"
#include "sim/output/vcd_sink.h"
#include "sim/spec/chip.h"
#include "sim/topo/topology.h"

namespace llmsim {
namespace {

// SystemC traces only signals that exist at sc_start, but models emit most counters for
// the first time during the run (a compute core's busy at its first op, a link's
// utilisation at its first flow). So the VCD sink is told which counters each kind of
// track carries, as the models name them (models/compute_core.cpp,
// models/memory_tier.cpp, sim/net/flow_net.cpp), and creates their signals when the track
// is opened. A model adding a counter adds it here.
std::vector<std::string> vcd_counters_of(const std::string& process, const std::string& thread) {
  if (thread == "compute" || thread == "compute1" || thread == "copy") return {"busy"};  // device streams
  if (thread == "power") return {"power_w", "clock_ghz"};  // models/power_governor.cpp
  if (thread == "node_power") return {"power_w"};          // NodePower, same file
  // Link directions: "gpu0-sw0.to_sw0" under their fabric (sim/topo/module_names.h).
  if (process == "links" || thread.find(".to_") != std::string::npos) return {"utilisation"};
  if (thread == "sram" || thread == "hbm" || thread == "ddr" || thread == "lpddr") return {"occupancy_bytes", "streams"};
  return {};
}

// Compute cores and memory tiers open their tracks at first use, during the run: open
// them now, under the names the models will use (a device's topology vertex name).
void open_device_tracks(const Topology& topo, VcdSink& vcd) {
  for (int i = 0; i < topo.num_devices(); ++i) {
    const std::string& dev = topo.vertices[static_cast<size_t>(i)].name;
    for (const char* stream : {"compute", "compute1", "copy"}) vcd.track(dev, stream, 0);
    if (const ChipSpec* chip = topo.device_chip[static_cast<size_t>(i)]) {
      for (const auto& t : chip->memory) vcd.track(dev, t.tier, 1);
    }
    vcd.track(dev, "power", 2);
  }
}

}  // namespace

// Called before elaborate(), so the VCD sink exists (and can create its signals) while
// models declare their tracks, before sc_start. A bad filter is bad input (exit 2),
// reported before anything is simulated or written.
void attach_sinks(Simulation& sim) {
  const RunOptions& o = sim.options();
  if (o.timeline) {
    ChromeTraceOptions c;
    c.path = o.outdir + "/timeline.json";
    c.filter = o.timeline_filter;
    // The size guard's limit; an environment knob rather than a flag because few need it.
    if (const char* env = std::getenv("LLMSIM_TIMELINE_MAX_EVENTS")) {
      char* end = nullptr;
      unsigned long long v = std::strtoull(env, &end, 10);
      if (end == env || *end != '\0' || v == 0) {
        throw InputError({"LLMSIM_TIMELINE_MAX_EVENTS", 0, 0}, std::string("'") + env + "' is not a positive integer");
      }
      c.max_events = static_cast<std::size_t>(v);
    }
    try {
      sim.recorder().add(std::make_unique<ChromeTraceSink>(c));
    } catch (const std::invalid_argument& e) {
      throw InputError({"--timeline-filter", 0, 0}, e.what(), "syntax: REGEX[@T0:T1], e.g. 'gpu[0-3]' or 'gpu0@0.5:1.0'");
    }
  }
  if (o.vcd) {
    VcdOptions v;
    v.path = o.outdir + "/signals.vcd";
    v.filter = o.vcd_filter;
    v.counters_of = vcd_counters_of;
    std::unique_ptr<VcdSink> sink;
    try {
      sink = std::make_unique<VcdSink>(v);
    } catch (const std::invalid_argument& e) {
      throw InputError({"--vcd-filter", 0, 0}, e.what(), "a regex matching whole signal names (PROCESS.THREAD.COUNTER), e.g. 'gpu0\\..*'");
    }
    open_device_tracks(sim.topo(), *sink);
    sim.recorder().add(std::move(sink));
  }
}

}  // namespace llmsim
