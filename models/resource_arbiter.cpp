#include "models/resource_arbiter.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace llmsim {

namespace {
// Progress left below this counts as done (float residue of rates x integer picoseconds).
constexpr double kDoneEpsilon = 1e-9;
// Jacobi rounds of per-resource water-filling; two or three settle every case with one or
// two resources per activity, the bound only guards against a pathological mix.
constexpr int kMaxRounds = 16;
constexpr double kInf = std::numeric_limits<double>::infinity();

// Max-min fair shares of `capacity` among demands (classic water-filling).
void water_fill(double capacity, const std::vector<double>& demand, std::vector<double>& grant,
                std::vector<std::size_t>& order) {
  const std::size_t n = demand.size();
  grant.assign(n, 0);
  order.resize(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return demand[a] != demand[b] ? demand[a] < demand[b] : a < b;
  });
  double left = capacity;
  for (std::size_t k = 0; k < n; ++k) {
    double share = left / static_cast<double>(n - k);
    std::size_t i = order[k];
    grant[i] = std::min(demand[i], share);
    left -= grant[i];
  }
}
}  // namespace

ResourceArbiter::Demands ResourceArbiter::pack(const std::vector<ResourceDemand>& demands) {
  if (demands.size() > kMaxDemands) throw std::length_error("an activity has at most 4 resource demands");
  Demands out;
  for (const auto& d : demands) out.item[out.n++] = d;
  return out;
}

ResourceArbiter::ResourceArbiter(EventQueue& queue, int units) : queue_(queue) {
  if (units < 1) throw std::invalid_argument("a device needs at least one compute unit");
  names_.push_back("compute");
  nominal_.push_back(units);
  capacity_.push_back(units);
  usage_.push_back(0);
  work_done_.push_back(0);
  busy_.push_back(0);
  power_.push_back(0);
  energy_.push_back(0);
}

int ResourceArbiter::add_tier(const std::string& name, BytesPerSecond sustained) {
  names_.push_back(name);
  nominal_.push_back(sustained);
  capacity_.push_back(sustained);
  usage_.push_back(0);
  work_done_.push_back(0);
  busy_.push_back(0);
  power_.push_back(0);
  energy_.push_back(0);
  return static_cast<int>(names_.size()) - 1;
}

int ResourceArbiter::tier_index(const std::string& name) const {
  for (std::size_t i = 1; i < names_.size(); ++i) if (names_[i] == name) return static_cast<int>(i);
  return -1;
}

void ResourceArbiter::set_tier_model(int tier, PatternBandwidth bandwidth) {
  if (pattern_bandwidth_.size() < names_.size()) pattern_bandwidth_.resize(names_.size());
  pattern_bandwidth_.at(static_cast<size_t>(tier)) = std::move(bandwidth);
}

double ResourceArbiter::tier_work(int tier, Bytes bytes, const AccessPattern& pattern) const {
  const auto t = static_cast<size_t>(tier);
  if (pattern.is_default() || t >= pattern_bandwidth_.size() || !pattern_bandwidth_[t]) return bytes;
  BytesPerSecond bw = pattern_bandwidth_[t](pattern);
  return bw > 0 ? bytes * nominal_[t] / bw : bytes;
}

double ResourceArbiter::capacity(int resource) const { return capacity_.at(static_cast<size_t>(resource)); }
double ResourceArbiter::usage(int resource) const { return usage_.at(static_cast<size_t>(resource)); }

double ResourceArbiter::rate(std::uint64_t id) const {
  for (const auto& a : acts_) if (a.id == id) return a.rate;
  return 0;
}

std::uint64_t ResourceArbiter::start(std::vector<ResourceDemand> demands, Done done) {
  demands.erase(std::remove_if(demands.begin(), demands.end(), [](const ResourceDemand& d) { return !(d.work > 0); }),
                demands.end());
  for (const auto& d : demands) {
    if (d.resource < 0 || d.resource >= num_resources()) throw std::out_of_range("no such device resource");
  }
  std::uint64_t id = next_id_++;
  if (demands.empty()) {
    queue_.after(0, std::move(done));
    return id;
  }
  advance();
  Activity a;
  a.id = id;
  a.demands = pack(demands);
  a.done = std::move(done);
  acts_.push_back(std::move(a));
  recompute();
  reschedule();
  notify();
  return id;
}

std::uint64_t ResourceArbiter::hold(std::vector<ResourceDemand> demands) {
  advance();
  Activity a;
  a.id = next_id_++;
  a.held = true;
  for (auto& d : demands) d.work = 1;  // a hold's "work" only marks the resource as used
  a.demands = pack(demands);
  acts_.push_back(std::move(a));
  recompute();
  reschedule();
  std::uint64_t id = acts_.back().id;
  notify();
  return id;
}

void ResourceArbiter::release(std::uint64_t id) {
  auto it = std::find_if(acts_.begin(), acts_.end(), [id](const Activity& a) { return a.id == id; });
  if (it == acts_.end()) return;
  advance();
  acts_.erase(it);
  changed_rates();
}

void ResourceArbiter::set_clock_scale(double s) { set_operating_point(s, energy_scale_); }

void ResourceArbiter::set_operating_point(double clock_scale, double energy_scale) {
  if (!(clock_scale > 0)) throw std::invalid_argument("clock scale must be positive");
  if (!(energy_scale > 0)) throw std::invalid_argument("energy scale must be positive");
  advance();
  clock_scale_ = clock_scale;
  energy_scale_ = energy_scale;
  changed_rates();
}

// Integrals so far plus the span since the last change, at the power held over it.
Joules ResourceArbiter::energy(int resource) const {
  const auto r = static_cast<size_t>(resource);
  return energy_.at(r) + Watts{power_.at(r)} * to_seconds(queue_.now() - last_);
}

Joules ResourceArbiter::dvfs_saved_energy() const {
  return dvfs_saved_ + Watts{power_[kCompute] * (1 / energy_scale_ - 1)} * to_seconds(queue_.now() - last_);
}

Watts ResourceArbiter::total_power() const {
  Watts p = 0;
  for (double w : power_) p += w;
  return p;
}

Watts ResourceArbiter::trial_power(double clock_scale, double energy_scale) {
  const double c = clock_scale_, e = energy_scale_;
  clock_scale_ = clock_scale;
  energy_scale_ = energy_scale;
  recompute();
  Watts p = total_power();
  clock_scale_ = c;
  energy_scale_ = e;
  recompute();
  return p;
}

// Work per second of a demand is rate x work (nominal units), so its power is that x J per
// work; compute energy per work scales with V^2 (energy_scale).
void ResourceArbiter::update_power() {
  std::fill(power_.begin(), power_.end(), 0.0);
  for (const auto& a : acts_) {
    if (a.held) {  // a held share draws what it is granted (a collective kernel's bytes/s x J/B)
      for (std::size_t k = 0; k < a.demands.size(); ++k)
        power_[static_cast<size_t>(a.demands[k].resource)] += a.alloc[k] * a.demands[k].joules_per_work;
      continue;
    }
    for (const auto& d : a.demands) power_[static_cast<size_t>(d.resource)] += a.rate * d.work * d.joules_per_work;
  }
  power_[kCompute] *= energy_scale_;
}

void ResourceArbiter::set_tier_bandwidth(int tier, BytesPerSecond sustained) {
  if (tier <= 0 || tier >= num_resources()) throw std::out_of_range("no such memory tier");
  if (!(sustained > 0)) throw std::invalid_argument("tier bandwidth must be positive");
  advance();
  (paused_ ? resume_capacity_ : capacity_)[static_cast<size_t>(tier)] = sustained;
  changed_rates();
}

void ResourceArbiter::set_paused(bool paused) {
  if (paused == paused_) return;
  advance();
  paused_ = paused;
  if (paused) {
    resume_capacity_ = capacity_;
    std::fill(capacity_.begin(), capacity_.end(), 0.0);
  } else {
    capacity_ = resume_capacity_;
  }
  changed_rates();
}

void ResourceArbiter::changed_rates() {
  recompute();
  reschedule();
  notify();
}

void ResourceArbiter::advance() {
  SimTime now = queue_.now();
  if (now > last_) {
    double dt = to_seconds(now - last_);
    for (auto& a : acts_) if (!a.held) a.done_fraction += a.rate * dt;
    for (std::size_t r = 0; r < usage_.size(); ++r) {
      if (usage_[r] > 0) {
        busy_[r] += now - last_;
        work_done_[r] += usage_[r] * speed(static_cast<int>(r)) * dt;
      }
      energy_[r] += power_[r] * dt;
    }
    dvfs_saved_ += power_[kCompute] * (1 / energy_scale_ - 1) * dt;
  }
  last_ = now;
}

double ResourceArbiter::rate_without(const Activity& a, std::size_t skip) const {
  double p = kInf;
  for (std::size_t k = 0; k < a.demands.size(); ++k) {
    if (k == skip) continue;
    const ResourceDemand& d = a.demands[k];
    p = std::min(p, a.alloc[k] * speed(d.resource) / d.work);
  }
  return p;
}

bool ResourceArbiter::uncontended() {
  users_count_.assign(capacity_.size(), 0);
  for (const auto& a : acts_) {
    for (const auto& d : a.demands) {
      if (++users_count_[static_cast<size_t>(d.resource)] > 1) return false;
    }
  }
  return true;
}

void ResourceArbiter::recompute() {
  for (auto& a : acts_) a.alloc.fill(kInf);
  std::fill(usage_.begin(), usage_.end(), 0.0);
  if (uncontended()) {  // one user per resource (the common case): every grant is its cap
    for (auto& a : acts_) {
      for (std::size_t k = 0; k < a.demands.size(); ++k) {
        a.alloc[k] = std::min(a.demands[k].max_rate, capacity_[static_cast<size_t>(a.demands[k].resource)]);
      }
      if (a.held) {
        for (std::size_t k = 0; k < a.demands.size(); ++k) usage_[static_cast<size_t>(a.demands[k].resource)] += a.alloc[k];
        continue;
      }
      a.rate = rate_without(a, a.demands.size());
      for (const auto& d : a.demands) usage_[static_cast<size_t>(d.resource)] += a.rate * d.work / speed(d.resource);
    }
    update_power();
    return;
  }
  // Users of each resource: (activity, demand index).
  auto& users = users_;
  users.resize(capacity_.size());
  for (auto& u : users) u.clear();
  for (std::size_t i = 0; i < acts_.size(); ++i) {
    for (std::size_t k = 0; k < acts_[i].demands.size(); ++k) {
      users[static_cast<size_t>(acts_[i].demands[k].resource)].push_back({i, k});
    }
  }
  auto& demand = demand_;
  auto& grant = grant_;
  for (int round = 0; round < kMaxRounds; ++round) {
    bool moved = false;
    for (std::size_t r = 0; r < users.size(); ++r) {
      if (users[r].empty()) continue;
      demand.clear();
      for (auto [i, k] : users[r]) {
        const Activity& a = acts_[i];
        const ResourceDemand& d = a.demands[k];
        double cap = d.max_rate;
        // What the activity could use here given its grants elsewhere (holds take their cap).
        if (!a.held) cap = std::min(cap, rate_without(a, k) * d.work / speed(d.resource));
        demand.push_back(cap);
      }
      water_fill(capacity_[r], demand, grant, order_);
      for (std::size_t u = 0; u < users[r].size(); ++u) {
        auto [i, k] = users[r][u];
        double& cur = acts_[i].alloc[k];
        if (std::abs(cur - grant[u]) > 1e-12 * std::max(1.0, std::abs(grant[u]))) moved = true;
        cur = grant[u];
      }
    }
    if (!moved) break;
  }
  for (auto& a : acts_) {
    if (a.held) {
      for (std::size_t k = 0; k < a.demands.size(); ++k) usage_[static_cast<size_t>(a.demands[k].resource)] += a.alloc[k];
      continue;
    }
    a.rate = rate_without(a, a.demands.size());
    for (const auto& d : a.demands) usage_[static_cast<size_t>(d.resource)] += a.rate * d.work / speed(d.resource);
  }
  update_power();
}

void ResourceArbiter::reschedule() {
  ++generation_;
  double soonest = kInf;
  for (const auto& a : acts_) {
    if (a.held || !(a.rate > 0)) continue;
    soonest = std::min(soonest, std::max(0.0, 1 - a.done_fraction) / a.rate);
  }
  if (soonest == kInf) return;
  // Round up so the activity has finished when the event fires; past the int64 ps horizon
  // the run stops (exit 3) rather than wrap.
  const double ps = std::ceil(soonest * 1e12);
  if (!(ps < 9.2e18)) past_horizon(to_seconds(queue_.now()) + soonest);
  SimTime dt = static_cast<SimTime>(ps);
  std::uint64_t gen = generation_;
  queue_.after(dt, [this, gen] { on_event(gen); });
}

void ResourceArbiter::on_event(std::uint64_t gen) {
  if (gen != generation_) return;  // rates changed since this was scheduled
  advance();
  // Reuses the scratch's capacity (no allocation per completion); swapped out because a
  // finished activity's callback may start another and complete nothing meanwhile.
  std::vector<Done> finished;
  finished.swap(finished_);
  for (auto it = acts_.begin(); it != acts_.end();) {
    if (!it->held && it->done_fraction >= 1 - kDoneEpsilon) {
      finished.push_back(std::move(it->done));
      it = acts_.erase(it);
    } else {
      ++it;
    }
  }
  changed_rates();
  for (auto& f : finished) if (f) f();
  finished.clear();
  if (finished_.capacity() < finished.capacity()) finished_.swap(finished);
}

}  // namespace llmsim
