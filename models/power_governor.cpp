#include "models/power_governor.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "models/device.h"
#include "models/model_context.h"
#include "sim/topo/topology.h"

namespace llmsim {

namespace {
// Bisection steps of the governor's clock search: 2^-14 of the clock range (< 0.01 %).
constexpr int kClockSearchSteps = 14;
// Clock changes smaller than this fraction are not made (they would only add events).
constexpr double kClockChangeMin = 1e-4;
// Power is "over the cap" beyond this relative excess (float residue of the search).
constexpr double kCapSlack = 1e-6;
}  // namespace

DvfsCurve DvfsCurve::of(const ChipSpec& chip, const PowerSetup& p) {
  return DvfsCurve{p.min_clock > 0 ? p.min_clock : chip.power.dvfs_min_clock / chip.clock,
                   p.min_voltage > 0 ? p.min_voltage : chip.power.dvfs_min_voltage};
}

double DvfsCurve::voltage(double s) const {
  if (s <= min_clock || min_clock >= 1) return min_voltage;
  return min_voltage + (1 - min_voltage) * (s - min_clock) / (1 - min_clock);
}

PowerSeries::PowerSeries(Seconds window) : window_(std::max<SimTime>(1, to_simtime(window))) {}

// Consecutive windows [win_start_, win_start_ + window_): whole windows inside one span
// all average power_, so a long span costs O(1).
void PowerSeries::advance(SimTime now) {
  if (now <= last_) return;
  peak_ = std::max(peak_, power_);
  energy_ += power_ * to_seconds(now - last_);
  SimTime t = last_;
  while (t < now) {
    SimTime end = std::min(now, win_start_ + window_);
    win_energy_ += power_ * to_seconds(end - t);
    t = end;
    if (end != win_start_ + window_) break;
    max_win_avg_ = std::max(max_win_avg_, win_energy_ / to_seconds(window_));
    win_start_ = end;
    win_energy_ = 0;
    if (now - win_start_ >= window_) {
      max_win_avg_ = std::max(max_win_avg_, power_);
      win_start_ += (now - win_start_) / window_ * window_;
      t = win_start_;
    }
  }
  last_ = now;
}

Watts PowerSeries::max_window_avg() const {
  Seconds part = to_seconds(last_ - win_start_);
  return std::max(max_win_avg_, part > 0 ? win_energy_ / part : Watts{0});
}

PowerMonitor::PowerMonitor(Device& device, ModelContext& sim, Watts cap, Seconds window, DvfsCurve curve,
                           PowerSeries* system)
    : dev_(device), sim_(sim), cap_(cap), curve_(curve), series_(window), system_(system) {
  series_.set(0, device.chip().power.idle);
  if (system_) {
    system_nw_ = PowerSeries::to_nanowatts(device.chip().power.idle);
    system_->add_nanowatts(0, system_nw_);
  }
  device.arbiter().on_change([this] { on_change(); });
  emit(device.chip().power.idle);  // idle devices show their idle power, not 0
}

void PowerMonitor::emit(Watts w) {
  Recorder& rec = sim_.recorder();
  if (!rec.on() || w == emitted_) return;
  if (track_ < 0) track_ = rec.track(dev_.label(), "power", 2);
  rec.counter(track_, "power_w", last_, w);
  rec.counter(track_, "clock_ghz", last_, dev_.clock() / 1e9);
  emitted_ = w;
}

void PowerMonitor::advance_to_now() {
  SimTime now = sim_.now();
  if (now > last_) {
    const double dt = to_seconds(now - last_);
    if (cap() > 0 && series_.power() > cap() * (1 + kCapSlack)) over_cap_s_ += dt;
    const double s = dev_.arbiter().clock_scale();
    clock_seconds_ += s * dt;
    if (s < 1 - kClockChangeMin) throttled_s_ += dt;
  }
  series_.advance(now);
  last_ = now;
}

Watts PowerMonitor::idle() const { return dev_.chip().power.idle; }

Watts PowerMonitor::cap() const {
  Watts c = cap_;
  for (Watts s : shares_) c = c > 0 ? std::min(c, s) : s;
  return c;
}

Watts PowerMonitor::demand() {
  const Watts d = idle() + dev_.arbiter().trial_power(ceiling_, curve_.energy_scale(ceiling_));
  return cap_ > 0 ? std::min(d, cap_) : d;
}

void PowerMonitor::join(PowerGroup* g) {
  groups_.push_back(g);
  shares_.push_back(cap_ > 0 ? cap_ : std::numeric_limits<Watts>::infinity());
  g->add(this);
  g->series().add_nanowatts(0, system_nw_);
}

void PowerMonitor::set_node(NodePower* n) {
  node_ = n;
  n->add(last_, system_nw_);
}

NodePower::NodePower(std::string name, ModelContext& sim) : name_(std::move(name)), sim_(sim) {
  // Opened now, before the run: the VCD traces only signals that exist at sc_start.
  if (sim_.recorder().on()) track_ = sim_.recorder().track(name_, "node_power", 2);
}

void NodePower::add(SimTime now, std::int64_t delta_nw) {
  if (now != at_) {
    write();
    at_ = now;
  }
  sum_nw_ += delta_nw;
}

void NodePower::write() {
  if (track_ < 0 || sum_nw_ == emitted_nw_) return;
  sim_.recorder().counter(track_, "power_w", at_, static_cast<double>(sum_nw_) * 1e-9);
  emitted_nw_ = sum_nw_;
}

void PowerMonitor::set_share(const PowerGroup* g, Watts share) {
  for (size_t i = 0; i < groups_.size(); ++i)
    if (groups_[i] == g) shares_[i] = share;
}

void PowerMonitor::on_change() {
  if (busy_) return;
  for (PowerGroup* g : groups_) {
    if (!g->busy()) g->rebalance();  // re-governs this device too
  }
  update();
}

void PowerMonitor::regovern() { update(); }

void PowerMonitor::set_system_weight(int w) {
  if (system_) system_->add_nanowatts(sim_.now(), (w - system_weight_) * system_nw_);
  system_weight_ = w;
}

void PowerMonitor::update() {
  if (busy_) return;
  busy_ = true;
  advance_to_now();
  // A clock the governor did not set (Device::set_clock: microbench events, a straggler)
  // is the new ceiling: the governor only lowers the clock below it.
  const double s = dev_.arbiter().clock_scale();
  if (s != governed_) ceiling_ = governed_ = s;
  if (cap() > 0) govern();
  const Watts now_w = idle() + dev_.arbiter().total_power();
  series_.set(last_, now_w);
  const std::int64_t nw = PowerSeries::to_nanowatts(now_w);
  if (system_) system_->add_nanowatts(last_, system_weight_ * (nw - system_nw_));
  for (PowerGroup* g : groups_) g->series().add_nanowatts(last_, nw - system_nw_);
  if (node_) node_->add(last_, nw - system_nw_);
  system_nw_ = nw;
  emit(now_w);
  busy_ = false;
}

void PowerGroup::rebalance() {
  busy_ = true;
  demand_.resize(members_.size());
  Watts sum = 0, idle_sum = 0;
  for (size_t i = 0; i < members_.size(); ++i) {
    members_[i]->advance_to_now();  // the elapsed span ran under the old shares
    demand_[i] = members_[i]->demand();
    sum += demand_[i];
    idle_sum += members_[i]->idle();
  }
  const Watts dyn_sum = sum - idle_sum;
  for (size_t i = 0; i < members_.size(); ++i) {
    PowerMonitor& m = *members_[i];
    Watts share = std::numeric_limits<Watts>::infinity();  // the demands fit: own caps hold
    if (sum > total_) {
      const Watts dyn = demand_[i] - m.idle();
      share = m.idle() + (dyn_sum > 0 ? (total_ - idle_sum) * dyn / dyn_sum : 0.0);
    }
    m.set_share(this, share);
  }
  for (PowerMonitor* m : members_) m->regovern();
  busy_ = false;
}

Json PowerGroup::report(SimTime now) {
  series_.advance(now);
  Json j;
  j["name"] = name_;
  j["devices"] = static_cast<int>(members_.size());
  j["total_w"] = total_;
  j["policy"] = "demand-proportional";
  j["energy_j"] = series_.energy();
  j["peak_power_w"] = series_.peak();
  j["max_window_avg_w"] = series_.max_window_avg();
  return j;
}

// The highest clock scale in [min_clock, ceiling] at which the present activities fit the cap;
// power rises with the clock (more work per second, higher voltage), so bisection finds it.
void PowerMonitor::govern() {
  ResourceArbiter& a = dev_.arbiter();
  const Watts budget = cap() - dev_.chip().power.idle;
  const double now_s = a.clock_scale();
  const double top = ceiling_;
  double target = top;
  if (!(now_s == top && a.total_power() <= budget) && a.trial_power(top, curve_.energy_scale(top)) > budget) {
    double lo = std::min(curve_.min_clock, top), hi = top;
    if (a.trial_power(lo, curve_.energy_scale(lo)) <= budget) {
      for (int i = 0; i < kClockSearchSteps; ++i) {
        double mid = 0.5 * (lo + hi);
        (a.trial_power(mid, curve_.energy_scale(mid)) <= budget ? lo : hi) = mid;
      }
    }
    target = lo;  // the floor when even it cannot meet the cap (counted in over_cap_s)
  }
  if (std::abs(target - now_s) > kClockChangeMin * now_s || (target == top && now_s != top)) {
    a.set_operating_point(target, curve_.energy_scale(target));
    ++changes_;
  }
  governed_ = a.clock_scale();
}

Json PowerMonitor::report() {
  advance_to_now();
  const Seconds t = to_seconds(last_);
  ResourceArbiter& a = dev_.arbiter();
  Json j;
  j["device"] = dev_.label();
  Json comp;
  comp["idle"] = dev_.idle_energy(t);
  for (int r = 0; r < a.num_resources(); ++r) comp[a.resource_name(r)] = a.energy(r);
  const Joules e = dev_.energy(t);
  j["energy_j"] = e;
  j["components_j"] = comp;
  j["avg_power_w"] = t > 0 ? e / t : Watts{0};
  j["peak_power_w"] = series_.peak();
  j["max_window_avg_w"] = series_.max_window_avg();
  j["cap_w"] = cap_;
  if (cap_ > 0) {
    j["over_cap_s"] = over_cap_s_;
    j["throttled_s"] = throttled_s_;
    j["clock_changes"] = changes_;
  }
  j["avg_clock_hz"] = t > 0 ? clock_seconds_ / t * dev_.chip().clock : dev_.clock();
  return j;
}

}  // namespace llmsim
