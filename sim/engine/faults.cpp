// `faults:` and `--fault` (docs/faults.md). Both forms become the same Fault: the compact
// text `KIND:TARGET@TIME[+DURATION][,key=value]` is turned into the map form
// `{kind, target, at, duration, bandwidth, slowdown}` and read by one strict reader; each
// kind then writes the state-change entries its begin and end are (kFaultEvents), which
// sim/engine/state_events.cpp parses and resolves against the topology.
#include "sim/engine/faults.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "sim/core/error.h"
#include "sim/engine/simulation.h"
#include "sim/output/trace_sink.h"

namespace llmsim {
namespace {

// Each kind's begin and end as state-change entries: {subject key, begin value key/value,
// end value}. The target is the subject's value.
struct FaultEvents {
  const char* kind;
  const char* subject;  // link | device | switch
  const char* key;      // state | up | bandwidth | clock
};
const std::vector<FaultEvents> kFaultEvents = {
    {"link-down", "link", "state"},       {"link-degraded", "link", "bandwidth"},
    {"device-down", "device", "up"},      {"switch-down", "switch", "up"},
    {"straggler", "device", "clock"},
};

const FaultEvents& events_of(const std::string& kind) {
  for (const auto& e : kFaultEvents)
    if (kind == e.kind) return e;
  return kFaultEvents.front();  // unreachable: kind was checked against fault_kinds()
}

std::string seconds_text(SimTime t) {
  char b[48];
  std::snprintf(b, sizeof b, "%.12g s", to_seconds(t).value());
  return b;
}

// `slowdown: 30%` (or 0.3): the straggler's compute takes 1.3x as long.
double parse_slowdown(Fields& f) {
  std::string s = f.str("slowdown");
  bool pct = !s.empty() && s.back() == '%';
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || end != s.c_str() + s.size() - (pct ? 1 : 0) || !std::isfinite(v))
    f.fail("slowdown", "expected a percentage like 30% (compute takes 1.3x as long) or a fraction like 0.3, got '" + s + "'");
  v = pct ? v / 100 : v;
  if (!(v > 0) || v > 100) f.fail("slowdown", "must be > 0% and at most 10000%");
  return v;
}

// The state-change entry of a fault's begin (`begins`) or end, read by state_events.cpp.
TimedEvent fault_event(const Fault& x, const YAML::Node& target, const std::string& file, const std::string& what,
                       bool begins, const Topology& topo) {
  const FaultEvents& fe = events_of(x.kind);
  YAML::Node m(YAML::NodeType::Map);
  m[fe.subject] = target;  // the node itself: an unknown name is reported at its position
  const std::string key = fe.key;
  if (key == "state") m["state"] = begins ? "down" : "up";
  if (key == "up") m["up"] = begins ? "false" : "true";
  if (key == "bandwidth") m["bandwidth"] = begins ? x.bandwidth : std::string("100%");
  if (key == "clock") {
    char pct[48];
    std::snprintf(pct, sizeof pct, "%.12g%%", 100.0 / (1.0 + x.slowdown));
    m["clock"] = begins ? std::string(pct) : std::string("100%");
  }
  Fields ef(m, file, what);
  TimedEvent e = parse_event_entry(ef, topo, what);
  ef.finish();
  e.what = x.kind + " " + x.target + (begins ? "" : " ends");
  return e;
}

// The map form {kind, target, at, duration, bandwidth, slowdown}.
Fault parse_fault_map(const YAML::Node& node, const std::string& file, const std::string& what, const Topology& topo) {
  Fields f(node, file, what);
  Fault x;
  x.kind = f.choice("kind", fault_kinds(), "");
  x.target = f.str("target");
  Seconds at = f.qty("at", Dim::Time);
  if (!(at >= 0) || !std::isfinite(at)) f.fail("at", "must be a time >= 0");
  Seconds dur = f.qty("duration", Dim::Time, 0.0);
  if (!(dur >= 0) || !std::isfinite(dur)) f.fail("duration", "must be a time >= 0 (0 or absent: to the end of the run)");
  if (x.kind == "link-degraded") {
    if (!f.has("bandwidth")) f.fail("kind", "link-degraded needs `bandwidth:` (25% of nominal, or 100 GB/s)");
    x.bandwidth = f.str("bandwidth");
  }
  if (x.kind == "straggler") {
    if (!f.has("slowdown")) f.fail("kind", "straggler needs `slowdown:` (30%: its compute takes 1.3x as long)");
    x.slowdown = parse_slowdown(f);
  }
  if (!representable_time(at + dur)) f.fail("duration", "the fault ends past " + horizon_text());
  f.finish();  // bandwidth / slowdown on other kinds are unknown keys here
  x.at = to_simtime(at);
  x.duration = to_simtime(dur);
  x.pos = f.pos();
  const YAML::Node target = node["target"];
  x.begin = fault_event(x, target, file, what, true, topo);
  x.begin.at = x.at;
  x.begin.pos = x.pos;
  if (x.duration > 0) {
    x.end = fault_event(x, target, file, what, false, topo);
    x.end.at = x.at + x.duration;
    x.end.pos = x.pos;
  }
  const bool on_device = x.kind == "device-down" || x.kind == "straggler";
  if (on_device && topo.num_devices() > 0) x.device = topo.device_by_name(x.target);
  return x;
}

// `KIND:TARGET@TIME[+DURATION][,key=value...]` -> the map form (scalars, no positions).
YAML::Node compact_to_map(const std::string& text, std::string& problem) {
  YAML::Node m(YAML::NodeType::Map);
  const size_t comma = text.find(',');
  const std::string head = text.substr(0, comma);
  const size_t colon = head.find(':'), at = head.rfind('@');
  if (colon == std::string::npos || at == std::string::npos || at < colon) {
    problem = "expected KIND:TARGET@TIME[+DURATION][,key=value], e.g. link-down:gpu0-gpu1@2s";
    return m;
  }
  m["kind"] = head.substr(0, colon);
  m["target"] = head.substr(colon + 1, at - colon - 1);
  std::string when = head.substr(at + 1);
  size_t plus = std::string::npos;  // the '+' of +DURATION, not of an exponent (1e+3 s)
  for (size_t i = 1; i < when.size(); ++i)
    if (when[i] == '+' && when[i - 1] != 'e' && when[i - 1] != 'E') plus = i;
  m["at"] = when.substr(0, plus);
  if (plus != std::string::npos) m["duration"] = when.substr(plus + 1);
  for (size_t p = comma; p != std::string::npos;) {
    const size_t next = text.find(',', p + 1);
    const std::string kv = text.substr(p + 1, next == std::string::npos ? std::string::npos : next - p - 1);
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      problem = "'" + kv + "': expected key=value after the time (bandwidth=25%, slowdown=30%)";
      return m;
    }
    m[kv.substr(0, eq)] = kv.substr(eq + 1);
    p = next;
  }
  return m;
}

// The compact form, with every error of its fields reported at `pos` (the string itself).
Fault parse_fault_text(const std::string& text, const SourcePos& pos, const std::string& what, const Topology& topo) {
  std::string problem;
  YAML::Node m = compact_to_map(text, problem);
  if (!problem.empty()) throw InputError(pos, what + " '" + text + "': " + problem);
  try {
    Fault x = parse_fault_map(m, pos.file, what, topo);
    x.pos = pos;
    x.begin.pos = x.end.pos = pos;
    return x;
  } catch (const InputError& e) {
    throw InputError(pos, std::string(e.what()) + " (in '" + text + "')", e.hint());
  }
}

}  // namespace

const std::vector<std::string>& fault_kinds() {
  static const std::vector<std::string> kinds = [] {
    std::vector<std::string> k;
    for (const auto& e : kFaultEvents) k.push_back(e.kind);
    return k;
  }();
  return kinds;
}

std::string Fault::text() const {
  std::string s = kind + ":" + target + "@" + seconds_text(at);
  if (duration > 0) s += "+" + seconds_text(duration);
  if (!bandwidth.empty()) s += ",bandwidth=" + bandwidth;
  if (slowdown > 0) {
    char b[48];
    std::snprintf(b, sizeof b, ",slowdown=%.12g%%", slowdown * 100);
    s += b;
  }
  return s;
}

YAML::Node Fault::resolved() const {
  YAML::Node m(YAML::NodeType::Map);
  m["kind"] = kind;
  m["target"] = target;
  m["at"] = seconds_text(at);
  if (duration > 0) m["duration"] = seconds_text(duration);
  if (!bandwidth.empty()) m["bandwidth"] = bandwidth;
  if (slowdown > 0) {
    char b[48];
    std::snprintf(b, sizeof b, "%.12g%%", slowdown * 100);
    m["slowdown"] = std::string(b);
  }
  return m;
}

std::vector<Fault> take_faults(Doc& doc, const Topology& topo) {
  std::vector<Fault> out;
  YAML::Node root = doc.root;
  if (!root.IsMap() || !root["faults"]) return out;
  const std::string file = doc.file_of("faults");
  const YAML::Node list = root["faults"];
  const std::string example = "[{kind: link-down, target: gpu0-gpu1, at: 2 s}] or [\"device-down:gpu3@1.5s\"]";
  if (!list.IsSequence()) throw InputError(pos_of(list, file), "workload.faults: must be a list like " + example);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string what = "workload.faults[" + std::to_string(i) + "]";
    const YAML::Node item = list[i];
    if (item.IsScalar())
      out.push_back(parse_fault_text(item.Scalar(), pos_of(item, file), what, topo));
    else if (item.IsMap())
      out.push_back(parse_fault_map(item, file, what, topo));
    else
      throw InputError(pos_of(item, file), what + ": must be a map like {kind: device-down, target: gpu3, at: 1.5 s} "
                                                  "or a string like \"device-down:gpu3@1.5s\"");
  }
  root.remove("faults");
  return out;
}

Fault parse_fault_flag(const std::string& text, int arg, const Topology& topo) {
  return parse_fault_text(text, SourcePos{"--fault", arg, 1}, "--fault", topo);
}

void schedule_faults(Simulation& sim, const std::vector<Fault>& faults, std::function<FaultOutcome(const Fault&, bool)> notify) {
  std::vector<TimedEvent> events;
  const int track = sim.recorder().on() ? sim.recorder().track("faults", "faults", -1) : -1;
  for (const Fault& f : faults) {
    for (bool begins : {true, false}) {
      TimedEvent e = begins ? f.begin : f.end;
      if (!e.apply) continue;
      auto apply = e.apply;
      e.apply = [apply, notify, &f, begins, track](Simulation& s) {
        if (begins && track >= 0) {
          const SimTime end = f.duration > 0 ? f.at + f.duration : f.at;  // zero length: an instant
          s.recorder().span(track, f.text(), "fault", f.at, end, "");
        }
        const FaultOutcome what = notify ? notify(f, begins) : FaultOutcome::Apply;
        if (what == FaultOutcome::StopRun) s.queue().stop();  // after this instant's event
        if (what == FaultOutcome::Apply) apply(s);
      };
      events.push_back(std::move(e));
    }
  }
  schedule_events(sim, events);
}

YAML::Node faults_resolved(const std::vector<Fault>& faults) {
  if (faults.empty()) return YAML::Node(YAML::NodeType::Undefined);
  YAML::Node list(YAML::NodeType::Sequence);
  for (const Fault& f : faults) list.push_back(f.resolved());
  return list;
}

}  // namespace llmsim
