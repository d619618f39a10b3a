// The shared resources of one device (its compute units and each memory tier) and the
// activities that run on them at once: kernels from every stream, copy-engine moves,
// collective reduction kernels. Each activity carries the work it still has on each
// resource (unit-seconds of compute, bytes of a tier); rates are shared max-min fair per
// resource (an SM scheduler deals units, a memory controller serves bytes), with the
// coupling between an activity's resources resolved by iteration. Rates change only when
// an activity starts or ends or the operating point changes (clock, a tier's bandwidth):
// then every activity's progress is brought up to date and the next completion is
// rescheduled (one pending event per device, stale ones dropped by a generation count),
// as FlowNet does for links. An activity alone runs exactly as estimate_op says:
// prologue + max(compute_time, memory_time).
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "sim/core/event_queue.h"
#include "sim/core/units.h"
#include "sim/ops/access_pattern.h"

namespace llmsim {

// One resource's demand of an activity.
struct ResourceDemand {
  int resource = 0;     // 0 = compute units; 1.. = memory tiers (ResourceArbiter::tier_index)
  // Compute: unit-seconds at the nominal clock (compute_time x units); tier: bytes.
  double work = 0;
  // Cap on what the activity may take of the resource: units, or bytes/s.
  double max_rate = std::numeric_limits<double>::infinity();
  // Dynamic energy per unit of work (J per unit-second at the nominal clock and voltage, or
  // J per byte): the activity draws work rate x this while it runs (docs/models.md "Power").
  double joules_per_work = 0;
};

class ResourceArbiter {
 public:
  static constexpr int kCompute = 0;
  using Done = std::function<void()>;

  // `units`: compute units (SMs, cores); tiers are added with add_tier in index order 1..
  ResourceArbiter(EventQueue& queue, int units);
  int add_tier(const std::string& name, BytesPerSecond sustained);
  int tier_index(const std::string& name) const;  // -1 if absent
  // What a tier's timing model sustains for each access pattern (its MemoryTier sets it).
  using PatternBandwidth = std::function<BytesPerSecond(const AccessPattern&)>;
  void set_tier_model(int tier, PatternBandwidth bandwidth);
  // The work `bytes` of `pattern` put on `tier`. Capacity is the model's sequential
  // bandwidth, so a pattern it serves slower costs more of the tier per byte: bytes x
  // sequential / bandwidth(pattern), sequential-equivalent bytes that share the tier max-min
  // fair like any other. The default pattern never asks the model (the fast path).
  double tier_work(int tier, Bytes bytes, const AccessPattern& pattern) const;
  int num_resources() const { return static_cast<int>(capacity_.size()); }

  // Starts an activity now; `done` runs when every demand's work is finished. An activity
  // with no work completes in the same instant (after the current event).
  std::uint64_t start(std::vector<ResourceDemand> demands, Done done);
  // A held share (a collective's reduction kernel): takes up to each demand's max_rate of
  // its resource until release(), and never completes by itself.
  std::uint64_t hold(std::vector<ResourceDemand> demands);
  void release(std::uint64_t id);

  // Operating point: compute capacity scales with the clock (1 = the chip's nominal
  // clock); a tier's sustained bandwidth can change (degraded stack, throttling).
  void set_clock_scale(double s);
  double clock_scale() const { return clock_scale_; }
  void set_tier_bandwidth(int tier, BytesPerSecond sustained);
  // A device going down: every resource serves nothing (capacity 0) until resumed;
  // activities keep their remaining work, so resuming finishes them later by the pause.
  void set_paused(bool paused);
  bool paused() const { return paused_; }
  // Clock and compute energy scale together under DVFS: `energy_scale` = (V / V_nominal)^2
  // multiplies the compute energy per unit of work (sim/ops/dvfs.h).
  void set_operating_point(double clock_scale, double energy_scale);
  double energy_scale() const { return energy_scale_; }

  // Dynamic power now, per resource (W), and energy integrated so far (J); `dvfs_saved`
  // is the compute energy the voltage reduction saved against nominal voltage.
  Watts power(int resource) const { return power_.at(static_cast<size_t>(resource)); }
  Watts total_power() const;
  Joules energy(int resource) const;
  Joules dvfs_saved_energy() const;
  // Total dynamic power the current activities would draw at another operating point
  // (rates re-shared at that clock); the state is left as it was. The power governor
  // searches the clock with this.
  Watts trial_power(double clock_scale, double energy_scale);
  // Called after every change of rates (activity start or end, operating point).
  void on_change(std::function<void()> f) { on_change_ = std::move(f); }
  double capacity(int resource) const;  // current: units, or bytes/s
  double nominal_capacity(int resource) const { return nominal_.at(static_cast<size_t>(resource)); }

  // Current usage of a resource (units or bytes/s), and an activity's progress rate
  // (fraction of its work per second). Tests read these.
  double usage(int resource) const;
  double rate(std::uint64_t id) const;
  int active() const { return static_cast<int>(acts_.size()); }

  // Statistics: time with any usage, and work served (unit-seconds at the nominal clock,
  // or bytes) per resource.
  SimTime busy_time(int resource) const { return busy_.at(static_cast<size_t>(resource)); }
  double work_served(int resource) const { return work_done_.at(static_cast<size_t>(resource)); }
  const std::string& resource_name(int resource) const { return names_.at(static_cast<size_t>(resource)); }

 private:
  // An activity uses at most compute plus two tiers (a copy reads one, writes another);
  // fixed storage keeps starts and ends free of heap allocation (serving starts ~10^6).
  static constexpr std::size_t kMaxDemands = 4;
  struct Demands {
    std::array<ResourceDemand, kMaxDemands> item;
    std::size_t n = 0;
    std::size_t size() const { return n; }
    const ResourceDemand& operator[](std::size_t k) const { return item[k]; }
    const ResourceDemand* begin() const { return item.data(); }
    const ResourceDemand* end() const { return item.data() + n; }
  };
  struct Activity {
    std::uint64_t id = 0;
    Demands demands;
    std::array<double, kMaxDemands> alloc{};  // per demand: units or bytes/s granted
    double done_fraction = 0;       // of the work on every demand (they progress together)
    double rate = 0;                // progress per second
    bool held = false;
    Done done;
  };
  static Demands pack(const std::vector<ResourceDemand>& demands);
  void advance();
  void recompute();
  void reschedule();
  void on_event(std::uint64_t gen);
  void changed_rates();  // recompute + reschedule (after advance)
  // Progress per second that `a` could make from its grants on every demand but `skip`.
  double rate_without(const Activity& a, std::size_t skip) const;
  double speed(int resource) const { return resource == kCompute ? clock_scale_ : 1.0; }
  void update_power();
  void notify() { if (on_change_) on_change_(); }

  EventQueue& queue_;
  std::vector<std::string> names_;
  std::vector<double> nominal_;   // capacity at clock scale 1
  std::vector<double> capacity_;
  std::vector<PatternBandwidth> pattern_bandwidth_;  // per resource (empty for compute)
  std::vector<double> usage_;
  std::vector<double> work_done_;   // integral of usage x speed (unit-seconds or bytes)
  std::vector<SimTime> busy_;
  std::vector<double> power_, energy_;  // per resource: W now, J so far
  double dvfs_saved_ = 0;
  double energy_scale_ = 1;
  std::function<void()> on_change_;
  std::vector<Activity> acts_;
  // Scratch for recompute(), kept to avoid allocating per start and end.
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> users_;
  std::vector<double> demand_, grant_;
  std::vector<std::size_t> order_;
  std::vector<int> users_count_;
  std::vector<Done> finished_;  // on_event's list of completions
  bool uncontended();  // no resource has two users
  double clock_scale_ = 1;
  bool paused_ = false;
  std::vector<double> resume_capacity_;  // capacities to restore while paused
  SimTime last_ = 0;
  std::uint64_t next_id_ = 1;
  std::uint64_t generation_ = 0;
};

}  // namespace llmsim
