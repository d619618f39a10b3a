#include "sim/workloads/training/executor.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/device.h"
#include "models/network.h"
#include "sim/engine/simulation.h"
#include "sim/workloads/training/memory.h"

namespace llmsim {
namespace {

// A pass runs as one activity lasting the sum of its ops' estimated times. Its bytes
// stream from the chip's activations tier at their average rate over that time (each op
// lasts at least its own memory time, so alone the pass lasts as estimated): the pass
// shares the tier with the collectives' reduction kernels, and its memory energy counts
// on the tier (components_j) rather than on compute.
// `t`: the chip's activations tier (nullptr: none).
OpCost as_cost(const PassCost& p, const MemoryTierSpec* t) {
  OpCost oc;
  oc.time = p.compute;
  oc.compute_time = p.compute;
  oc.flops = p.flops;
  oc.bytes = p.bytes;
  oc.energy = p.energy;
  if (t && p.bytes > 0 && p.compute > 0 && t->bandwidth * t->efficiency > 0) {
    oc.tier = t->tier;
    oc.memory_time = std::min(p.compute, Seconds{p.bytes / (t->bandwidth * t->efficiency)});
  }
  return oc;
}

}  // namespace

TrainingExecutor::TrainingExecutor(Simulation& sim, const TrainingConfig& cfg, const ChipSpec& chip)
    : sim_(sim), cfg_(cfg), map_(rank_map(cfg)), pass_tier_(chip.tier(chip.placement.activations)),
      lowering_(cfg, chip) {
  for (std::int64_t vs = 0; vs < cfg.par.pp * cfg.par.virtual_stages; ++vs) chunks_.push_back(lowering_.chunk_cost(vs));
  const auto mem = training_memory(cfg);
  for (std::int64_t s = 0; s < cfg.par.pp; ++s) {
    optimizer_.push_back(lowering_.optimizer_cost(s));
    stage_params_.push_back(mem[static_cast<std::size_t>(s)].params);
    stage_expert_params_.push_back(mem[static_cast<std::size_t>(s)].expert_params);
  }
  if (cfg.data.enabled()) stream_ = std::make_unique<SequenceStream>(cfg.data, cfg.seq_len, cfg.seed);
  full_attention_ = lowering_.attention_cost(std::vector<std::int64_t>(static_cast<std::size_t>(cfg.micro_batch), cfg.seq_len));
  const std::int64_t reps = cfg.fold_data_parallel ? 1 : cfg.par.dp;
  for (std::int64_t r = 0; r < reps; ++r) replicas_.push_back(r);
  for (std::int64_t s = 0; s < cfg.par.pp; ++s) {
    orders_.push_back(pipeline_order(cfg.par.schedule, cfg.par.pp, s, cfg.micro_batches(), cfg.par.virtual_stages));
    std::vector<std::int64_t> last(static_cast<std::size_t>(cfg.par.virtual_stages), -1);
    for (const PipeItem& it : orders_.back())
      if (!it.forward) last[static_cast<std::size_t>(it.chunk)] = it.micro_batch;
    last_backward_.push_back(std::move(last));
  }
  set_buckets();
}

double TrainingExecutor::now() const { return to_seconds(sim_.now()); }

// Every device of replica r's stage s: its TP ranks of each CP rank (matching order on
// every stage, so index i of one stage sends to index i of the next).
std::vector<int> TrainingExecutor::stage_devices(std::int64_t r, std::int64_t s) const {
  std::vector<int> devs;
  for (std::int64_t c = 0; c < cfg_.par.cp; ++c) {
    for (int d : map_.tp_group(c, r, s)) devs.push_back(d);
  }
  return devs;
}

void TrainingExecutor::start() {
  int barrier = -1;
  steps_.assign(static_cast<std::size_t>(cfg_.steps), StepRecord{});
  for (auto& st : steps_) st.stages.assign(static_cast<std::size_t>(cfg_.par.pp), StageStepTimes{});
  BucketState fresh;
  // Every model chunk's buckets (its last backward produces them).
  const auto all = static_cast<std::size_t>(buckets_ * cfg_.par.virtual_stages);
  fresh.join.assign(all, replicas_.size());
  fresh.pending = all;
  bucket_state_.assign(static_cast<std::size_t>(cfg_.steps),
                       std::vector<BucketState>(static_cast<std::size_t>(cfg_.par.pp), fresh));
  if (cfg_.par.zero >= 3 && dense_replicas(cfg_) > 1) {
    const auto passes = static_cast<std::size_t>(2 * cfg_.micro_batches() * cfg_.par.virtual_stages);
    gathers_.assign(static_cast<std::size_t>(cfg_.steps),
                    std::vector<std::vector<GatherState>>(static_cast<std::size_t>(cfg_.par.pp), std::vector<GatherState>(passes)));
  }
  attention_delta_.resize(static_cast<std::size_t>(cfg_.steps));
  for (std::int64_t k = 0; k < cfg_.steps; ++k) {
    draw_step_data(k);
    barrier = build_step(k, barrier);
  }
  graph_.start();
}

// Adds one step's nodes. Stages are walked in turn, each adding passes in its schedule
// order until one needs a pass of another stage not added yet (the graph takes
// dependencies on earlier nodes only); a round adding nothing means the schedule itself
// deadlocks, which pipeline_order never produces.
int TrainingExecutor::build_step(std::int64_t step, int barrier) {
  const std::int64_t p = cfg_.par.pp, v = cfg_.par.virtual_stages, m = cfg_.micro_batches(), pv = p * v;
  const std::vector<std::vector<PipeItem>>& order = orders_;
  auto slot = [&](bool fwd, std::int64_t mb, std::int64_t chunk) {
    return static_cast<std::size_t>((fwd ? 0 : m * v) + chunk * m + mb);
  };
  std::vector<std::vector<int>> last(static_cast<std::size_t>(p));
  for (std::int64_t r : replicas_) {
    std::vector<std::vector<int>> node(static_cast<std::size_t>(p), std::vector<int>(static_cast<std::size_t>(2 * m * v), -1));
    std::vector<std::size_t> next(static_cast<std::size_t>(p), 0);
    std::vector<int> prev(static_cast<std::size_t>(p), barrier);
    std::size_t added = 0, total = static_cast<std::size_t>(p * 2 * m * v);
    while (added < total) {
      bool progressed = false;
      for (std::int64_t s = 0; s < p; ++s) {
        const auto su = static_cast<std::size_t>(s);
        for (; next[su] < order[su].size(); ++next[su]) {
          const PipeItem& it = order[su][next[su]];
          const std::int64_t vs = it.chunk * p + s;
          std::vector<int> deps;
          if (prev[su] >= 0) deps.push_back(prev[su]);
          const std::int64_t from = it.forward ? vs - 1 : vs + 1;  // upstream virtual stage
          if (from >= 0 && from < pv) {
            const std::int64_t fs = from % p;
            const int u = node[static_cast<std::size_t>(fs)][slot(it.forward, it.micro_batch, from / p)];
            if (u < 0) break;
            const std::string what = std::string(it.forward ? "activations" : "gradients") + " of micro-batch " +
                                     std::to_string(it.micro_batch);
            deps.push_back(add_transfer(r, fs, s, chunks_[static_cast<std::size_t>(from)].send_bytes, u, what));
          } else if (!it.forward) {
            const int u = node[su][slot(true, it.micro_batch, it.chunk)];
            if (u < 0) break;
            deps.push_back(u);
          }
          const int id = add_pass(step, r, s, it, static_cast<std::int64_t>(next[su]), deps);
          node[su][slot(it.forward, it.micro_batch, it.chunk)] = id;
          prev[su] = id;
          ++added;
          progressed = true;
        }
      }
      if (!progressed) throw std::logic_error("training: pipeline schedule " + cfg_.par.schedule + " deadlocks");
    }
    for (std::int64_t s = 0; s < p; ++s) last[static_cast<std::size_t>(s)].push_back(prev[static_cast<std::size_t>(s)]);
  }
  std::vector<int> tails;
  for (std::int64_t s = 0; s < p; ++s) tails.push_back(add_stage_tail(step, s, last[static_cast<std::size_t>(s)]));
  node_what_.push_back("end of step " + std::to_string(step));
  return graph_.add([this, step](Done done) { end_step(step, std::move(done)); }, tails);
}

void TrainingExecutor::set_checkpoint(Seconds interval_s, Seconds write_s) {
  ck_interval_s_ = interval_s;
  ck_write_s_ = write_s;
}

// The run starts from a checkpoint (t = 0); the step whose end crosses a multiple of the
// interval stops training while the state is written (synchronous checkpointing), and the
// write is part of that step's time.
void TrainingExecutor::end_step(std::int64_t step, Done done) {
  auto finish = [this, step](Done d) {
    auto& rec = steps_[static_cast<std::size_t>(step)];
    rec.end = now();
    if (static_cast<std::size_t>(step) + 1 < steps_.size()) steps_[static_cast<std::size_t>(step) + 1].start = rec.end;
    d();
  };
  const double t = now(), prev = steps_[static_cast<std::size_t>(step)].start;
  if (!(ck_interval_s_ > 0) || std::floor(t / ck_interval_s_) <= std::floor(prev / ck_interval_s_))
    return finish(std::move(done));
  steps_[static_cast<std::size_t>(step)].checkpoint = ck_write_s_;
  const SimTime begin = sim_.now();
  sim_.queue().after(to_simtime(ck_write_s_), [this, step, begin, finish, done] {
    checkpoints_.push_back(now());
    Recorder& rec = sim_.recorder();
    if (rec.on())
      rec.span(rec.track("training", "checkpoint", -1), "checkpoint after step " + std::to_string(step), "checkpoint",
               begin, sim_.now(), "{}");
    finish(done);
  });
}

int TrainingExecutor::add_pass(std::int64_t step, std::int64_t r, std::int64_t s, const PipeItem& it, std::int64_t k,
                               std::vector<int> deps) {
  node_what_.push_back(std::string(it.forward ? "forward" : "backward") + " of micro-batch " + std::to_string(it.micro_batch) +
                       " on stage " + std::to_string(s) + " (replica " + std::to_string(r) + ", step " +
                       std::to_string(step) + ")");
  return graph_.add([this, step, r, s, it, k](Done done) { run_pass(step, r, s, it, k, std::move(done)); }, std::move(deps));
}

int TrainingExecutor::add_transfer(std::int64_t r, std::int64_t from_s, std::int64_t to_s, Bytes bytes, int dep,
                                   const std::string& what) {
  node_what_.push_back("send of " + what + " from stage " + std::to_string(from_s) + " to " + std::to_string(to_s));
  return graph_.add(
      [this, r, from_s, to_s, bytes](Done done) {
        const auto src = stage_devices(r, from_s), dst = stage_devices(r, to_s);
        auto pending = std::make_shared<std::size_t>(src.size());
        auto shared_done = std::make_shared<Done>(std::move(done));
        for (std::size_t t = 0; t < src.size(); ++t) {
          sim_.network().transfer(src[t], dst[t], bytes, [pending, shared_done] {
            if (--*pending == 0) (*shared_done)();
          });
        }
      },
      {dep});
}

void TrainingExecutor::run_pass(std::int64_t step, std::int64_t r, std::int64_t s, const PipeItem& it, std::int64_t k,
                                Done done) {
  done = after_gather(step, s, r, k, std::move(done));
  const std::int64_t vs = it.chunk * cfg_.par.pp + s;
  const std::shared_ptr<const PassCost> pc = pass_cost(step, r, vs, it);
  std::string label = (it.forward ? "F" : "B") + std::to_string(it.micro_batch);
  if (cfg_.par.virtual_stages > 1) label += ".c" + std::to_string(it.chunk);
  const double t0 = now();
  const bool dp = dense_replicas(cfg_) > 1;
  // The model chunk's last backward produces its final gradients (every chunk's, with
  // interleaving: Megatron-LM syncs each chunk's gradients after its last backward).
  const bool reduce_during = dp && !it.forward &&
                             it.micro_batch == last_backward_[static_cast<std::size_t>(s)][static_cast<std::size_t>(it.chunk)];
  // FSDP FULL_SHARD keeps only its gradient shard, so every other backward reduce-scatters
  // its gradients too (executor_grads.cpp); issued from replica 0's passes, as the gathers.
  const bool shard_each = dp && !it.forward && !reduce_during && reduce_every_micro_batch() && r == replicas_.front();
  auto compute = [this, step, r, s, it, k, pc, label, t0, done, reduce_during, shard_each]() {
    const double t1 = now();
    auto after = [this, step, r, s, it, k, pc, t0, t1, done] {
      const double t2 = now();
      auto beside = std::make_shared<double>(0);  // GEMM chunks run beside TP collectives
      run_pass_comm(step, r, s, k, pc, beside, [this, step, r, s, it, t0, t1, t2, beside, done] {
        if (r == 0) {
          auto& rec = steps_[static_cast<std::size_t>(step)].stages[static_cast<std::size_t>(s)];
          const double t3 = now();
          rec.compute += t2 - t1 + *beside;
          rec.tp_comm += (t1 - t0) + (t3 - t2) - *beside;
          if (!it.forward) rec.last_pass_end = t3;
        }
        done();
      });
    };
    if (!reduce_during && !shard_each) return submit_all(stage_devices(r, s), as_cost(*pc, pass_tier_), label, after);
    // The chunk's last backward of the step produces its final gradients bucket by bucket;
    // each bucket's reduction starts as soon as it is ready (Megatron-LM DDP overlap).
    PassCost piece = *pc;
    piece.compute /= static_cast<double>(buckets_);
    piece.flops /= static_cast<double>(buckets_);
    piece.bytes /= static_cast<double>(buckets_);
    piece.energy /= static_cast<double>(buckets_);
    auto ready = [this, step, s, c = it.chunk, reduce_during](std::int64_t i) {
      if (reduce_during) return bucket_ready(step, s, c, i);
      reduce_shard(step, s, c);
    };
    run_pieces(stage_devices(r, s), as_cost(piece, pass_tier_), label, ready, after);
  };
  if (cfg_.par.zero >= 3 && dense_replicas(cfg_) > 1 && r == 0) {
    // ZeRO-3 / FSDP: the pass waits for its first layer's parameters; the other layers'
    // arrive while it computes (FSDP's per-unit prefetch, XLA's latency-hiding scheduler
    // over the layer scan), and the next pass's gather follows this one's. An unfolded
    // run issues them from replica 0's passes only: one collective per group, as in the
    // real run.
    start_gather(step, s, k);
    GatherState& g = gathers_[static_cast<std::size_t>(step)][static_cast<std::size_t>(s)][static_cast<std::size_t>(k)];
    auto go = [this, step, s, k, compute] {
      GatherState& gk =
          gathers_[static_cast<std::size_t>(step)][static_cast<std::size_t>(s)][static_cast<std::size_t>(k)];
      if (gk.done) start_gather(step, s, k + 1);
      else gk.chain_next = true;
      compute();
    };
    if (g.first_done) return go();
    g.first_waiter = go;
  } else {
    compute();
  }
}

// The pass's end, once the rest of its ZeRO-3 gather is in as well.
TrainingExecutor::Done TrainingExecutor::after_gather(std::int64_t step, std::int64_t s, std::int64_t r, std::int64_t k,
                                                      Done done) {
  if (cfg_.par.zero < 3 || dense_replicas(cfg_) < 2 || r != 0) return done;
  return [this, step, s, k, done] {
    GatherState& g = gathers_[static_cast<std::size_t>(step)][static_cast<std::size_t>(s)][static_cast<std::size_t>(k)];
    if (g.done) return done();
    const double t = now();
    g.waiter = [this, step, s, t, done] {  // exposed: counted with the pass's other waits
      steps_[static_cast<std::size_t>(step)].stages[static_cast<std::size_t>(s)].tp_comm += now() - t;
      done();
    };
  };
}

void TrainingExecutor::start_gather(std::int64_t step, std::int64_t s, std::int64_t k) {
  auto& passes = gathers_[static_cast<std::size_t>(step)][static_cast<std::size_t>(s)];
  if (k >= static_cast<std::int64_t>(passes.size()) || passes[static_cast<std::size_t>(k)].started) return;
  passes[static_cast<std::size_t>(k)].started = true;
  // Pass k's model chunk: its share of the stage's parameters, gathered layer by layer.
  const std::int64_t c = orders_[static_cast<std::size_t>(s)][static_cast<std::size_t>(k)].chunk;
  const double chunk = chunk_share(s, c);
  const double layers =
      static_cast<double>(std::max<std::int64_t>(1, chunks_[static_cast<std::size_t>(c * cfg_.par.pp + s)].layers));
  auto state = [this, step, s, k]() -> GatherState& {
    return gathers_[static_cast<std::size_t>(step)][static_cast<std::size_t>(s)][static_cast<std::size_t>(k)];
  };
  auto rest_done = [this, step, s, k, state] {
    GatherState& g = state();
    g.done = true;
    if (g.chain_next) start_gather(step, s, k + 1);
    if (!g.waiter) return;
    auto w = std::move(g.waiter);
    w();
  };
  dp_collective(s, CollectiveKind::AllGather, chunk / layers, [this, s, chunk, layers, state, rest_done] {
    GatherState& g = state();
    g.first_done = true;
    if (layers > 1) dp_collective(s, CollectiveKind::AllGather, chunk * (layers - 1) / layers, rest_done);
    else rest_done();
    if (!g.first_waiter) return;
    auto w = std::move(g.first_waiter);
    w();
  });
}

void TrainingExecutor::submit_all(const std::vector<int>& devices, const OpCost& cost, const std::string& label,
                                  std::function<void()> then) {
  auto pending = std::make_shared<std::size_t>(devices.size());
  for (int d : devices) {
    sim_.device(d).core().submit(cost, label, [pending, then](const OpCost&) {
      if (--*pending == 0) then();
    });
  }
}

// A stage's gradient reduction over its DP groups (all-reduce; reduce-scatter with ZeRO,
// whose shards the optimizer then updates; started bucket by bucket in the last backward,
// run_pass), Adam on every simulated device of the stage,
// and for ZeRO-1/2 the all-gather of the updated 16-bit parameters (Megatron-LM's
// distributed optimizer).
int TrainingExecutor::add_stage_tail(std::int64_t step, std::int64_t s, const std::vector<int>& last_passes) {
  const bool dp = dense_replicas(cfg_) > 1;
  auto rec = [this, step, s]() -> StageStepTimes& { return steps_[static_cast<std::size_t>(step)].stages[static_cast<std::size_t>(s)]; };
  node_what_.push_back("gradient reduction of stage " + std::to_string(s) + " (step " + std::to_string(step) + ")");
  const int reduce = graph_.add(
      [this, dp, step, s, rec](Done done) {
        // Exposed part of the bucketed reduction: from the last backward's end to the last
        // bucket reduced, then the replicated KV heads' gradients (kv_replicas.h).
        const double t0 = now();
        auto finish = [this, s, t0, rec, done] {
          kv_replica_reduce(s, [this, t0, rec, done] {
            rec().dp_comm += now() - t0;
            done();
          });
        };
        if (!dp) return finish();
        BucketState& b = bucket_state_[static_cast<std::size_t>(step)][static_cast<std::size_t>(s)];
        if (b.pending == 0) return finish();
        b.waiter = finish;
      },
      last_passes);
  node_what_.push_back("optimizer step of stage " + std::to_string(s) + " (step " + std::to_string(step) + ")");
  return graph_.add(
      [this, dp, s, rec](Done done) {
        std::vector<int> devs;
        for (std::int64_t r : replicas_) {
          for (int d : stage_devices(r, s)) devs.push_back(d);
        }
        const double t0 = now();
        submit_all(devs, optimizer_[static_cast<std::size_t>(s)], "adam", [this, dp, s, rec, t0, done] {
          const double t1 = now();
          rec().optimizer += t1 - t0;
          if (!dp || cfg_.par.zero == 0 || cfg_.par.zero == 3) return done();
          dp_collective(s, CollectiveKind::AllGather, 1.0, [this, rec, t1, done] {
            rec().dp_comm += now() - t1;
            done();
          });
        });
      },
      {reduce});
}

std::vector<std::string> TrainingExecutor::waiting() const {
  std::vector<std::string> out;
  for (int i : graph_.running()) out.push_back(node_what_[static_cast<std::size_t>(i)] + " never completed");
  return out;
}

}  // namespace llmsim
