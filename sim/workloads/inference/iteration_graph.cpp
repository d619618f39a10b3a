#include "sim/workloads/inference/iteration_graph.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "models/device.h"
#include "models/network.h"
#include "sim/engine/simulation.h"

namespace llmsim {

IterationGraph::IterationGraph(Simulation& sim, const InferenceConfig& cfg, const Lowering& lowering,
                               std::vector<std::vector<int>> stages, std::function<void()> on_end)
    : sim_(sim), cfg_(cfg), lowering_(lowering), stages_(std::move(stages)), on_end_(std::move(on_end)) {
  costs_.resize(stages_.size());
  ops_.resize(stages_.size());
  if (cfg_.tp2d())
    for (const auto& stage : stages_)
      tp2d_groups_.push_back({tp2d_groups(cfg_, stage, false), tp2d_groups(cfg_, stage, true)});
  if (!stages_.empty() && !stages_.front().empty()) {
    Device& d = sim_.device(stages_.front().front());
    kv_tier_ = d.arbiter().tier_index(d.chip().placement.kv_cache);
    // The host track is made here, in replica order, not at its first span: track ids must
    // not depend on the order of same-time events (--debug-tie-shuffle).
    if (sim_.recorder().on()) host_track_ = sim_.recorder().track(d.label(), "host", -1);
  }
  build();
}

void IterationGraph::build() {
  const bool overlap = cfg_.software.host_overlap;
  constexpr int prep = 0, launch = 1;  // the first two nodes (constants: no capture needed)
  graph_.add([this](OpGraph::Done) { host_delay(prep_, "host prep", prep, false); });
  graph_.add([this](OpGraph::Done) { host_delay(launch_, "kernel launch", launch, launch_hidden_); },
             overlap ? std::vector<int>{} : std::vector<int>{prep});
  std::vector<int> last;  // the nodes the next step waits for
  if (cfg_.software.launch_precedes_device())
    last.push_back(launch);  // lazy dispatch: the device runs what the host has launched
  else if (!overlap) last.push_back(prep);
  const bool moe = cfg_.model.moe();
  for (std::size_t s = 0; s < stages_.size(); ++s) {
    last = add_compute(s, last);
    if (cfg_.tp2d()) {
      for (std::size_t i = 0; i < tp2d_phases(cfg_); ++i) {
        const int id = static_cast<int>(graph_.size());
        graph_.add([this, s, i, id](OpGraph::Done) { launch_tp2d(s, i, id); }, last);
        last.assign(1, id);
      }
    } else if (cfg_.tp > 1 && !cfg_.weights_gathered) {
      add_collective(s, CollectiveKind::AllReduce, last);
      if (moe) add_collective(s, CollectiveKind::AllToAll, last);
    }
    if (cfg_.tp > 1 && s + 1 == stages_.size()) {
      const int id = static_cast<int>(graph_.size());
      graph_.add([this, s, id](OpGraph::Done) { launch_logits(s, id); }, last);
      last.assign(1, id);
    }
    if (s + 1 < stages_.size()) {
      std::vector<int> sends;
      for (std::size_t t = 0; t < stages_[s].size(); ++t) {
        const int id = static_cast<int>(graph_.size());
        sends.push_back(graph_.add([this, s, t, id](OpGraph::Done) { launch_send(s, t, id); }, last));
      }
      last = std::move(sends);
    }
  }
  if (stages_.size() > 1) {
    // The sampled tokens go back to the first stage, whose embedding the next step starts
    // from: an autoregressive pipeline closes its loop once per step.
    std::vector<int> returns;
    for (std::size_t t = 0; t < stages_.back().size(); ++t) {
      const int id = static_cast<int>(graph_.size());
      returns.push_back(graph_.add([this, t, id](OpGraph::Done) { launch_return(t, id); }, last));
    }
    last = std::move(returns);
  }
  const int device_done = graph_.add([this](OpGraph::Done done) {
    device_end_ = sim_.now();
    done();
  }, last);
  std::vector<int> end_deps{device_done, launch};
  if (overlap) end_deps.push_back(prep);
  graph_.add(
      [this](OpGraph::Done done) {
        account_iteration();
        done();  // the graph is finished (and may be re-armed) before the next iteration starts
        running_ = false;
        on_end_();
      },
      end_deps);
}

// A host-side delay node (preparation or launches), shown on the replica's host track.
void IterationGraph::host_delay(Seconds t, const char* what, int node, bool hidden) {
  if (t <= 0) {
    graph_.complete(node);
    return;
  }
  const SimTime start = sim_.now(), end = time_add(start, to_simtime(t));
  if (host_track_ >= 0) sim_.recorder().span(host_track_, what, "host", start, end, "{}");
  if (hidden) {
    graph_.complete(node);
    return;
  }
  // Ordered by the graph's rank (set_order: the engine index; two pipeline engines share
  // their devices) among same-time host events: what runs next (compute submissions to
  // shared FIFO streams, timeline tracks made on first use) must not depend on the order
  // of same-time events (--debug-tie-shuffle).
  sim_.queue().at(end, [this, node] { graph_.complete(node); }, 1 + order_);
}

void IterationGraph::account_iteration() {
  const Seconds wall = to_seconds(sim_.now() - begin_);
  Seconds before_device = cfg_.software.host_overlap ? Seconds{0} : prep_;
  if (cfg_.software.launch_precedes_device()) before_device += launch_;
  const SimTime device_start = time_add(begin_, to_simtime(before_device));
  Seconds compute = 0, memory_bound = 0;
  for (const StageCost& c : costs_) {
    compute += c.compute;
    memory_bound += c.memory_bound;
  }
  split_.add(wall, to_seconds(device_end_ - device_start), comm_, compute > 0 ? memory_bound / compute : 0.0);
}

std::vector<int> IterationGraph::add_compute(std::size_t s, std::vector<int> after) {
  const bool gathered = cfg_.weights_gathered && cfg_.tp > 1;
  if (gathered) {
    const int id = static_cast<int>(graph_.size());
    graph_.add([this, s, id](OpGraph::Done) { launch_gathers(s, true, id); }, after);
    after.assign(1, id);
  }
  std::vector<int> nodes;
  for (std::size_t t = 0; t < stages_[s].size(); ++t) {
    const int id = static_cast<int>(graph_.size());
    nodes.push_back(graph_.add([this, s, t, id](OpGraph::Done) { launch_compute(s, t, id); }, after));
  }
  if (gathered) {
    const int id = static_cast<int>(graph_.size());
    nodes.push_back(graph_.add([this, s, id](OpGraph::Done) { launch_gathers(s, false, id); }, after));
  }
  return nodes;
}

void IterationGraph::add_collective(std::size_t s, CollectiveKind kind, std::vector<int>& last) {
  const int id = static_cast<int>(graph_.size());
  graph_.add([this, s, kind, id](OpGraph::Done) { launch_collective(s, kind, id); }, last);
  last.assign(1, id);
}

void IterationGraph::run(const IterationShape& shape, const std::string& label) {
  if (graph_.finished_count() > 0) graph_.rearm();
  running_ = true;
  for (std::size_t s = 0; s < stages_.size(); ++s) {
    const StageCost& c = costs_[s] = lowering_.stage_cost(shape, static_cast<std::int64_t>(s));
    OpCost& op = ops_[s];
    op.time = c.compute;
    op.compute_time = c.compute;
    op.flops = c.flops;
    op.bytes = c.bytes;
    op.energy = c.energy;
    // The KV-tier bytes spread over the op: alone it still lasts `compute` (each op's time
    // is at least its memory time), beside a KV move or a collective kernel it slows by
    // what they take of the tier (models/resource_arbiter.h).
    op.memory_time = kv_tier_ >= 0 ? std::min(c.kv_tier_memory, c.compute) : Seconds{0};
    if (op.memory_time > 0 && op.tier.empty()) op.tier = sim_.device(stages_[s].front()).chip().placement.kv_cache;
  }
  label_ = label;
  // The stack's host work for this batch: preparation, and the launches of every kernel
  // one device runs (all stages: one host drives the replica's iteration) or one graph.
  const SoftwareStack& sw = cfg_.software;
  std::int64_t kernels = 0;
  for (const StageCost& c : costs_) kernels += c.kernels;
  prep_ = sw.host_time(shape.decode + static_cast<std::int64_t>(shape.prefill.size()));
  launch_ = sw.launch_time(kernels, sw.captured(shape.prefill.size(), shape.decode));
  // Launches no longer than the stages' op time alone (the device chain's floor) cannot
  // hold the iteration up: shown on the timeline, but no event (serve-hour speed).
  Seconds device_floor = 0;
  for (const StageCost& c : costs_) device_floor += c.compute;
  launch_hidden_ = !sw.launch_precedes_device() && launch_ <= device_floor;
  return_bytes_ = static_cast<double>(shape.emitting) * kTokenIdBytes;
  begin_ = sim_.now();
  comm_ = 0;
  send_end_ = 0;
  graph_.start();
}

void IterationGraph::launch_compute(std::size_t s, std::size_t t, int node) {
  sim_.device(stages_[s][t]).core().submit(ops_[s], label_, [this, node](const OpCost&) {
    compute_end_ = sim_.now();  // the stage's ranks finish together (the same op)
    compute_done_ = true;
    graph_.complete(node);
  });
}

void IterationGraph::launch_gathers(std::size_t s, bool first, int node) {
  const StageCost& c = costs_[s];
  const std::int64_t n = first ? std::min<std::int64_t>(1, c.gathers) : c.gathers - 1;
  if (first) compute_done_ = false;
  if (n <= 0) {
    graph_.complete(node);
    return;
  }
  sim_.network().collective(CollectiveKind::AllGather, stages_[s], c.gather_bytes, cfg_.collective_algorithm,
                            [this, n, node, first](const CollectiveResult& res) {
                              if (first) {  // nothing runs beside the first layer's gather
                                comm_ += res.time;
                                graph_.complete(node);
                                return;
                              }
                              sim_.queue().after(to_simtime(res.time * static_cast<double>(n - 1)), [this, node] {
                                // Exposed only where the gathers outlast the layers' compute.
                                if (compute_done_ && sim_.now() > compute_end_)
                                  comm_ += to_seconds(sim_.now() - compute_end_);
                                graph_.complete(node);
                              });
                            });
}

void IterationGraph::launch_collective(std::size_t s, CollectiveKind kind, int node) {
  const StageCost& c = costs_[s];
  const bool a2a = kind == CollectiveKind::AllToAll;
  const std::int64_t n = a2a ? c.alltoalls : c.allreduces;
  if (n <= 0) {
    graph_.complete(node);
    return;
  }
  const Bytes bytes = a2a ? c.alltoall_bytes : c.allreduce_bytes;
  sim_.network().collective(kind, stages_[s], bytes, cfg_.collective_algorithm,
                            [this, n, node](const CollectiveResult& res) { repeat_collective(res.time, n, node); });
}

void IterationGraph::launch_logits(std::size_t s, int node) {
  // The logit rows, or (weight-gathered: whole rows on each chip) the LM head's weights.
  const Bytes bytes = costs_[s].logits_bytes + costs_[s].head_gather_bytes;
  if (!(bytes > 0)) {
    graph_.complete(node);
    return;
  }
  // Timed, not simulated: it follows the stage's all-reduces on the same idle group, and
  // a ring's steps would add ~8 events to every serving step (serve-hour +30 % wall). The
  // idle time depends only on the size: kept per size (a step has at most max_batch rows).
  auto it = logits_time_.find(bytes.value());
  if (it == logits_time_.end())
    it = logits_time_
             .emplace(bytes.value(), sim_.network().idle_collective_time(CollectiveKind::AllGather, stages_[s], bytes,
                                                                         cfg_.collective_algorithm))
             .first;
  const Seconds t = it->second;
  comm_ += t;
  sim_.queue().after(to_simtime(t), [this, node] { graph_.complete(node); });
}

// A node of n identical collectives, the first of which took `t`: the others repeat its time.
void IterationGraph::repeat_collective(Seconds t, std::int64_t n, int node) {
  comm_ += t * static_cast<double>(n);
  sim_.queue().after(to_simtime(t * static_cast<double>(n - 1)), [this, node] { graph_.complete(node); });
}

// One 2-D TP phase: the same collective on every row group (or column group) at once; the
// phase lasts the slowest group's time, repeated for each layer as launch_collective does.
void IterationGraph::launch_tp2d(std::size_t s, std::size_t i, int node) {
  const TpCollective& k = costs_[s].tp2d[i];
  const std::vector<std::vector<int>>& groups = tp2d_groups_[s][k.columns ? 1 : 0];
  if (k.count <= 0 || groups.front().size() < 2) {
    graph_.complete(node);
    return;
  }
  auto join = std::make_shared<std::pair<std::size_t, Seconds>>(groups.size(), Seconds{0});
  const std::int64_t n = k.count;
  for (const std::vector<int>& g : groups)
    sim_.network().collective(k.kind, g, k.bytes, cfg_.collective_algorithm,
                              [this, join, n, node](const CollectiveResult& res) {
                                join->second = std::max(join->second, res.time);
                                if (--join->first == 0) repeat_collective(join->second, n, node);
                              });
}

void IterationGraph::launch_send(std::size_t s, std::size_t t, int node) {
  hand_off(stages_[s][t], stages_[s + 1][t], costs_[s].send_bytes / static_cast<double>(stages_[s].size()), node);
}

void IterationGraph::launch_return(std::size_t t, int node) {
  if (!(return_bytes_ > 0)) {  // no sequence sampled a token (prefill chunks only)
    graph_.complete(node);
    return;
  }
  hand_off(stages_.back()[t], stages_.front()[t], return_bytes_, node);
}

void IterationGraph::hand_off(int from, int to, double bytes, int node) {
  // A step's hand-offs start together: communication runs from then to the last one's end.
  const SimTime start = sim_.now();
  sim_.network().transfer(from, to, bytes, [this, node, start] {
    const SimTime now = sim_.now(), from = std::max(start, send_end_);
    if (now > from) comm_ += to_seconds(now - from);
    send_end_ = std::max(send_end_, now);
    graph_.complete(node);
  });
}

namespace {

// One side of a KV move: whole blocks read out of the sender's tier or written into the
// receiver's (the block table scatters them over the pool).
AccessPattern kv_blocks(Bytes block_bytes, bool read) {
  AccessPattern p;
  p.kind = AccessPattern::Kind::Paged;
  p.granule = std::max<Bytes>(1, block_bytes);
  p.read_fraction = read ? 1.0 : 0.0;
  return p;
}

// The device's KV tier when it has one with bandwidth in its arbiter, else nullptr.
const MemoryTierSpec* kv_tier_spec(Device& d) {
  const std::string& tier = d.chip().placement.kv_cache;
  const MemoryTierSpec* spec = d.chip().tier(tier);
  if (spec == nullptr || d.arbiter().tier_index(tier) < 0 || !(spec->bandwidth * spec->efficiency > 0)) return nullptr;
  return spec;
}

}  // namespace

void move_kv(Simulation& sim, int from, int to, Bytes bytes, Bytes block_bytes, std::function<void()> done) {
  if (bytes <= 0) {
    sim.network().transfer(from, to, bytes, std::move(done));
    return;
  }
  Device& src = sim.device(from);
  ComputeCore* copy = src.stream("copy");
  const MemoryTierSpec* read_spec = copy != nullptr ? kv_tier_spec(src) : nullptr;
  const bool write_side = kv_tier_spec(sim.device(to)) != nullptr;
  // The parts join: the copy engine's read of the sender's tier, the network flow, and the
  // write into the receiver's tier (NVLink / RDMA deliver into its memory: no engine of its
  // own). The fluid arbiter charges each side's bytes from the start rather than spread
  // over the flow; a decode beside it loses the same tier work either way.
  const int parts = 1 + (read_spec != nullptr) + write_side;
  auto join = std::make_shared<std::pair<int, std::function<void()>>>(parts, std::move(done));
  auto arrived = [join] {
    if (--join->first == 0) join->second();
  };
  if (read_spec != nullptr) {
    OpCost read;
    read.tier = read_spec->tier;
    read.bytes = bytes;
    read.memory_time = read.time = bytes / (read_spec->bandwidth * read_spec->efficiency);
    read.memory_bound = true;
    read.pattern = kv_blocks(block_bytes, true);
    static const std::string kLabel = "kv hand-off";
    copy->submit(read, kLabel, [arrived](const OpCost&) { arrived(); });
  }
  if (write_side) stream_kv_blocks(sim, to, bytes, block_bytes, false, arrived);
  sim.network().transfer(from, to, bytes, arrived);
}

bool stream_kv_blocks(Simulation& sim, int device, Bytes bytes, Bytes block_bytes, bool read,
                      std::function<void()> done) {
  Device& d = sim.device(device);
  const MemoryTierSpec* spec = kv_tier_spec(d);
  if (spec == nullptr) return false;
  if (!done) done = [] {};
  d.tier(spec->tier).transfer(bytes, std::move(done), kv_blocks(block_bytes, read));
  return true;
}

}  // namespace llmsim
