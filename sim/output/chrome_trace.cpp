#include "sim/output/chrome_trace.h"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <tuple>

#include "sim/core/hash.h"
#include "sim/output/atomic_file.h"

namespace llmsim {

namespace {

std::string fmt_value(double v) {
  if (!std::isfinite(v)) v = 0;  // JSON has no NaN/Inf; a broken counter must not break the file
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}


}  // namespace

ChromeTraceSink::ChromeTraceSink(ChromeTraceOptions options)
    : opt_(std::move(options)), filter_(TrackFilter::parse(opt_.filter)) {}

std::uint32_t ChromeTraceSink::intern(const std::string& s) {
  auto it = string_ids_.find(s);
  if (it != string_ids_.end()) return it->second;
  auto id = static_cast<std::uint32_t>(strings_.size());
  strings_.push_back(s);
  string_ids_.emplace(s, id);
  return id;
}

bool ChromeTraceSink::keep_id(std::uint64_t id) const { return splitmix64(id) % stride_ == 0; }

int ChromeTraceSink::track(const std::string& process, const std::string& thread, int sort_index) {
  if (!filter_.keeps_name(process)) return -1;
  auto key = std::make_pair(process, thread);
  auto it = track_ids_.find(key);
  if (it != track_ids_.end()) return it->second;
  auto p = pids_.find(process);
  int pid = p != pids_.end() ? p->second : static_cast<int>(pids_.size()) + 1;
  if (p == pids_.end()) {
    pids_.emplace(process, pid);
    threads_of_pid_.push_back(0);
  }
  int tid = ++threads_of_pid_[static_cast<size_t>(pid - 1)];
  int id = static_cast<int>(tracks_.size());
  tracks_.push_back({pid, tid, sort_index, process, thread});
  spans_.emplace_back();
  flows_.emplace_back();
  track_ids_.emplace(key, id);
  return id;
}

void ChromeTraceSink::span(int track, const std::string& name, const char* category, SimTime begin, SimTime end,
                           const std::string& args_json) {
  if (track < 0 || !filter_.keeps_time(begin, end)) return;
  ++seen_;
  Track& tr = tracks_[static_cast<size_t>(track)];
  std::uint64_t ord = tr.spans_seen++;
  if (ord % stride_ != 0) return;
  spans_[static_cast<size_t>(track)].push_back(
      {begin, std::max(begin, end), ord, intern(name), intern(category ? category : ""), args_json});
  ++buffered_;
  if (buffered_ > opt_.max_events) grow();
}

void ChromeTraceSink::async_span(const std::string& name, const char* category, std::uint64_t id, SimTime begin,
                                 SimTime end) {
  // Requests live in their own process and ignore the name regex: a view filtered to a few
  // devices still shows what the cluster was serving.
  if (!filter_.keeps_time(begin, end)) return;
  seen_ += 2;
  std::uint64_t ord = async_seen_++;
  if (!keep_id(id)) return;
  async_.push_back({begin, std::max(begin, end), id, ord, intern(name), intern(category ? category : "")});
  buffered_ += 2;
  if (buffered_ > opt_.max_events) grow();
}

void ChromeTraceSink::counter(int track, const std::string& name, SimTime t, double value) {
  if (track < 0 || t > filter_.t1) return;
  Series& s = series_[{track, intern(name)}];
  if (t < filter_.t0) {
    s.has_pre = true;
    s.pre = value;
    return;
  }
  ++seen_;
  if (!s.open && s.has_pre && t > filter_.t0) add_point(s, filter_.t0, s.pre);
  add_point(s, t, value);
  if (buffered_ > opt_.max_events) grow();
}

void ChromeTraceSink::add_point(Series& s, SimTime t, double v) {
  // A sampling window starts at t with value v.
  auto open_window = [&] {
    s.open = true;
    s.win_start = s.last_t = t;
    s.last_v = v;
    s.integral = 0;
    s.in_window = 1;
  };
  if (!s.open) {
    open_window();
    return;
  }
  t = std::max(t, s.last_t);  // counters come at the current time; never let time run back
  if (t == s.last_t) {
    s.last_v = v;  // same instant: only the last value lasts any time (as in VCD)
    return;
  }
  if (s.in_window >= stride_) {
    s.integral += s.last_v * static_cast<double>(t - s.last_t);
    s.last_t = t;
    close_window(s);
    open_window();
    return;
  }
  s.integral += s.last_v * static_cast<double>(t - s.last_t);
  s.last_t = t;
  s.last_v = v;
  ++s.in_window;
}

// Emits the open window as one point: its time-weighted mean over [win_start, last_t),
// or the raw value when the window holds a single instant.
void ChromeTraceSink::close_window(Series& s) {
  if (!s.open) return;
  double v = s.last_t > s.win_start ? s.integral / static_cast<double>(s.last_t - s.win_start) : s.last_v;
  s.pts.emplace_back(s.win_start, v);
  ++buffered_;
  s.open = false;
}

void ChromeTraceSink::grow() {
  if (!warned_) {
    warned_ = true;
    (opt_.warn ? *opt_.warn : std::cerr)
        << "llmsim: warning: timeline exceeds " << opt_.max_events
        << " events; sampling it (every k-th span per track; see \"otherData\" in " << opt_.path
        << "; narrow it with --timeline-filter or raise LLMSIM_TIMELINE_MAX_EVENTS)\n";
  }
  while (buffered_ > opt_.max_events && stride_ < (1ULL << 40)) {
    stride_ *= 2;
    buffered_ = 0;
    for (auto& v : spans_) {
      v.erase(std::remove_if(v.begin(), v.end(), [&](const Span& s) { return s.ord % stride_ != 0; }), v.end());
      buffered_ += v.size();
    }
    for (auto& v : flows_) {
      v.erase(std::remove_if(v.begin(), v.end(), [&](const Flow& f) { return !keep_id(f.id); }), v.end());
      buffered_ += v.size();
    }
    async_.erase(std::remove_if(async_.begin(), async_.end(), [&](const Async& a) { return !keep_id(a.id); }),
                 async_.end());
    buffered_ += 2 * async_.size();
    // Counters: merge neighbouring points into their time-weighted mean. Point i covers
    // [t_i, t_{i+1}); the last one ends where the open window starts.
    for (auto& kv : series_) {
      Series& s = kv.second;
      auto& p = s.pts;
      std::vector<std::pair<SimTime, double>> merged;
      for (size_t i = 0; i < p.size(); i += 2) {
        if (i + 1 == p.size()) {
          merged.push_back(p[i]);
          break;
        }
        SimTime ta = p[i].first, tb = p[i + 1].first;
        SimTime tc = i + 2 < p.size() ? p[i + 2].first : (s.open ? s.win_start : tb);
        double v = tc > ta ? (p[i].second * static_cast<double>(tb - ta) + p[i + 1].second * static_cast<double>(tc - tb)) /
                                 static_cast<double>(tc - ta)
                           : p[i + 1].second;
        merged.emplace_back(ta, v);
      }
      p.swap(merged);
      buffered_ += p.size();
    }
  }
}

void ChromeTraceSink::flow(int from_track, SimTime from_t, int to_track, SimTime to_t, std::uint64_t id) {
  if (from_track < 0 || to_track < 0 || !filter_.keeps_time(from_t, std::max(from_t, to_t))) return;
  seen_ += 2;
  if (!keep_id(id)) return;
  flows_[static_cast<size_t>(from_track)].push_back({from_t, id, true});
  flows_[static_cast<size_t>(to_track)].push_back({std::max(from_t, to_t), id, false});
  buffered_ += 2;
  if (buffered_ > opt_.max_events) grow();
}

void ChromeTraceSink::finish(bool partial) {
  if (finished_) return;
  finished_ = true;
  for (auto& kv : series_) {
    Series& s = kv.second;
    if (!s.open && s.pts.empty() && s.has_pre) add_point(s, filter_.t0, s.pre);  // only a pre-window value
    if (!s.open) continue;
    bool averaged = s.in_window > 1 && s.last_t > s.win_start;
    SimTime last_t = s.last_t;
    double last_v = s.last_v;
    close_window(s);
    if (averaged) s.pts.emplace_back(last_t, last_v);  // the final state stays exact
  }
  AtomicFile f(opt_.path);
  write(f.out(), partial);
  f.commit();
}

int ChromeTraceSink::assign_lanes(const std::vector<Span>& spans, std::vector<int>& lane_of) {
  constexpr size_t kMaxLanes = 64;  // past this, overlaps stay in the last lane
  std::vector<size_t> idx(spans.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    const Span &x = spans[a], &y = spans[b];
    return std::make_tuple(x.begin, y.end, x.ord) < std::make_tuple(y.begin, x.end, y.ord);
  });
  lane_of.assign(spans.size(), 0);
  std::vector<std::vector<SimTime>> open;  // per lane: ends of the spans still open, nested
  for (size_t i : idx) {
    const Span& s = spans[i];
    size_t k = 0;
    for (; k < open.size(); ++k) {
      auto& st = open[k];
      while (!st.empty() && st.back() <= s.begin) st.pop_back();
      if (st.empty() || s.end <= st.back()) break;
    }
    if (k == open.size()) {
      if (open.size() < kMaxLanes) open.emplace_back();
      else k = open.size() - 1;
    }
    open[k].push_back(s.end);
    lane_of[i] = static_cast<int>(k);
  }
  return std::max<int>(1, static_cast<int>(open.size()));
}

void ChromeTraceSink::write(std::ostream& os, bool partial) {
  bool first = true;
  auto sep = [&]() -> std::ostream& {
    os << (first ? "\n" : ",\n");
    first = false;
    return os;
  };
  auto meta = [&](const char* what, int pid, int tid, const std::string& key, const std::string& value) {
    sep() << "{\"ph\":\"M\",\"name\":\"" << what << "\",\"pid\":" << pid << ",\"tid\":" << tid
          << ",\"args\":{\"" << key << "\":" << value << "}}";
  };
  os << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[";

  // Metadata: names and the order Perfetto shows them in. Numbers follow names, not the
  // order the models opened their tracks: processes in natural name order (gpu2 before
  // gpu10), threads by the model's sort index then name. Tracks opened lazily in one
  // instant (whichever core started first) must not renumber the file, since same-time
  // event order is not an input (--debug-tie-shuffle).
  std::vector<std::string> by_name;
  for (const auto& p : pids_) by_name.push_back(p.first);
  std::sort(by_name.begin(), by_name.end(), natural_less);
  std::map<int, int> pid_rank;  // first-appearance pid -> pid written
  for (const auto& p : pids_) {
    pid_rank[p.second] =
        static_cast<int>(std::lower_bound(by_name.begin(), by_name.end(), p.first, natural_less) - by_name.begin()) + 1;
  }
  for (size_t r = 0; r < by_name.size(); ++r) {
    meta("process_name", static_cast<int>(r) + 1, 0, "name", "\"" + json_escape(by_name[r]) + "\"");
    meta("process_sort_index", static_cast<int>(r) + 1, 0, "sort_index", std::to_string(r + 1));
  }
  std::vector<size_t> track_order(tracks_.size());
  for (size_t i = 0; i < track_order.size(); ++i) track_order[i] = i;
  std::sort(track_order.begin(), track_order.end(), [&](size_t a, size_t b) {
    const Track &x = tracks_[a], &y = tracks_[b];
    int px = pid_rank[x.pid], py = pid_rank[y.pid];
    if (px != py) return px < py;
    if (x.sort_index != y.sort_index) return x.sort_index < y.sort_index;
    return natural_less(x.thread, y.thread);
  });
  std::vector<int> pid_of(tracks_.size()), tid_of(tracks_.size());
  std::map<int, int> next_tid;  // pid written -> next tid
  for (size_t ti : track_order) {
    pid_of[ti] = pid_rank[tracks_[ti].pid];
    tid_of[ti] = ++next_tid[pid_of[ti]];
  }
  for (auto& n : next_tid) ++n.second;
  // Spans that overlap without nesting (concurrent flows on one link) would be dropped
  // or misdrawn by Perfetto: they go to extra lanes, threads named "THREAD (2)", ....
  std::vector<std::vector<int>> lane(tracks_.size()), lane_tid(tracks_.size());
  for (size_t ti : track_order) {
    const Track& t = tracks_[ti];
    int lanes = assign_lanes(spans_[ti], lane[ti]);
    lane_tid[ti].push_back(tid_of[ti]);
    for (int k = 1; k < lanes; ++k) lane_tid[ti].push_back(next_tid[pid_of[ti]]++);
    for (int k = 0; k < lanes; ++k) {
      std::string name = k == 0 ? t.thread : t.thread + " (" + std::to_string(k + 1) + ")";
      meta("thread_name", pid_of[ti], lane_tid[ti][static_cast<size_t>(k)], "name", "\"" + json_escape(name) + "\"");
      meta("thread_sort_index", pid_of[ti], lane_tid[ti][static_cast<size_t>(k)], "sort_index",
           std::to_string(t.sort_index));
    }
  }
  int req_pid = static_cast<int>(by_name.size()) + 1;
  if (!async_.empty()) {
    meta("process_name", req_pid, 0, "name", "\"requests\"");
    meta("process_sort_index", req_pid, 0, "sort_index", std::to_string(req_pid));
  }

  std::uint64_t written = 0;
  std::vector<std::string> escaped;  // per interned string, escaped once (names repeat a lot)
  std::vector<bool> have;
  auto esc = [&](std::uint32_t id) -> const std::string& {
    if (id >= escaped.size()) {
      escaped.resize(strings_.size());
      have.resize(strings_.size());
    }
    if (!have[id]) {
      escaped[id] = json_escape(strings_[id]);
      have[id] = true;
    }
    return escaped[id];
  };
  auto head = [&](const char* ph, std::uint32_t name, std::uint32_t cat, int pid, int tid, SimTime ts) -> std::ostream& {
    ++written;
    return sep() << "{\"ph\":\"" << ph << "\",\"name\":\"" << esc(name) << "\",\"cat\":\"" << esc(cat)
                 << "\",\"pid\":" << pid << ",\"tid\":" << tid << ",\"ts\":" << ps_to_us(ts);
  };

  // Per track, every event in time order. Ties: counters, then spans (longer first, so
  // nesting is right), then flow ends (which bind to the slice enclosing them).
  std::uint32_t flow_name = intern("transfer"), flow_cat = intern("flow"), no_cat = intern("");
  for (size_t ti : track_order) {
    const Track& tr = tracks_[ti];
    const int pid = pid_of[ti], tid = tid_of[ti];
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
    for (const auto& k : order) {
      size_t i = std::get<4>(k);
      switch (std::get<1>(k)) {
        case 0:
          head("C", counters[i].first, no_cat, pid, tid, counters[i].second.first)
              << ",\"args\":{\"value\":" << fmt_value(counters[i].second.second) << "}}";
          break;
        case 1: {
          const Span& s = sp[i];
          head("X", s.name, s.cat, pid, lane_tid[ti][static_cast<size_t>(lane[ti][i])], s.begin) << ",\"dur\":" << ps_to_us(s.end - s.begin);
          if (!s.args.empty() && s.args.front() == '{') os << ",\"args\":" << s.args;
          else if (!s.args.empty()) os << ",\"args\":{\"info\":\"" << json_escape(s.args) << "\"}";
          os << "}";
          break;
        }
        default: {
          const Flow& f = fl[i];
          head(f.start ? "s" : "f", flow_name, flow_cat, pid, tid, f.t) << ",\"id\":" << f.id;
          if (!f.start) os << ",\"bp\":\"e\"";
          os << "}";
        }
      }
    }
  }

  // Requests: all "b"/"e" in time order. At one instant: first the ends of spans that
  // end there, then zero-length spans (each "b" right before its "e"), then the begins,
  // so a phase handing over to the next never looks nested in it. Within a class, by id:
  // requests settled in one instant are recorded in event order, which is not an input.
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
    head(std::get<4>(k) == 0 ? "b" : "e", a.name, a.cat, req_pid, 0, std::get<0>(k))
        << ",\"id\":\"0x" << std::hex << a.id << std::dec << "\"}";
  }

  os << "\n],\"otherData\":{\"generator\":\"llmsim " << LLMSIM_VERSION << "\",\"time_unit\":\"us\""
     << ",\"partial\":" << (partial ? "true" : "false") << ",\"filter\":\"" << json_escape(filter_.text) << "\""
     << ",\"events_recorded\":" << seen_ << ",\"events_written\":" << written
     << ",\"max_events\":" << opt_.max_events << ",\"sampled\":" << (stride_ > 1 ? "true" : "false")
     << ",\"sample_stride\":" << stride_ << "}}\n";
}

}  // namespace llmsim
