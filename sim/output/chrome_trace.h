// Chrome Trace Event Format sink (--timeline -> OUTDIR/timeline.json), the JSON that
// Perfetto UI and chrome://tracing open. Layout: one process (pid) per device / node /
// link group, one thread (tid) per compute core, memory tier or link direction, named
// and ordered by metadata events; "X" spans, "b"/"e" async spans (requests, in their own
// "requests" process), "s"/"f" flow arrows (transfers), "C" counters.
//
// Events are buffered (spans may arrive at their end time, out of order) and written at
// finish(), sorted per track by time. Memory and file size are bounded: past
// `max_events` buffered events the sink keeps every k-th span per track (k doubling as
// needed, by emission order, so the choice is deterministic), flows and async spans
// whose id hashes to a multiple of k, and replaces each run of k counter values by their
// time-weighted mean (so a sampled busy 0/1 counter reads as utilisation). It says so on
// stderr once and in the file's "otherData".
#pragma once
#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/output/chrome_trace_filter.h"
#include "sim/output/trace_sink.h"

namespace llmsim {

class TraceEventWriter;  // sim/output/chrome_trace_write.cpp: the JSON text of one event
struct TraceLayout;      // the same file: written pid, tid and lanes per track

struct ChromeTraceOptions {
  std::string path;                       // e.g. OUTDIR/timeline.json
  std::string filter;                     // --timeline-filter (see chrome_trace_filter.h)
  std::size_t max_events = 2000000;       // buffered-event budget before sampling
  std::ostream* warn = nullptr;           // where the sampling warning goes (nullptr = std::cerr)
};

class ChromeTraceSink : public TraceSink {
 public:
  // Throws std::invalid_argument for a bad filter.
  explicit ChromeTraceSink(ChromeTraceOptions options);

  int track(const std::string& process, const std::string& thread, int sort_index) override;
  void span(int track, const std::string& name, const char* category, SimTime begin, SimTime end,
            const std::string& args_json) override;
  void async_span(const std::string& name, const char* category, std::uint64_t id, SimTime begin,
                  SimTime end) override;
  void counter(int track, const std::string& name, SimTime t, double value) override;
  void flow(int from_track, SimTime from_t, int to_track, SimTime to_t, std::uint64_t id) override;
  void finish(bool partial) override;

  // Introspection for tests and the run summary.
  std::uint64_t stride() const { return stride_; }
  std::uint64_t events_seen() const { return seen_; }
  std::size_t events_buffered() const { return buffered_; }

 private:
  struct Track {
    int pid, tid, sort_index;
    std::string process, thread;
    std::uint64_t spans_seen = 0;  // emission ordinal, the sampling key
  };
  struct Span {
    SimTime begin, end;
    std::uint64_t ord;
    std::uint32_t name, cat;
    std::string args;
  };
  struct Flow {
    SimTime t;
    std::uint64_t id;
    bool start;
  };
  // One counter series (track, name): kept points plus the window being averaged.
  struct Series {
    std::vector<std::pair<SimTime, double>> pts;
    bool open = false;  // a window has started
    SimTime win_start = 0, last_t = 0;
    double last_v = 0, integral = 0;  // integral of value over [win_start, last_t]
    std::uint64_t in_window = 0;
    bool has_pre = false;             // last value before the time window's start
    double pre = 0;
  };
  struct Async {
    SimTime begin, end;
    std::uint64_t id, ord;
    std::uint32_t name, cat;
  };

  std::uint32_t intern(const std::string& s);
  bool keep_id(std::uint64_t id) const;
  void add_point(Series& s, SimTime t, double v);
  void close_window(Series& s);
  void grow();  // doubles the stride and drops what it no longer keeps
  // finish()'s file, in sim/output/chrome_trace_write.cpp: the metadata and numbering,
  // every track's events in time order, the requests, then "otherData".
  void write(std::ostream& os, bool partial);
  TraceLayout write_metadata(TraceEventWriter& w);
  void write_track_events(TraceEventWriter& w, const TraceLayout& l);
  void write_requests(TraceEventWriter& w, int req_pid);
  // Lane per span (index as in `spans`) so that each lane nests properly; returns lanes.
  static int assign_lanes(const std::vector<Span>& spans, std::vector<int>& lane_of);

  ChromeTraceOptions opt_;
  TrackFilter filter_;
  std::vector<Track> tracks_;               // sink track id -> track
  std::map<std::pair<std::string, std::string>, int> track_ids_;
  std::map<std::string, int> pids_;         // process name -> pid (first-appearance order; renumbered by name on write)
  std::vector<int> threads_of_pid_;         // pid - 1 -> threads so far (the next tid)
  std::vector<std::vector<Span>> spans_;    // per track
  std::vector<std::vector<Flow>> flows_;    // per track
  std::map<std::pair<int, std::uint32_t>, Series> series_;
  std::vector<Async> async_;
  std::vector<std::string> strings_;
  // Ids are handed out in first-seen order, so hash order never reaches the output.
  std::unordered_map<std::string, std::uint32_t> string_ids_;
  std::uint64_t stride_ = 1, seen_ = 0, async_seen_ = 0;
  std::size_t buffered_ = 0;
  bool warned_ = false, finished_ = false;
};

// JSON string body escaping (no surrounding quotes); shared with tests.
std::string json_escape(const std::string& s);
// Picoseconds as microseconds with exactly 6 decimals ("1.500000"): integer arithmetic,
// so the text never depends on float rounding.
std::string ps_to_us(SimTime ps);
// "gpu2" before "gpu10": digit runs compare as numbers, the rest as text.
bool natural_less(const std::string& a, const std::string& b);

}  // namespace llmsim
