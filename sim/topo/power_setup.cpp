// `power_cap:` and `power:` of one topology level (docs/topologies.md "Power").
#include <algorithm>
#include <cstdio>

#include "sim/topo/build.h"

namespace llmsim {

bool PowerSetup::capped() const {
  return !cap_groups.empty() || std::any_of(device_cap.begin(), device_cap.end(), [](Watts w) { return w > 0; });
}

namespace topo_detail {
namespace {

std::string watts(double w) {
  char b[48];
  std::snprintf(b, sizeof b, "%.6g W", w);
  return b;
}

// Lowers every device's cap to `share` (0 = none); refuses a share below a device's idle.
void apply_cap(Params& f, const std::string& key, Topology& t, Watts share, const std::string& how) {
  for (int d = 0; d < t.num_devices(); ++d) {
    const ChipSpec& chip = *t.device_chip[static_cast<size_t>(d)];
    if (share < chip.power.idle) {
      f.fail(key, how + " is below the idle power of " + t.vertices[static_cast<size_t>(d)].name + " (" + chip.name +
                      ": " + watts(chip.power.idle) + "): no clock can meet it");
    }
    Watts& cap = t.power.device_cap[static_cast<size_t>(d)];
    cap = cap > 0 ? std::min(cap, share) : share;
  }
}

void read_caps(Params& f, Topology& t) {
  Params c = f.child("power_cap");
  Watts per = c.qty("per_device");
  Watts total = c.qty("total");
  if (c.has("window")) {
    t.power.window = c.qty("window");
    if (!(t.power.window > 0)) c.fail("window", "the averaging window must be longer than 0 s");
  }
  if (per < 0) c.fail("per_device", "a power cap must not be negative");
  if (total < 0) c.fail("total", "a power cap must not be negative");
  const int n = t.num_devices();
  if (per > 0) apply_cap(c, "per_device", t, per, "per_device " + watts(per));
  if (total > 0) {
    // Shared by demand at run time; it must at least cover every device's idle power.
    Watts idle = 0;
    PowerSetup::CapGroup g{t.name.empty() ? "all" : t.name, {}, total};
    for (int d = 0; d < n; ++d) {
      idle += t.device_chip[static_cast<size_t>(d)]->power.idle;
      g.devices.push_back(d);
    }
    if (total < idle) {
      c.fail("total", "total " + watts(total) + " is below the idle power of its " + std::to_string(n) +
                          " devices (" + watts(idle) + "): no clock can meet it");
    }
    t.power.cap_groups.push_back(std::move(g));
  }
  c.finish();
}

void read_power_fields(Params& f, Topology& t) {
  Params p = f.child("power");
  PowerSetup& s = t.power;
  if (p.has("dvfs_min_clock")) {
    s.min_clock = p.num("dvfs_min_clock", s.min_clock);
    if (!(s.min_clock > 0 && s.min_clock <= 1)) p.fail("dvfs_min_clock", "must be in (0, 1] (a fraction of the nominal clock)");
  }
  if (p.has("dvfs_min_voltage")) {
    s.min_voltage = p.num("dvfs_min_voltage", s.min_voltage);
    if (!(s.min_voltage > 0 && s.min_voltage <= 1))
      p.fail("dvfs_min_voltage", "must be in (0, 1] (a fraction of the nominal voltage)");
  }
  if (p.has("tdp_limit")) s.tdp_limit = p.boolean("tdp_limit");
  if (p.has("host_per_node")) s.host_per_node = p.qty("host_per_node");
  if (p.has("psu_efficiency")) s.psu_efficiency = p.num("psu_efficiency");
  if (p.has("pue")) s.pue = p.num("pue");
  if (s.host_per_node < 0) p.fail("host_per_node", "must not be negative");
  if (!(s.psu_efficiency > 0 && s.psu_efficiency <= 1)) p.fail("psu_efficiency", "must be in (0, 1]");
  if (!(s.pue >= 1)) p.fail("pue", "must be at least 1 (facility power includes the IT power)");
  p.finish();
}

}  // namespace

void read_power(Params& f, Topology& t) {
  t.power.device_cap.resize(static_cast<size_t>(t.num_devices()), 0.0);
  if (f.has("power")) read_power_fields(f, t);
  if (f.has("power_cap")) read_caps(f, t);
}

}  // namespace topo_detail
}  // namespace llmsim
