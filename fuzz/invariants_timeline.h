// Invariants read from a run's timeline.json (docs/outputs.md), for the `simulate` fuzz
// target and the [property] tests (fuzz/invariants.h has the rest):
// - no time is negative: every span, counter, async and flow event at ts >= 0, dur >= 0,
//   and nothing after the run's end (sim_time_s);
// - time never goes backwards along a counter series, a request's phases or a flow arrow;
// - no link above its bandwidth: on every link direction, the bytes of the spans inside
//   any window [start of one span, end of another] fit in bandwidth x window (the largest
//   bandwidth the link ever has: nominal, or an `events:` absolute bandwidth above it);
//   utilisation counters stay in [0, 1];
// - bytes sent equal bytes received at every switch: what the spans carry into a switch
//   vertex equals what they carry out of it (the generated topologies have no in-network
//   reduction, the one case where a switch legitimately absorbs data);
// - no device above its peak: an operator span's FLOPs fit in its chip's peak x duration.
#pragma once
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/topo/module_names.h"
#include "sim/topo/topology.h"

namespace llmsim_fuzz {

// Times in the timeline are microseconds with 6 decimals (exact picoseconds).
constexpr double kUsSlack = 2e-6;

struct Violations {
  std::vector<std::string> list;
  void operator()(const std::string& what) {
    if (list.size() < 20) list.push_back(what);
  }
};

namespace detail {

struct LinkSpan {
  double begin, end, bytes;
};

// Track "PROCESS/THREAD" (lane suffix " (N)" removed) -> directed link.
inline std::map<std::string, llmsim::DirLink> link_tracks(const llmsim::Topology& topo) {
  std::map<std::string, llmsim::DirLink> out;
  std::vector<std::string> names = llmsim::link_module_names(topo);
  for (std::size_t l = 0; l < topo.links.size(); ++l) {
    const llmsim::LinkInfo& li = topo.links[l];
    std::string fabric = li.fabric.empty() ? "links" : llmsim::sc_safe_name(li.fabric);
    for (int dir = 0; dir < 2; ++dir) {
      int to = dir == 0 ? li.b : li.a;
      out[fabric + "/" + names[l] + ".to_" + llmsim::vertex_local_name(topo, to, li.fabric_id)] =
          static_cast<llmsim::DirLink>(2 * l + static_cast<std::size_t>(dir));
    }
  }
  return out;
}

inline std::string strip_lane(std::string thread) {
  auto p = thread.rfind(" (");
  if (p != std::string::npos && !thread.empty() && thread.back() == ')') thread.erase(p);
  return thread;
}

// Bytes of the spans inside each window [begin_i, end_j] against bandwidth x window.
inline void check_link_windows(std::vector<LinkSpan> spans, double bw, const std::string& track, Violations& fail) {
  if (spans.size() > 400) spans.resize(400);  // bounded work; generated runs stay far below
  std::sort(spans.begin(), spans.end(), [](const LinkSpan& a, const LinkSpan& b) { return a.end < b.end; });
  for (const LinkSpan& first : spans) {
    double bytes = 0;
    for (const LinkSpan& s : spans) {
      if (s.begin < first.begin) continue;
      bytes += s.bytes;
      double window_s = (s.end - first.begin) * 1e-6;
      if (bytes > bw * (window_s + kUsSlack * 1e-6) * (1 + 1e-6) + 1) {
        fail("link " + track + " carries " + std::to_string(bytes) + " B in " + std::to_string(window_s) +
             " s from " + std::to_string(first.begin) + " us: above its " + std::to_string(bw) + " B/s");
        return;
      }
    }
  }
}

inline double chip_peak(const llmsim::ChipSpec& chip, const std::string& dtype) {
  double peak = chip.compute.vector_peak;
  auto it = chip.compute.peak.find(dtype);
  if (it != chip.compute.peak.end()) return std::max(peak, it->second.value());
  for (const auto& p : chip.compute.peak) peak = std::max(peak, p.second.value());
  return peak;
}

}  // namespace detail

namespace detail {

// One pass over the events; link spans are kept for the per-link checks at the end.
class TimelineCheck {
 public:
  TimelineCheck(const nlohmann::json& tl, double sim_time_s, const llmsim::Topology& topo, Violations& fail)
      : end_us_(sim_time_s * 1e6 + kUsSlack), topo_(topo), tracks_(link_tracks(topo)), fail_(fail) {
    for (const auto& e : tl.at("traceEvents")) {
      if (e.at("ph") != "M") continue;
      if (e.at("name") == "process_name") process_[e.at("pid").get<int>()] = e.at("args").at("name");
      if (e.at("name") == "thread_name") thread_[{e.at("pid").get<int>(), e.at("tid").get<int>()}] = e.at("args").at("name");
    }
    for (const auto& e : tl.at("traceEvents")) {
      if (e.at("ph") != "M") event(e);
    }
  }
  void links(double max_event_bandwidth);

 private:
  void event(const nlohmann::json& e);
  void span(const nlohmann::json& e, double ts, const std::string& proc, const std::string& track, const std::string& what);
  void counter(const nlohmann::json& e, double ts, const std::string& track, const std::string& what);

  const double end_us_;
  const llmsim::Topology& topo_;
  const std::map<std::string, llmsim::DirLink> tracks_;
  Violations& fail_;
  std::map<int, std::string> process_;
  std::map<std::pair<int, int>, std::string> thread_;
  std::map<llmsim::DirLink, std::vector<LinkSpan>> on_link_;
  std::map<std::string, double> last_counter_, begun_, flow_start_;
};

inline void TimelineCheck::event(const nlohmann::json& e) {
  std::string ph = e.at("ph");
  double ts = e.at("ts").get<double>();
  std::string what = ph + " '" + e.value("name", "") + "' at " + std::to_string(ts) + " us";
  if (!(ts >= 0) || ts > end_us_) fail_(what + ": outside [0, sim_time_s]");
  int pid = e.value("pid", 0), tid = e.value("tid", 0);
  std::string proc = process_[pid], track = proc + "/" + strip_lane(thread_[{pid, tid}]);
  if (ph == "X") {
    span(e, ts, proc, track, what);
  } else if (ph == "C") {
    counter(e, ts, track, what);
  } else if (ph == "b" || ph == "e") {
    std::string key = e.value("id", "") + "/" + e.value("name", "");
    if (ph == "b") begun_[key] = ts;
    else if (!begun_.count(key) || ts < begun_[key]) fail_(what + ": request phase ends before it begins");
  } else if (ph == "s" || ph == "f") {
    std::string key = e.value("id", nlohmann::json()).dump();
    if (ph == "s") flow_start_[key] = ts;
    else if (!flow_start_.count(key) || ts < flow_start_[key]) fail_(what + ": transfer arrives before it leaves");
  }
}

inline void TimelineCheck::span(const nlohmann::json& e, double ts, const std::string& proc, const std::string& track,
                                const std::string& what) {
  double dur = e.at("dur").get<double>();
  if (!(dur >= 0) || ts + dur > end_us_) fail_(what + ": duration " + std::to_string(dur) + " us negative or past the end");
  const auto& args = e.value("args", nlohmann::json::object());
  auto link = tracks_.find(track);
  if (e.value("cat", "") == "net" && link != tracks_.end() && args.contains("bytes")) {
    on_link_[link->second].push_back({ts, ts + dur, args.at("bytes").get<double>()});
  }
  int dev = topo_.device_by_name(proc);
  if (e.value("cat", "") == "op" && dev >= 0 && args.contains("flops")) {
    double peak = chip_peak(*topo_.device_chip[static_cast<std::size_t>(dev)], args.value("dtype", ""));
    double flops = args.at("flops").get<double>();
    // flops are printed with 6 significant digits.
    if (flops > peak * (dur + kUsSlack) * 1e-6 * (1 + 2e-5)) {
      fail_(what + " on " + proc + ": " + std::to_string(flops) + " FLOP in " + std::to_string(dur) +
            " us is above the chip's peak " + std::to_string(peak) + " FLOP/s");
    }
  }
}

inline void TimelineCheck::counter(const nlohmann::json& e, double ts, const std::string& track, const std::string& what) {
  std::string name = e.value("name", "");
  std::string key = track + "/" + name;
  if (last_counter_.count(key) && ts < last_counter_[key]) fail_(what + ": counter series goes back in time");
  last_counter_[key] = ts;
  double v = e.at("args").at("value").get<double>();
  bool fraction = name.size() >= 11 && name.compare(name.size() - 11, 11, "utilisation") == 0;
  if (fraction && !(v >= 0 && v <= 1 + 1e-9)) fail_(what + ": utilisation " + std::to_string(v) + " outside [0, 1]");
}

inline void TimelineCheck::links(double max_event_bandwidth) {
  std::map<int, double> into, out_of;  // switch vertex -> bytes
  for (const auto& [d, spans] : on_link_) {
    const llmsim::LinkInfo& li = topo_.links[static_cast<std::size_t>(llmsim::dirlink_link(d))];
    int from = llmsim::dirlink_dir(d) == 0 ? li.a : li.b, to = llmsim::dirlink_dir(d) == 0 ? li.b : li.a;
    double bw = std::max(li.params.bandwidth.value(), max_event_bandwidth);
    check_link_windows(spans, bw, topo_.vertices[static_cast<std::size_t>(from)].name + "->" +
                                      topo_.vertices[static_cast<std::size_t>(to)].name, fail_);
    for (const auto& s : spans) {
      into[to] += s.bytes;
      out_of[from] += s.bytes;
    }
  }
  for (std::size_t v = 0; v < topo_.vertices.size(); ++v) {
    if (topo_.vertices[v].kind != llmsim::VertexInfo::Kind::Switch) continue;
    double in = into[static_cast<int>(v)], out = out_of[static_cast<int>(v)];
    if (std::fabs(in - out) > 1e-9 * std::max(in, out) + 1) {
      fail_("switch " + topo_.vertices[v].name + " received " + std::to_string(in) + " B but sent " + std::to_string(out) + " B");
    }
  }
}

}  // namespace detail

// `max_event_bandwidth`: the largest absolute bandwidth the workload's events set.
inline void check_timeline(const nlohmann::json& tl, double sim_time_s, const llmsim::Topology& topo,
                           double max_event_bandwidth, Violations& fail) {
  detail::TimelineCheck(tl, sim_time_s, topo, fail).links(max_event_bandwidth);
}

}  // namespace llmsim_fuzz
