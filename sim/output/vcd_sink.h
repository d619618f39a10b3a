// VCD sink (--vcd -> OUTDIR/signals.vcd) on SystemC's own tracing: one sc_signal<double>
// per counter track, registered with sc_trace, so the file is exactly what SystemC
// records and GTKWave opens it as any SystemC model's trace.
//
// Signals are named `PROCESS.THREAD.COUNTER` (`gpu0.compute.busy`,
// `gpu0.hbm.occupancy_bytes`, `links.gpu0->sw0.utilisation`); SystemC's VCD writer turns
// the dots into scopes, under a top scope "SystemC". SystemC fixes the traced set at
// sc_start, so a signal must be created before it: by track() during elaboration (for
// the counters `counters_of` says the track carries), by declare(), or by a counter()
// call made during elaboration. A counter first seen during the run cannot be traced;
// finish() names such counters in one warning.
// counter() writes the signal; SystemC records the value at the SystemC time of the
// write, which is the event's time because models run inside the kernel's SC_METHOD
// (models/sc_kernel.h). Tracks without counters (spans only) get no signal.
//
// The trace file is written to SIGNALS.tmp.vcd and renamed to signals.vcd at finish(),
// so the file appears whole or not at all; an unfinished sink removes its temporary.
#pragma once
#include <systemc>

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/output/trace_sink.h"

namespace llmsim {

struct VcdOptions {
  std::string path;            // e.g. OUTDIR/signals.vcd
  std::string filter;          // --vcd-filter: ECMAScript regex, whole match on signal names
  std::ostream* warn = nullptr;  // nullptr = std::cerr
  // The counters a track will carry, by its names (the models' conventions, given by
  // attach_sinks): track() declares them at once, so their signals exist before sc_start.
  std::function<std::vector<std::string>(const std::string& process, const std::string& thread)> counters_of;
};

class VcdSink : public TraceSink {
 public:
  // Throws std::invalid_argument for a bad filter. Must be built before sc_start.
  explicit VcdSink(VcdOptions options);
  ~VcdSink() override;

  int track(const std::string& process, const std::string& thread, int sort_index) override;
  void span(int, const std::string&, const char*, SimTime, SimTime, const std::string&) override {}
  void async_span(const std::string&, const char*, std::uint64_t, SimTime, SimTime) override {}
  void counter(int track, const std::string& name, SimTime t, double value) override;
  // Creates the signal PROCESS.THREAD.COUNTER now (before sc_start), unless filtered out.
  void declare(const std::string& process, const std::string& thread, const std::string& counter);
  void flow(int, SimTime, int, SimTime, std::uint64_t) override {}
  void finish(bool partial) override;

  std::size_t signals() const { return signals_.size(); }

 private:
  using Signal = sc_core::sc_signal<double, sc_core::SC_MANY_WRITERS>;
  int add_signal(const std::string& name);
  int signal_for(int track, const std::string& counter);  // -1: filtered out or too late
  bool can_add() const;

  VcdOptions opt_;
  bool has_filter_ = false;
  std::regex filter_;
  std::string tmp_;
  sc_core::sc_trace_file* tf_ = nullptr;
  std::vector<std::unique_ptr<Signal>> signals_;
  std::vector<std::string> track_names_;                  // sink track id -> PROCESS.THREAD
  std::map<std::string, int> track_ids_;
  std::map<std::pair<int, std::string>, int> signal_of_;  // (track, counter) -> signal or -1
  std::set<std::string> late_;                            // counters seen only after sc_start
  std::string late_example_;
};

}  // namespace llmsim
