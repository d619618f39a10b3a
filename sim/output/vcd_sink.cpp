#include "sim/output/vcd_sink.h"

#include <cstdio>
#include <iostream>
#include <stdexcept>

#include "sim/core/paths.h"
#include "sim/output/atomic_file.h"
#include "sysc/tracing/sc_tracing_ids.h"

namespace llmsim {

VcdSink::VcdSink(VcdOptions options) : opt_(std::move(options)) {
  if (!opt_.filter.empty()) {
    try {
      filter_ = std::regex(opt_.filter, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw std::invalid_argument("'" + opt_.filter + "': not a valid regular expression (" + e.what() + ")");
    }
    has_filter_ = true;
  }
  // SystemC appends ".vcd" to the name it is given.
  std::string base = opt_.path;
  if (base.size() > 4 && base.compare(base.size() - 4, 4, ".vcd") == 0) base.resize(base.size() - 4);
  base += ".tmp";
  tmp_ = base + ".vcd";
  make_dirs(parent_dir(opt_.path));
  tf_ = sc_core::sc_create_vcd_trace_file(base.c_str());
  if (!tf_) throw std::runtime_error("cannot create VCD trace file '" + tmp_ + "'");
  // SimTime is integer picoseconds, as is the kernel's time resolution. SystemC announces
  // the unit with an info message on stderr; a run's stderr is for warnings and errors.
  sc_core::sc_report_handler::set_actions(sc_core::SC_ID_TRACING_TIMESCALE_UNIT_, sc_core::SC_DO_NOTHING);
  tf_->set_time_unit(1, sc_core::SC_PS);
}

VcdSink::~VcdSink() {
  if (tf_) {
    // Unfinished (the run failed): no file is wanted, so SystemC's "closed before any
    // cycles were traced" warning would only be noise under the real error.
    sc_core::sc_report_handler::set_actions(sc_core::SC_ID_TRACING_CLOSE_EMPTY_FILE_, sc_core::SC_DO_NOTHING);
    sc_core::sc_close_vcd_trace_file(tf_);
    std::remove(tmp_.c_str());  // never leave a half-written trace behind
  }
}

bool VcdSink::can_add() const { return sc_core::sc_get_status() == sc_core::SC_ELABORATION; }

int VcdSink::add_signal(const std::string& name) {
  if (has_filter_ && !std::regex_match(name, filter_)) return -1;
  // The object name only has to be unique and legal; the VCD shows the traced name.
  auto sig = std::make_unique<Signal>(sc_core::sc_gen_unique_name("llmsim_vcd"), 0.0);
  sc_core::sc_trace(tf_, *sig, name);
  signals_.push_back(std::move(sig));
  return static_cast<int>(signals_.size()) - 1;
}

int VcdSink::track(const std::string& process, const std::string& thread, int /*sort_index*/) {
  std::string name = thread.empty() ? process : process + "." + thread;
  auto it = track_ids_.find(name);
  if (it != track_ids_.end()) return it->second;
  int id = static_cast<int>(track_names_.size());
  track_names_.push_back(name);
  track_ids_.emplace(name, id);
  if (opt_.counters_of && can_add()) {
    for (const auto& c : opt_.counters_of(process, thread)) signal_for(id, c);
  }
  return id;
}

int VcdSink::signal_for(int track, const std::string& counter) {
  auto key = std::make_pair(track, counter);
  auto it = signal_of_.find(key);
  if (it != signal_of_.end()) return it->second;
  std::string name = track_names_[static_cast<size_t>(track)] + "." + counter;
  int sig = -1;
  if (can_add()) {
    sig = add_signal(name);
  } else if (!has_filter_ || std::regex_match(name, filter_)) {
    if (late_.empty()) late_example_ = name;
    late_.insert(name);
  }
  signal_of_.emplace(key, sig);
  return sig;
}

void VcdSink::declare(const std::string& process, const std::string& thread, const std::string& counter) {
  signal_for(track(process, thread, 0), counter);
}

void VcdSink::counter(int track, const std::string& name, SimTime /*t*/, double value) {
  // t is the current time by the Recorder's contract; SystemC stamps the write with it.
  if (track < 0 || !tf_) return;
  int sig = signal_for(track, name);
  if (sig >= 0) signals_[static_cast<size_t>(sig)]->write(value);
}

void VcdSink::finish(bool /*partial*/) {
  if (!tf_) return;
  // SystemC writes a time step's values when time moves on; the run's last instant has no
  // successor, so its changes (e.g. the final busy -> 0) would be lost. One more
  // picosecond of (empty) simulation records them, stamped with their own time.
  if (sc_core::sc_get_status() == sc_core::SC_PAUSED) sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_PS));
  sc_core::sc_close_vcd_trace_file(tf_);
  tf_ = nullptr;
  if (!late_.empty()) {
    (opt_.warn ? *opt_.warn : std::cerr)
        << "llmsim: warning: signals.vcd: " << late_.size() << " counter(s) first seen after the run started are not"
        << " traced (e.g. '" << late_example_ << "'): SystemC traces only signals that exist at sc_start; declare"
        << " them in vcd_counters_of (sim/engine/sinks.cpp)\n";
  }
  if (std::rename(tmp_.c_str(), opt_.path.c_str()) != 0) {
    std::remove(tmp_.c_str());
    throw std::runtime_error("cannot rename '" + tmp_ + "' to '" + opt_.path + "'");
  }
}

}  // namespace llmsim
