#include "sim/output/sinks.h"

#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "sim/core/error.h"
#include "sim/engine/simulation.h"
#include "sim/output/chrome_trace.h"
#include "sim/output/vcd_sink.h"

namespace llmsim {

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
    try {
      sim.recorder().add(std::make_unique<VcdSink>(v));
    } catch (const std::invalid_argument& e) {
      throw InputError({"--vcd-filter", 0, 0}, e.what(), "a regex matching whole signal names, e.g. 'gpu0\\..*'");
    }
  }
}

}  // namespace llmsim
