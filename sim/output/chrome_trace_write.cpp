// ChromeTraceSink's file (timeline.json): written once, at finish(), from the buffered
// tracks, spans, counters, flows and requests (sim/output/chrome_trace.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <ostream>
#include <tuple>

#include "sim/output/chrome_trace.h"

namespace llmsim {

namespace {

std::string counter_value_text(double v) {
  if (!std::isfinite(v)) v = 0;  // JSON has no NaN/Inf; a broken counter must not break the file
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

// The text of one event: the separator before it, the fields every event starts with, and
// each interned string escaped once (names repeat a lot). Counts the events it writes.
class TraceEventWriter {
 public:
  TraceEventWriter(std::ostream& os, const std::vector<std::string>& strings) : os_(os), strings_(strings) {}

  std::ostream& os() { return os_; }
  std::ostream& sep() {
    os_ << (first_ ? "\n" : ",\n");
    first_ = false;
    return os_;
  }
  void meta(const char* what, int pid, int tid, const std::string& key, const std::string& value) {
    sep() << "{\"ph\":\"M\",\"name\":\"" << what << "\",\"pid\":" << pid << ",\"tid\":" << tid << ",\"args\":{\"" << key
          << "\":" << value << "}}";
  }
  // `strings` may grow while the events are written (counter names interned on the way).
  const std::string& esc(std::uint32_t id) {
    if (id >= escaped_.size()) {
      escaped_.resize(strings_.size());
      have_.resize(strings_.size());
    }
    if (!have_[id]) {
      escaped_[id] = json_escape(strings_[id]);
      have_[id] = true;
    }
    return escaped_[id];
  }
  std::ostream& head(const char* ph, std::uint32_t name, std::uint32_t cat, int pid, int tid, SimTime ts) {
    ++written_;
    return sep() << "{\"ph\":\"" << ph << "\",\"name\":\"" << esc(name) << "\",\"cat\":\"" << esc(cat)
                 << "\",\"pid\":" << pid << ",\"tid\":" << tid << ",\"ts\":" << ps_to_us(ts);
  }
  std::uint64_t written() const { return written_; }

 private:
  std::ostream& os_;
  const std::vector<std::string>& strings_;
  bool first_ = true;
  std::uint64_t written_ = 0;
  std::vector<std::string> escaped_;
  std::vector<bool> have_;
};

struct TraceLayout {
  std::vector<size_t> track_order;               // tracks in the order they are written
  std::vector<int> pid_of, tid_of;               // per track, as written
  std::vector<std::vector<int>> lane, lane_tid;  // per track: each span's lane; each lane's tid
  int req_pid = 0;                               // the "requests" process
};

void ChromeTraceSink::write(std::ostream& os, bool partial) {
  os << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[";
  TraceEventWriter w(os, strings_);
  const TraceLayout l = write_metadata(w);
  write_track_events(w, l);
  write_requests(w, l.req_pid);
  os << "\n],\"otherData\":{\"generator\":\"llmsim " << LLMSIM_VERSION << "\",\"time_unit\":\"us\""
     << ",\"partial\":" << (partial ? "true" : "false") << ",\"filter\":\"" << json_escape(filter_.text) << "\""
     << ",\"events_recorded\":" << seen_ << ",\"events_written\":" << w.written()
     << ",\"max_events\":" << opt_.max_events << ",\"sampled\":" << (stride_ > 1 ? "true" : "false")
     << ",\"sample_stride\":" << stride_ << "}}\n";
}

// Metadata: names and the order Perfetto shows them in. Numbers follow names, not the
// order the models opened their tracks: processes in natural name order (gpu2 before
// gpu10), threads by the model's sort index then name. Tracks opened lazily in one
// instant (whichever core started first) must not renumber the file, since same-time
// event order is not an input (--debug-tie-shuffle).
TraceLayout ChromeTraceSink::write_metadata(TraceEventWriter& w) {
  TraceLayout l;
  std::vector<std::string> by_name;
  for (const auto& p : pids_) by_name.push_back(p.first);
  std::sort(by_name.begin(), by_name.end(), natural_less);
  std::map<int, int> pid_rank;  // first-appearance pid -> pid written
  for (const auto& p : pids_) {
    pid_rank[p.second] =
        static_cast<int>(std::lower_bound(by_name.begin(), by_name.end(), p.first, natural_less) - by_name.begin()) + 1;
  }
  for (size_t r = 0; r < by_name.size(); ++r) {
    w.meta("process_name", static_cast<int>(r) + 1, 0, "name", "\"" + json_escape(by_name[r]) + "\"");
    w.meta("process_sort_index", static_cast<int>(r) + 1, 0, "sort_index", std::to_string(r + 1));
  }
  l.track_order.resize(tracks_.size());
  for (size_t i = 0; i < l.track_order.size(); ++i) l.track_order[i] = i;
  std::sort(l.track_order.begin(), l.track_order.end(), [&](size_t a, size_t b) {
    const Track &x = tracks_[a], &y = tracks_[b];
    int px = pid_rank[x.pid], py = pid_rank[y.pid];
    if (px != py) return px < py;
    if (x.sort_index != y.sort_index) return x.sort_index < y.sort_index;
    return natural_less(x.thread, y.thread);
  });
  l.pid_of.resize(tracks_.size());
  l.tid_of.resize(tracks_.size());
  std::map<int, int> next_tid;  // pid written -> next tid
  for (size_t ti : l.track_order) {
    l.pid_of[ti] = pid_rank[tracks_[ti].pid];
    l.tid_of[ti] = ++next_tid[l.pid_of[ti]];
  }
  for (auto& n : next_tid) ++n.second;
  // Spans that overlap without nesting (concurrent flows on one link) would be dropped
  // or misdrawn by Perfetto: they go to extra lanes, threads named "THREAD (2)", ....
  l.lane.resize(tracks_.size());
  l.lane_tid.resize(tracks_.size());
  for (size_t ti : l.track_order) {
    const Track& t = tracks_[ti];
    int lanes = assign_lanes(spans_[ti], l.lane[ti]);
    l.lane_tid[ti].push_back(l.tid_of[ti]);
    for (int k = 1; k < lanes; ++k) l.lane_tid[ti].push_back(next_tid[l.pid_of[ti]]++);
    for (int k = 0; k < lanes; ++k) {
      std::string name = k == 0 ? t.thread : t.thread + " (" + std::to_string(k + 1) + ")";
      const int tid = l.lane_tid[ti][static_cast<size_t>(k)];
      w.meta("thread_name", l.pid_of[ti], tid, "name", "\"" + json_escape(name) + "\"");
      w.meta("thread_sort_index", l.pid_of[ti], tid, "sort_index", std::to_string(t.sort_index));
    }
  }
  l.req_pid = static_cast<int>(by_name.size()) + 1;
  if (!async_.empty()) {
    w.meta("process_name", l.req_pid, 0, "name", "\"requests\"");
    w.meta("process_sort_index", l.req_pid, 0, "sort_index", std::to_string(l.req_pid));
  }
  return l;
}

// Per track, every event in time order. Ties: counters, then spans (longer first, so
// nesting is right), then flow ends (which bind to the slice enclosing them).
void ChromeTraceSink::write_track_events(TraceEventWriter& w, const TraceLayout& l) {
  std::uint32_t flow_name = intern("transfer"), flow_cat = intern("flow"), no_cat = intern("");
  for (size_t ti : l.track_order) {
    const Track& tr = tracks_[ti];
    const int pid = l.pid_of[ti], tid = l.tid_of[ti];
    using Key = std::tuple<SimTime, int, SimTime, std::uint64_t, size_t>;  // ts, kind, -dur, seq, index
    std::vector<Key> order;
    std::vector<std::pair<std::uint32_t, std::pair<SimTime, double>>> counters;
    auto lo = series_.lower_bound({static_cast<int>(ti), 0});
    for (auto it = lo; it != series_.end() && it->first.first == static_cast<int>(ti); ++it) {
      const std::string& cname = strings_[it->first.second];
      std::uint32_t shown = cname == tr.thread ? it->first.second : intern(tr.thread + "." + cname);
      for (const auto& p : it->second.pts) {
        order.emplace_back(p.first, 0, 0, counters.size(), counters.size());
        counters.emplace_back(shown, p);
      }
    }
    const auto& sp = spans_[ti];
    for (size_t i = 0; i < sp.size(); ++i) order.emplace_back(sp[i].begin, 1, sp[i].begin - sp[i].end, sp[i].ord, i);
    const auto& fl = flows_[ti];
    for (size_t i = 0; i < fl.size(); ++i) order.emplace_back(fl[i].t, 2, 0, i, i);
    std::sort(order.begin(), order.end());
    std::ostream& os = w.os();
    for (const auto& k : order) {
      size_t i = std::get<4>(k);
      switch (std::get<1>(k)) {
        case 0:
          w.head("C", counters[i].first, no_cat, pid, tid, counters[i].second.first)
              << ",\"args\":{\"value\":" << counter_value_text(counters[i].second.second) << "}}";
          break;
        case 1: {
          const Span& s = sp[i];
          w.head("X", s.name, s.cat, pid, l.lane_tid[ti][static_cast<size_t>(l.lane[ti][i])], s.begin)
              << ",\"dur\":" << ps_to_us(s.end - s.begin);
          if (!s.args.empty() && s.args.front() == '{') os << ",\"args\":" << s.args;
          else if (!s.args.empty()) os << ",\"args\":{\"info\":\"" << json_escape(s.args) << "\"}";
          os << "}";
          break;
        }
        default: {
          const Flow& f = fl[i];
          w.head(f.start ? "s" : "f", flow_name, flow_cat, pid, tid, f.t) << ",\"id\":" << f.id;
          if (!f.start) os << ",\"bp\":\"e\"";
          os << "}";
        }
      }
    }
  }
}

// Requests: all "b"/"e" in time order. At one instant: first the ends of spans that
// end there, then zero-length spans (each "b" right before its "e"), then the begins,
// so a phase handing over to the next never looks nested in it. Within a class, by id:
// requests settled in one instant are recorded in event order, which is not an input.
void ChromeTraceSink::write_requests(TraceEventWriter& w, int req_pid) {
  using AKey = std::tuple<SimTime, int, std::uint64_t, std::uint64_t, int, size_t>;  // ts, class, id, seq, e?, index
  std::vector<AKey> aorder;
  for (size_t i = 0; i < async_.size(); ++i) {
    bool zero = async_[i].end == async_[i].begin;
    aorder.emplace_back(async_[i].begin, zero ? 1 : 2, async_[i].id, async_[i].ord, 0, i);
    aorder.emplace_back(async_[i].end, zero ? 1 : 0, async_[i].id, async_[i].ord, 1, i);
  }
  std::sort(aorder.begin(), aorder.end());
  for (const auto& k : aorder) {
    const Async& a = async_[std::get<5>(k)];
    w.head(std::get<4>(k) == 0 ? "b" : "e", a.name, a.cat, req_pid, 0, std::get<0>(k))
        << ",\"id\":\"0x" << std::hex << a.id << std::dec << "\"}";
  }
}

}  // namespace llmsim
