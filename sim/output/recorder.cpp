#include "sim/output/trace_sink.h"

namespace llmsim {

int Recorder::track(const std::string& process, const std::string& thread, int sort_index) {
  if (sink_tracks_.size() != sinks_.size()) sink_tracks_.resize(sinks_.size());
  int id = static_cast<int>(track_names_.size());
  track_names_.emplace_back(process, thread);
  for (size_t i = 0; i < sinks_.size(); ++i) sink_tracks_[i].push_back(sinks_[i]->track(process, thread, sort_index));
  return id;
}

void Recorder::span(int track, const std::string& name, const char* category, SimTime begin, SimTime end,
                    const std::string& args_json) {
  for (size_t i = 0; i < sinks_.size(); ++i) sinks_[i]->span(sink_tracks_[i][track], name, category, begin, end, args_json);
}

void Recorder::async_span(const std::string& name, const char* category, std::uint64_t id, SimTime begin,
                          SimTime end) {
  for (auto& s : sinks_) s->async_span(name, category, id, begin, end);
}

void Recorder::counter(int track, const std::string& name, SimTime t, double value) {
  for (size_t i = 0; i < sinks_.size(); ++i) sinks_[i]->counter(sink_tracks_[i][track], name, t, value);
}

void Recorder::flow(int from_track, SimTime from_t, int to_track, SimTime to_t, std::uint64_t id) {
  for (size_t i = 0; i < sinks_.size(); ++i)
    sinks_[i]->flow(sink_tracks_[i][from_track], from_t, sink_tracks_[i][to_track], to_t, id);
}

void Recorder::finish(bool partial) {
  for (auto& s : sinks_) s->finish(partial);
}

}  // namespace llmsim
