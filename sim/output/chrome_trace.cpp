#include "sim/output/chrome_trace.h"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "sim/core/hash.h"
#include "sim/output/atomic_file.h"

namespace llmsim {

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

}  // namespace llmsim
