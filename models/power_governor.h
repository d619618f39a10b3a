// Per-device power: the DVFS curve, the power time series (piecewise constant between
// activity starts and ends) and the cap governor (docs/models.md "Power").
//
// A device draws idle power plus, per resource, the dynamic power of the activities on
// it (ResourceArbiter: work rate x energy per work, compute scaled by (V/V_nom)^2). The
// arbiter reports every change of rates; the monitor integrates the power up to now (O(1)
// per change, no allocation), tracks the peak and the highest average over consecutive
// windows, and emits a counter sample. With a cap, the governor first finds the highest
// clock (on the DVFS curve, between its floor and the nominal clock) at which the device's
// present activities draw no more than the cap, and sets it.
#pragma once
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/units.h"

namespace llmsim {

using Json = nlohmann::ordered_json;  // as sim/engine/workload.h

class Device;
class ModelContext;
struct PowerSetup;
struct ChipSpec;

// Voltage linear in clock between (min_clock, min_voltage) and (1, 1), flat below
// min_clock; dynamic compute power per unit of work scales with V^2, so power at clock s
// (fraction of nominal) for the same activity is s x V(s)^2.
struct DvfsCurve {
  double min_clock = 0.4;
  double min_voltage = 0.7;
  // The chip's curve (power.dvfs), unless the topology's `power:` overrides it.
  static DvfsCurve of(const ChipSpec& chip, const PowerSetup& p);
  double voltage(double clock_scale) const;
  double energy_scale(double clock_scale) const { double v = voltage(clock_scale); return v * v; }
  double power_scale(double clock_scale) const { return clock_scale * energy_scale(clock_scale); }
};

// A piecewise-constant power signal: integrates energy, the peak (over spans of nonzero
// length) and the highest average over consecutive windows of `window`, O(1) per change.
class PowerSeries {
 public:
  explicit PowerSeries(Seconds window);
  // Holds the present value up to `now`, then `w` from `now` on.
  void set(SimTime now, Watts w) { advance(now); power_ = w; }
  // A sum of several signals: each adds its change in whole nanowatts, so the sum is the
  // same whatever order same-time changes arrive in (a double sum would differ in its last
  // bits under --debug-tie-shuffle). Do not mix with set() on one series.
  void add_nanowatts(SimTime now, std::int64_t delta) {
    advance(now);
    sum_nw_ += delta;
    power_ = static_cast<double>(sum_nw_) * 1e-9;
  }
  static std::int64_t to_nanowatts(Watts w) { return std::llround(w * 1e9); }
  void advance(SimTime now);
  Watts power() const { return power_; }
  Watts peak() const { return peak_; }
  Joules energy() const { return energy_; }
  Watts max_window_avg() const;  // the window in progress counts over the time it has run

 private:
  SimTime window_;
  Watts power_ = 0;
  SimTime last_ = 0;
  Watts peak_ = 0;
  Joules energy_ = 0;
  SimTime win_start_ = 0;
  Joules win_energy_ = 0;
  Watts max_win_avg_ = 0;
  std::int64_t sum_nw_ = 0;  // add_nanowatts' exact sum
};

class PowerGroup;

// The sum of one node's devices' power as a counter `power_w` on the track `node_power`
// of the node (process = the node's name, "node3"): the per-node line of the timeline and
// the VCD (hierarchical topologies). Changes of one instant are folded into one sample,
// written when time moves on (or at flush()), so it does not depend on the order of
// same-time events.
class NodePower {
 public:
  NodePower(std::string name, ModelContext& sim);
  void add(SimTime now, std::int64_t delta_nw);
  void flush() { write(); }  // the last instant's sample (before the recorder finishes)

 private:
  void write();
  std::string name_;
  ModelContext& sim_;
  std::int64_t sum_nw_ = 0, emitted_nw_ = -1;
  SimTime at_ = 0;
  int track_ = -1;
};

class PowerMonitor {
 public:
  // `cap` 0 = uncapped. Registers itself as the device arbiter's change listener.
  // `system` (may be null) receives every change of this device's power, so the sum over
  // devices has its own exact peak.
  PowerMonitor(Device& device, ModelContext& sim, Watts cap, Seconds window, DvfsCurve curve, PowerSeries* system);
  PowerMonitor(const PowerMonitor&) = delete;
  PowerMonitor& operator=(const PowerMonitor&) = delete;

  Watts power() const { return series_.power(); }  // now: idle + dynamic
  Watts cap() const;  // now: the device's own cap (TDP, per_device) within its group shares
  Watts own_cap() const { return cap_; }
  Watts idle() const;
  // What the device would draw now at its clock ceiling, at most its own cap.
  Watts demand();
  // Membership of a shared cap; the group sets this device's share with set_share.
  void join(PowerGroup* g);
  void set_share(const PowerGroup* g, Watts share);
  // The node whose power sum this device's power adds to (hierarchical topologies).
  void set_node(NodePower* n);
  // Brings the integrals to now, re-runs the governor and records the power (a group
  // changed this device's share).
  void regovern();
  // The device's entry in summary.json `power.devices` (brings the integrals up to now).
  Json report();
  // How many devices' power this device's power stands for in the system sum: 1, 0 for a device
  // whose work another simulates (training's folded data-parallel replicas), 1 + n for the
  // one that simulates it for n others (Simulation::stand_in).
  void set_system_weight(int w);
  int system_weight() const { return system_weight_; }

 private:
  friend class PowerGroup;  // brings members' integrals to now before changing shares
  void on_change();
  void update();  // governor + power record, without re-sharing groups
  void govern();
  void advance_to_now();
  void emit(Watts w);  // counter samples when the power changed

  Device& dev_;
  ModelContext& sim_;
  Watts cap_;
  DvfsCurve curve_;
  PowerSeries series_;
  PowerSeries* system_;
  SimTime last_ = 0;
  Seconds over_cap_s_ = 0;     // time above the cap (the floor clock could not meet it)
  Seconds throttled_s_ = 0;    // time below the nominal clock
  double clock_seconds_ = 0;   // integral of the clock scale
  int changes_ = 0;            // clock changes the governor made
  bool busy_ = false;          // re-entry guard (set_clock reports a change itself)
  int track_ = -1;
  Watts emitted_ = -1;
  std::int64_t system_nw_ = 0;  // this device's share of `system_` (and groups'), in nanowatts
  int system_weight_ = 1;       // times system_nw_ counts in `system_`
  std::vector<PowerGroup*> groups_;
  NodePower* node_ = nullptr;
  std::vector<Watts> shares_;   // per group in groups_: this device's share of its total
  double ceiling_ = 1;          // highest clock scale the governor may set (Device::set_clock's)
  double governed_ = 1;         // the clock scale as the governor last left it
};

// `power_cap: {total: W}` over several devices (a node, or every device of a level),
// shared by demand: when the members' demands (power at nominal clock) fit the total
// each keeps its own cap; otherwise each gets its idle power plus the total's dynamic
// budget (total - sum of idle) in proportion to its dynamic demand. Every change of a
// member's activities re-shares and re-governs all members, so the sum stays under the
// total at every instant (its own series checks it per window). O(members) per change.
class PowerGroup {
 public:
  PowerGroup(std::string name, Watts total, Seconds window) : name_(std::move(name)), total_(total), series_(window) {}
  void add(PowerMonitor* m) { members_.push_back(m); }
  void rebalance();
  bool busy() const { return busy_; }
  PowerSeries& series() { return series_; }
  Json report(SimTime now);

 private:
  std::string name_;
  Watts total_;
  std::vector<PowerMonitor*> members_;
  PowerSeries series_;
  bool busy_ = false;
  std::vector<Watts> demand_;  // scratch, per member
};

}  // namespace llmsim
