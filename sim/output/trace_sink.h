// Observer sinks for timelines: Chrome trace JSON and VCD implement this; models call
// through Recorder, which does nothing when no sink is attached (no cost on the hot path
// beyond one branch: check `recorder.on()` before building names).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/units.h"

namespace llmsim {

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  // A track is one timeline row: process (device/node/link group) + thread (core, tier,
  // link direction). Returns a handle; same names give the same handle.
  virtual int track(const std::string& process, const std::string& thread, int sort_index) = 0;
  virtual void span(int track, const std::string& name, const char* category, SimTime begin,
                    SimTime end, const std::string& args_json) = 0;
  // Async span (a request's queued/prefill/decode phases): id groups them.
  virtual void async_span(const std::string& name, const char* category, std::uint64_t id,
                          SimTime begin, SimTime end) = 0;
  virtual void counter(int track, const std::string& name, SimTime t, double value) = 0;
  // Flow arrow from one track/time to another (a transfer between devices).
  virtual void flow(int from_track, SimTime from_t, int to_track, SimTime to_t, std::uint64_t id) = 0;
  // Writes the file (atomically); called once at the end of the run.
  virtual void finish(bool partial) = 0;
};

class Recorder {
 public:
  bool on() const { return !sinks_.empty(); }
  void add(std::unique_ptr<TraceSink> s) { sinks_.push_back(std::move(s)); }
  int track(const std::string& process, const std::string& thread, int sort_index = 0);
  void span(int track, const std::string& name, const char* category, SimTime begin, SimTime end,
            const std::string& args_json = "");
  void async_span(const std::string& name, const char* category, std::uint64_t id, SimTime begin,
                  SimTime end);
  void counter(int track, const std::string& name, SimTime t, double value);
  void flow(int from_track, SimTime from_t, int to_track, SimTime to_t, std::uint64_t id);
  void finish(bool partial);

 private:
  std::vector<std::unique_ptr<TraceSink>> sinks_;
  // Track handles are per-sink; we hand out one shared id and keep a table per sink.
  std::vector<std::vector<int>> sink_tracks_;
  std::vector<std::pair<std::string, std::string>> track_names_;
};

}  // namespace llmsim
