// `events:` of a microbench workload (docs/microbench.md "Events"), also the building block
// of every workload's `faults:` (sim/engine/faults.cpp). Each entry has `at:`
// and one subject key that picks its parser (kParsers below): `link:` changes a link's
// state or bandwidth. A new kind of event (a device clock change, say) is one more parser
// in that table; entries with no known subject, and unknown keys, are positioned errors.
#include "sim/engine/state_events.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "models/device.h"
#include "models/network.h"
#include "sim/net/flow_net.h"
#include "sim/engine/simulation.h"

namespace llmsim {
namespace {

// Events run before anything else at their instant (lower runs first; 0 is the default).
constexpr int kEventPriority = -1;
// Link names offered for "did you mean" (a 16k-device torus has ~50k links).
constexpr size_t kMaxLinkNames = 4096;

// A vertex by exact name, or a device by its global alias ("gpu8").
int vertex_named(const Topology& topo, const std::string& name) {
  int v = topo.vertex_by_name(name);
  return v >= 0 ? v : topo.device_by_name(name);
}

bool adjacent(const Topology& topo, int u, int v) {
  for (const auto& nl : topo.neighbours(u))
    if (nl.first == v) return true;
  return false;
}

std::string link_name(const Topology& topo, const LinkInfo& l) {
  return topo.vertices[static_cast<size_t>(l.a)].name + "-" + topo.vertices[static_cast<size_t>(l.b)].name;
}

// `a-b` (both directions) or `a->b` (that direction only). Vertex names may contain '-'
// themselves, so every split is tried; the one whose halves name adjacent vertices wins.
void resolve_link(Fields& f, const Topology& topo, const std::string& text, int& u, int& v, bool& one_way) {
  size_t arrow = text.find("->");
  one_way = arrow != std::string::npos;
  std::vector<std::pair<std::string, std::string>> splits;
  if (one_way) {
    splits.push_back({text.substr(0, arrow), text.substr(arrow + 2)});
  } else {
    for (size_t i = text.find('-'); i != std::string::npos; i = text.find('-', i + 1))
      splits.push_back({text.substr(0, i), text.substr(i + 1)});
  }
  if (topo.vertices.empty()) {  // `llmsim check`: no topology to resolve against
    for (const auto& s : splits)
      if (!s.first.empty() && !s.second.empty()) return;
    f.fail("link", "expected two vertex names joined by '-' (both directions) or '->' (one), e.g. gpu0-gpu1");
  }
  std::string unjoined;
  for (const auto& s : splits) {
    int a = vertex_named(topo, s.first), b = vertex_named(topo, s.second);
    if (a < 0 || b < 0) continue;
    if (a != b && adjacent(topo, a, b)) {
      u = a;
      v = b;
      return;
    }
    if (unjoined.empty()) unjoined = s.first + " and " + s.second;
  }
  std::vector<std::string> names;
  for (size_t l = 0; l < topo.links.size() && names.size() < kMaxLinkNames; ++l)
    names.push_back(link_name(topo, topo.links[l]));
  std::string near = nearest(one_way ? text.substr(0, arrow) + "-" + text.substr(arrow + 2) : text, names);
  std::string hint = near.empty() ? "" : " (did you mean '" + near + "'?)";
  if (!unjoined.empty()) f.fail("link", "no link joins " + unjoined + hint);
  f.fail("link", "unknown link '" + text + "'" + hint + "; a link is named by its two vertices joined by '-', e.g. " +
                     (names.empty() ? std::string("gpu0-gpu1") : names.front()));
}

// `bandwidth: 25%` (of nominal) or `bandwidth: 100 GB/s`.
struct BandwidthSpec {
  bool fraction = false;
  double value = 0;
};

BandwidthSpec parse_bandwidth(Fields& f) {
  YAML::Node n = f.get("bandwidth");
  std::string s = as_string(n, f.file_for("bandwidth"), "bandwidth");
  BandwidthSpec b;
  if (!s.empty() && s.back() == '%') {
    char* end = nullptr;
    b.fraction = true;
    b.value = std::strtod(s.c_str(), &end) / 100;
    if (end != s.c_str() + s.size() - 1 || !std::isfinite(b.value))
      f.fail("bandwidth", "expected a percentage of nominal like 25% or a bandwidth like 100 GB/s, got '" + s + "'");
  } else {
    b.value = as_quantity(n, f.file_for("bandwidth"), Dim::Bandwidth, "bandwidth");
  }
  if (!(b.value > 0)) f.fail("bandwidth", "must be positive (use `state: down` to take a link out)");
  return b;
}

// {at, link, state: up | down, bandwidth: X% | RATE}: at least one of state, bandwidth.
TimedEvent parse_link_event(Fields& f, const Topology& topo) {
  TimedEvent e;
  std::string text = f.str("link");
  int u = -1, v = -1;
  bool one_way = false;
  resolve_link(f, topo, text, u, v, one_way);
  if (!f.has("state") && !f.has("bandwidth")) f.fail("link", "a link event needs `state: up|down` or `bandwidth:`");
  std::string state = f.has("state") ? f.choice("state", {"up", "down"}, "") : "";
  if (one_way && !state.empty())
    f.fail("state", "a link goes up or down in both directions: write '" + text.substr(0, text.find("->")) + "-" +
                        text.substr(text.find("->") + 2) + "'");
  BandwidthSpec bw;
  if (f.has("bandwidth")) bw = parse_bandwidth(f);
  char pct[32];
  std::snprintf(pct, sizeof pct, "%g%%", bw.value * 100);
  e.what = "link " + text + (state.empty() ? "" : " " + state) +
           (bw.value > 0 ? " bandwidth " + (bw.fraction ? std::string(pct) : format_quantity(bw.value, Dim::Bandwidth))
                         : "");
  e.apply = [u, v, one_way, state, bw](Simulation& sim) {
    Network& net = sim.network();
    // Bandwidth first: `{state: up, bandwidth: 50%}` brings the link back at half rate.
    if (bw.value > 0 && bw.fraction) net.set_link_bandwidth_fraction(u, v, bw.value, one_way);
    if (bw.value > 0 && !bw.fraction) net.set_link_bandwidth(u, v, bw.value, one_way);
    if (!state.empty()) net.set_link_up(u, v, state == "up");
  };
  return e;
}

// `up: true|false`, or `state: up|down` as link events write it; "" when neither is given.
std::string parse_up_state(Fields& f) {
  if (f.has("up") && f.has("state")) f.fail("up", "give `up:` or `state:`, not both");
  if (f.has("up")) return f.boolean("up", true) ? "up" : "down";
  return f.has("state") ? f.choice("state", {"up", "down"}, "") : "";
}

// A switch vertex by its topology name ("nvlink.sw0") or, when one fabric has it, by its
// name inside the fabric ("sw0").
int switch_named(Fields& f, const Topology& topo, const std::string& name) {
  std::vector<std::string> names;
  int found = -1;
  std::string clash;
  for (size_t v = 0; v < topo.vertices.size(); ++v) {
    const VertexInfo& vi = topo.vertices[v];
    if (vi.kind != VertexInfo::Kind::Switch) continue;
    names.push_back(vi.name);
    if (vi.name == name) return static_cast<int>(v);
    const size_t dot = vi.name.rfind('.');
    if (dot != std::string::npos && vi.name.compare(dot + 1, std::string::npos, name) == 0) {
      if (found >= 0) clash = topo.vertices[static_cast<size_t>(found)].name + " and " + vi.name;
      found = static_cast<int>(v);
    }
  }
  if (!clash.empty()) f.fail("switch", "'" + name + "' names several switches (" + clash + "): write the full name");
  if (found >= 0) return found;
  if (names.empty()) f.fail("switch", "the topology has no switches");
  std::string near = nearest(name, names);
  f.fail("switch", "unknown switch '" + name + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)"));
  return -1;
}

// {at, switch, up: true|false}: every link of the switch goes down (flows through it are
// rerouted through other switches, or the run exits 3 naming it) or comes back.
TimedEvent parse_switch_event(Fields& f, const Topology& topo) {
  TimedEvent e;
  std::string name = f.str("switch");
  const std::string state = parse_up_state(f);
  if (state.empty()) f.fail("switch", "a switch event needs `up: true|false`");
  int sw = topo.vertices.empty() ? -1 : switch_named(f, topo, name);
  e.what = "switch " + (sw >= 0 ? topo.vertices[static_cast<size_t>(sw)].name : name) + " " + state;
  e.apply = [sw, state](Simulation& sim) { sim.network().flows().set_vertex_up(sw, state == "up"); };
  return e;
}

// {at, device, up: false}: the device stops (its resources serve nothing, so its ops keep
// their remaining work) and its links go down; `up: true` resumes both.
void device_up_event(TimedEvent& e, int dev, const std::string& state) {
  e.apply = [dev, state](Simulation& sim) {
    const bool up = state == "up";
    Device& d = sim.device(dev);
    d.set_up(up);
    sim.network().flows().set_vertex_up(dev, up);  // vertex id == device index
  };
}

// {at, device, clock: 50% | 900 MHz}: the device's operating point; ops in flight are
// retimed by their remaining work (docs/models.md "Device resources and contention").
TimedEvent parse_device_event(Fields& f, const Topology& topo) {
  TimedEvent e;
  std::string name = f.str("device");
  int dev = topo.num_devices() > 0 ? topo.device_by_name(name) : 0;
  if (dev < 0) {
    std::vector<std::string> names;
    for (int d = 0; d < topo.num_devices(); ++d) names.push_back(topo.vertices[static_cast<size_t>(d)].name);
    std::string near = nearest(name, names);
    f.fail("device", "unknown device '" + name + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)"));
  }
  const std::string state = parse_up_state(f);
  if (!state.empty()) {
    if (f.has("clock")) f.fail("clock", "one change per event: `clock:` or `up:`");
    e.what = "device " + name + " " + state;
    device_up_event(e, dev, state);
    return e;
  }
  if (!f.has("clock"))
    f.fail("device", "a device event needs `clock:` (a frequency, or a % of the chip's clock) or `up: true|false`");
  std::string text = f.str("clock");
  double fraction = 0, hz = 0;
  if (!text.empty() && text.back() == '%') {
    fraction = as_number(YAML::Node(text.substr(0, text.size() - 1)), f.file(), "clock") / 100.0;
    if (!(fraction > 0) || !std::isfinite(fraction)) f.fail("clock", "must be a positive percentage, e.g. 50%");
  } else {
    hz = f.qty("clock", Dim::Frequency);
    if (!(hz > 0) || !std::isfinite(hz)) f.fail("clock", "must be a positive frequency, e.g. 900 MHz");
  }
  e.what = "device " + name + " clock " + text;
  e.apply = [dev, fraction, hz](Simulation& sim) {
    Device& d = sim.device(dev);
    d.set_clock(fraction > 0 ? d.chip().clock * fraction : Hertz{hz});
  };
  return e;
}

using EventParser = TimedEvent (*)(Fields&, const Topology&);
// Subject key -> parser.
const std::vector<std::pair<const char*, EventParser>> kParsers = {
    {"link", parse_link_event},
    {"device", parse_device_event},
    {"switch", parse_switch_event},
};

std::string subject_list() {
  std::string subjects;
  for (const auto& p : kParsers) subjects += (subjects.empty() ? "`" : ", `") + std::string(p.first) + ":`";
  return subjects;
}

}  // namespace

TimedEvent parse_event_entry(Fields& f, const Topology& topo, const std::string& what) {
  EventParser parse = nullptr;
  for (const auto& p : kParsers) {
    if (!f.has(p.first)) continue;
    if (parse) f.fail(p.first, "one subject per event (" + subject_list() + ")");
    parse = p.second;
  }
  if (!parse) throw InputError(f.pos(), what + ": an event names what changes: one of " + subject_list());
  return parse(f, topo);
}

std::vector<TimedEvent> parse_events(Fields& root, const Topology& topo) {
  std::vector<TimedEvent> out;
  YAML::Node list = root.opt("events");
  if (!list) return out;
  std::string file = root.file_for("events");
  if (!list.IsSequence()) root.fail("events", "must be a list like [{at: 5 us, link: gpu0-gpu1, state: down}]");
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string what = "workload.events[" + std::to_string(i) + "]";
    if (!list[i].IsMap()) throw InputError(pos_of(list[i], file), what + ": must be a map like {at: 5 us, link: gpu0-gpu1, state: down}");
    Fields f(list[i], file, what);
    Seconds at = f.qty("at", Dim::Time);
    if (!(at >= 0) || !std::isfinite(at)) f.fail("at", "must be a time >= 0");
    TimedEvent e = parse_event_entry(f, topo, what);
    f.finish();
    e.at = to_simtime(at);
    e.pos = f.pos();
    out.push_back(std::move(e));
  }
  return out;
}

void schedule_events(Simulation& sim, const std::vector<TimedEvent>& events) {
  for (const TimedEvent& e : events) {
    auto fire = [&sim, e] {
      try {
        e.apply(sim);
      } catch (const InfeasibleError& err) {
        throw InfeasibleError(e.what + " (" + e.pos.str() + "): " + err.what());
      }
    };
    // Due now (`at: 0`): applied before the workload issues its first op, which the start
    // call does synchronously, so the ops start on the changed system.
    if (e.at <= sim.now())
      fire();
    else
      sim.queue().at(e.at, fire, kEventPriority);
  }
}

}  // namespace llmsim
