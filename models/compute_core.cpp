#include "models/compute_core.h"

#include <algorithm>
#include <cstdio>

#include "models/model_context.h"
#include "sim/ops/energy.h"

namespace llmsim {

namespace {
// Waves drawn individually per op; beyond this the rest is one "waves k..n" span, so a
// 10,000-wave GEMM does not flood the timeline.
constexpr std::int64_t kMaxWaveSpans = 64;
}  // namespace

ComputeCore::ComputeCore(const sc_core::sc_module_name& name, const ChipSpec& chip, ModelContext& sim,
                         const std::string& device_name, ResourceArbiter& arbiter, bool uses_units)
    : sc_core::sc_module(name), chip_(chip), sim_(sim), device_name_(device_name), arbiter_(arbiter),
      uses_units_(uses_units) {}

void ComputeCore::submit(const Op& op, Done done) {
  OpCost cost = estimate_op(op, chip_);
  submit(cost, op.name.empty() ? op_kind_name(op.kind) : op.name, std::move(done));
}

void ComputeCore::submit(const OpCost& cost, const std::string& label, Done done) {
  queue_.push_back(Pending{cost, label, std::move(done), sim_.now()});
  start_next();
}

void ComputeCore::submit_ordered(const Op& op, std::int64_t order, Done done) {
  OpCost cost = estimate_op(op, chip_);
  Pending p{cost, op.name.empty() ? op_kind_name(op.kind) : op.name, std::move(done), sim_.now(), order, in_done_};
  std::size_t at = queue_.size();
  const std::size_t first = running_ ? head_ + 1 : head_;
  auto after = [&](const Pending& q) {  // q goes after p
    if (q.submitted != p.submitted || q.order < 0 || q.continuation) return false;
    return p.continuation || q.order > p.order;
  };
  while (at > first && after(queue_[at - 1])) --at;
  queue_.insert(queue_.begin() + static_cast<std::ptrdiff_t>(at), std::move(p));
  start_next();
}

void ComputeCore::start_next() {
  if (running_ || head_ == queue_.size()) return;
  const Pending& next = queue_[head_];
  if (next.order >= 0 && next.submitted == sim_.now() && !next.continuation) {
    // Submitted this instant: wait for the instant's other ordered submissions.
    if (start_armed_) return;
    start_armed_ = true;
    sim_.queue().at(
        sim_.now(),
        [this] {
          start_armed_ = false;
          start_head();
        },
        kOrderedStartPriority);
    return;
  }
  start_head();
}

void ComputeCore::start_head() {
  if (running_ || head_ == queue_.size()) return;
  running_ = true;
  started_ = sim_.now();
  queue_delay_ += started_ - queue_[head_].submitted;
  Recorder& rec = sim_.recorder();
  if (rec.on()) {
    if (track_ < 0) track_ = rec.track(device_name_, basename(), 0);
    if (!busy_signal_) rec.counter(track_, "busy", started_, 1);
    busy_signal_ = true;
  }
  SimTime prologue = to_simtime(queue_[head_].cost.prologue);
  if (prologue > 0) sim_.queue().at(time_add(started_, prologue), [this] { begin_body(); });
  else begin_body();
}

void ComputeCore::begin_body() { arbiter_.start(demands(queue_[head_].cost), [this] { finish(); }); }

// Alone on the device this reproduces estimate_op: the body lasts max(compute_time,
// memory_time), since compute work / all units and tier bytes / sustained bandwidth give
// exactly those two times.
std::vector<ResourceDemand> ComputeCore::demands(const OpCost& c) const {
  std::vector<ResourceDemand> d;
  d.reserve(3);  // units + up to two tiers: one allocation per op, not one per demand
  const double units = arbiter_.nominal_capacity(ResourceArbiter::kCompute);
  if (uses_units_ && c.compute_time > 0) d.push_back({ResourceArbiter::kCompute, c.compute_time * units});
  int from = c.tier.empty() ? -1 : arbiter_.tier_index(c.tier);
  int to = c.tier_to.empty() ? -1 : arbiter_.tier_index(c.tier_to);
  // tier_work scales the bytes for the op's access pattern (its tier model's figure).
  if (to >= 0 && from >= 0) {  // a copy between two tiers: each side moves the bytes once
    d.push_back({from, arbiter_.tier_work(from, c.bytes / 2, c.pattern)});
    d.push_back({to, arbiter_.tier_work(to, c.bytes / 2, c.pattern)});
  } else if (from >= 0 && c.memory_time > 0) {
    // The bytes estimate_op streamed at bandwidth x efficiency; the tier's model serves them.
    // Arbiter tier i is chip.memory[i - 1] (Device adds the tiers in catalog order).
    const MemoryTierSpec& t = chip_.memory[static_cast<std::size_t>(from - 1)];
    d.push_back({from, arbiter_.tier_work(from, c.memory_time * t.bandwidth * t.efficiency, c.pattern)});
  }
  spread_energy(c, d);
  return d;
}

// The op's energy drawn while it runs, so the power time series integrates to exactly the
// energy the op is charged: the bytes' share (bytes x the tier's pJ/B, all of a copy's)
// on the tier demands, the rest (FLOPs) on compute; with only one kind, all on it.
void ComputeCore::spread_energy(const OpCost& c, std::vector<ResourceDemand>& d) const {
  if (d.empty() || !(c.energy > 0)) return;
  double tier_work = 0, compute_work = 0;
  for (const auto& x : d) (x.resource == ResourceArbiter::kCompute ? compute_work : tier_work) += x.work;
  Joules mem_j = 0;
  if (!c.tier_to.empty()) {
    mem_j = c.energy;
  } else if (const MemoryTierSpec* t = c.tier.empty() ? nullptr : chip_.tier(c.tier)) {
    mem_j = std::min(c.energy, Joules{c.bytes * tier_pj_per_byte(chip_, *t) * 1e-12});
  }
  if (!(tier_work > 0)) mem_j = 0;
  if (!(compute_work > 0)) mem_j = c.energy;
  for (auto& x : d) {
    bool compute = x.resource == ResourceArbiter::kCompute;
    x.joules_per_work = compute ? (c.energy - mem_j) / compute_work : mem_j / tier_work;
  }
}

void ComputeCore::finish() {
  Pending p = std::move(queue_[head_++]);
  if (head_ == queue_.size()) {
    queue_.clear();
    head_ = 0;
  } else if (head_ >= 64 && 2 * head_ >= queue_.size()) {  // long-busy stream: drop the done half
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  SimTime end = sim_.now();
  busy_time_ += end - started_;
  flops_ += p.cost.flops;
  energy_ += p.cost.energy;
  ++ops_done_;
  running_ = false;
  if (sim_.recorder().on()) record(p, started_, end);
  in_done_ = true;
  if (p.done) p.done(p.cost);
  in_done_ = false;
  start_next();
  // The busy 0 point is written after this instant's other events (kBusyCheckPriority)
  // and only if the stream is idle then: work submitted by a same-time event keeps the
  // signal at 1 whichever of the two ran first (--debug-tie-shuffle), instead of a 1-0-1
  // glitch that depends on event order. The check is queued once per instant with an op
  // end, idle or not, so the number of events run does not depend on that order either.
  if (busy_signal_ && !busy_check_armed_) {
    busy_check_armed_ = true;
    sim_.queue().at(end, [this, end] {
      busy_check_armed_ = false;
      if (running_ || !busy_signal_) return;
      sim_.recorder().counter(track_, "busy", end, 0);
      busy_signal_ = false;
    }, kBusyCheckPriority);
  }
}

void ComputeCore::record(const Pending& p, SimTime begin, SimTime end) {
  Recorder& rec = sim_.recorder();
  char args[256];
  std::snprintf(args, sizeof args,
                "{\"dtype\":\"%s\",\"flops\":%.6g,\"bytes\":%.6g,\"tiles\":%lld,\"waves\":%lld,\"memory_bound\":%s}",
                p.cost.dtype.c_str(), p.cost.flops.value(), p.cost.bytes.value(), static_cast<long long>(p.cost.tiles),
                static_cast<long long>(p.cost.waves), p.cost.memory_bound ? "true" : "false");
  rec.span(track_, p.label, "op", begin, end, args);
  if (!wave_spans_ || p.cost.waves <= 0) return;
  SimTime t = begin + to_simtime(p.cost.prologue);
  rec.span(track_, "prologue", "wave", begin, t);
  const std::int64_t n = p.cost.waves;
  for (std::int64_t w = 0; w < n; ++w) {
    bool last = w == n - 1;
    if (w == kMaxWaveSpans - 1 && !last) {
      // Remaining full waves as one span, then the last wave.
      SimTime e = t + to_simtime(p.cost.wave_time * static_cast<double>(n - 1 - w));
      rec.span(track_, "waves " + std::to_string(w + 1) + "-" + std::to_string(n - 1), "wave", t, e);
      t = e;
      w = n - 2;
      continue;
    }
    SimTime e = t + to_simtime(last ? p.cost.last_wave_time : p.cost.wave_time);
    rec.span(track_, "wave " + std::to_string(w + 1), "wave", t, std::min(e, end));
    t = e;
  }
}

}  // namespace llmsim
