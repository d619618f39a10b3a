#include "sim/workloads/training/config.h"

#include <climits>
#include <cstdlib>

#include "sim/core/error.h"
#include "sim/core/params.h"
#include "sim/core/yaml_doc.h"
#include "sim/software/workload_software.h"
#include "sim/workloads/training/mesh_placement.h"

namespace llmsim {
namespace {

// Context and expert parallelism: what each needs of the model and of the other degrees.
void check_cp_ep(Params& p, const TrainingConfig& c) {
  const TrainingParallelism& x = c.par;
  const ModelSpec& m = c.model;
  if (x.cp > 1 && c.seq_len % (2 * x.cp) != 0) {
    p.fail("cp", "seq_len " + std::to_string(c.seq_len) + " must split into 2 x cp = " + std::to_string(2 * x.cp) +
                     " equal chunks (Megatron-LM's load-balanced causal split)");
  }
  if (x.cp > 1 && m.encoder) {
    p.fail("cp", "context parallelism splits causal attention; " + m.name + " is a bidirectional encoder (use cp 1)");
  }
  if (x.ep > 1 && !m.moe()) p.fail("ep", "ep > 1 needs a mixture-of-experts model; " + m.name + " is dense");
  if (x.ep > 1 && m.experts % x.ep != 0) {
    p.fail("ep", "ep " + std::to_string(x.ep) + " must divide the model's " + std::to_string(m.experts) + " experts");
  }
}

// `stage_layers`: one count per virtual stage in model order, summing to the model's layers.
// Every virtual stage holds at least one layer except the first and the last, which may
// hold only the embedding / only the final norm, LM head and loss: Llama 3's schedule
// takes one layer off the first and the last stage so that they do [LLAMA3-PP].
void parse_stage_layers(Params& p, TrainingConfig& c) {
  const YAML::Node list = p.get("stage_layers");
  const std::int64_t chunks = c.par.pp * c.par.virtual_stages;
  const std::string per = c.par.virtual_stages > 1
                              ? "pp x virtual_stages = " + std::to_string(c.par.pp) + " x " +
                                    std::to_string(c.par.virtual_stages) + " = " + std::to_string(chunks)
                              : "pp = " + std::to_string(chunks);
  if (!list.IsSequence() || static_cast<std::int64_t>(list.size()) != chunks) {
    p.fail("stage_layers", "expected a list of " + per + " layer counts, one per virtual stage in model order" +
                               (list.IsSequence() ? " (got " + std::to_string(list.size()) + ")" : ""));
  }
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::int64_t n = as_int(list[i], p.file_for("stage_layers"), "stage_layers");
    const bool end = i == 0 || i + 1 == list.size();
    if (n < (end ? 0 : 1)) {
      throw InputError(pos_of(list[i], p.file_for("stage_layers")),
                       "workload.parallelism.stage_layers: entry " + std::to_string(i) + " is " + std::to_string(n) +
                           (end ? "; the first and last virtual stages hold 0 or more layers"
                                : "; a virtual stage between the first and the last holds at least 1 layer"));
    }
    sum += n;
    c.par.stage_layers.push_back(n);
  }
  if (sum != c.model.layers) {
    p.fail("stage_layers", "the " + std::to_string(list.size()) + " entries sum to " + std::to_string(sum) + " but " +
                               c.model.name + " has " + std::to_string(c.model.layers) + " layers");
  }
}

void parse_parallelism(Params& f, const Topology& topo, TrainingConfig& c) {
  Params p = f.child("parallelism");
  TrainingParallelism& x = c.par;
  x.tp = p.positive("tp");
  x.pp = p.positive("pp");
  x.cp = p.positive("cp");
  x.ep = p.positive("ep");
  const bool dp_given = p.has("dp");
  x.dp = p.positive("dp", 1);
  x.sequence_parallel = p.boolean("sequence_parallel");
  x.schedule = p.choice("schedule");
  x.virtual_stages = p.positive("virtual_stages");
  x.zero = static_cast<int>(p.integer("zero"));
  if (x.zero < 0 || x.zero > 3) p.fail("zero", "ZeRO stage must be 0, 1, 2 or 3");
  x.recompute = p.choice("recompute");
  x.gradient_reduction = p.choice("gradient_reduction");
  if (x.gradient_reduction == "every-micro-batch" && x.zero != 3)
    p.fail("gradient_reduction", "every-micro-batch reduce-scatters sharded gradients: needs zero: 3 (zero is " +
                                     std::to_string(x.zero) + ")");
  x.algorithm = p.str("algorithm");

  const ModelSpec& m = c.model;
  check_cp_ep(p, c);
  if (m.heads % x.tp != 0 || (m.kv_heads % x.tp != 0 && x.tp % m.kv_heads != 0)) {
    p.fail("tp", "tp " + std::to_string(x.tp) + " must divide num_attention_heads (" + std::to_string(m.heads) +
                     ") and divide num_key_value_heads (" + std::to_string(m.kv_heads) +
                     ") or be a multiple of it (each KV head then replicated on tp / kv_heads ranks)");
  }
  if (x.sequence_parallel && x.tp == 1) p.fail("sequence_parallel", "needs tp > 1 (it shards activations over the tp group)");
  if (x.schedule == "interleaved-1f1b") {
    if (x.pp < 2) p.fail("schedule", "interleaved-1f1b needs pp >= 2");
    if (x.virtual_stages < 2) p.fail("virtual_stages", "interleaved-1f1b needs virtual_stages >= 2");
  } else if (x.virtual_stages != 1) {
    p.fail("virtual_stages", "only interleaved-1f1b uses virtual stages (schedule is " + x.schedule + ")");
  }
  x.head_stage = p.choice("head_stage");
  if (x.head_stage == "first" && !m.tied_embeddings) {
    p.fail("head_stage", "first puts the head beside the word embedding it shares; " + m.name + " has an untied head");
  }
  if (x.head_stage == "first" && x.virtual_stages != 1) p.fail("head_stage", "first needs one model chunk per device");
  const std::int64_t chunks = x.pp * x.virtual_stages;
  if (p.has("stage_layers")) {
    parse_stage_layers(p, c);
  } else if (chunks > m.layers) {
    p.fail("pp", "pp x virtual_stages = " + std::to_string(chunks) + " exceeds the model's " +
                     std::to_string(m.layers) + " layers");
  } else if (x.virtual_stages > 1 && m.layers % chunks != 0) {
    p.fail("virtual_stages", "pp x virtual_stages = " + std::to_string(chunks) + " must divide the model's " +
                                 std::to_string(m.layers) +
                                 " layers (each model chunk holds the same number), or give stage_layers");
  }
  if (topo.num_devices() > 0) {
    const std::int64_t n = topo.num_devices(), per = x.tp * x.cp * x.pp;
    const std::string what = x.cp > 1 ? "tp x cp x pp" : "tp x pp";
    if (!dp_given) {
      if (n % per != 0) {
        p.fail("tp", what + " = " + std::to_string(per) + " does not divide the topology's " + std::to_string(n) +
                         " devices (dp = devices / (" + what + "))");
      }
      x.dp = n / per;
    } else if (per * x.dp != n) {
      p.fail("dp", what + " x dp = " + std::to_string(per) + " x " + std::to_string(x.dp) + " = " +
                       std::to_string(per * x.dp) + " but the topology has " + std::to_string(n) + " devices");
    }
  }
  p.set_resolved("dp", std::to_string(x.dp));
  if (x.dp % x.ep != 0) {
    p.fail("ep", "ep " + std::to_string(x.ep) + " must divide dp " + std::to_string(x.dp) +
                     " (expert-parallel groups are carved out of the data-parallel ranks)");
  }
  p.finish();
}

// Masked-LM positions of an encoder: BERT masks 15 % of the tokens [BERT]; NVIDIA's
// pre-training data caps them at max_predictions_per_seq (20 at 128, 80 at 512) and gathers
// only those rows before the vocabulary projection [NV-BERT].
void parse_masked_positions(Params& f, TrainingConfig& c) {
  if (!c.model.encoder) {
    if (f.has("masked_positions")) f.fail("masked_positions", "only an encoder (model_type bert) has a masked-LM head");
    return;
  }
  c.masked_positions = f.positive("masked_positions", (15 * c.seq_len + 99) / 100);
  if (c.masked_positions > c.seq_len) {
    f.fail("masked_positions",
           "masked_positions " + std::to_string(c.masked_positions) + " exceeds seq_len " + std::to_string(c.seq_len));
  }
  f.set_resolved("masked_positions", std::to_string(c.masked_positions));
}

// `software:` (a stack name, a path or an inline map; `none` = as if absent). Training reads
// its attention kernel generation, TP overlap and collective library, not its host figures.
void parse_training_software(Params& f, TrainingConfig& c) {
  if (!f.has("software")) return;
  c.software = read_workload_software(f);
  if (!c.software.name.empty()) require_stack_dtype(f, c.software, c.dtype, "software");
}

// XLA's device mesh (mesh_placement.h) when the stack lays ranks on whole torus axes and the
// step fills a torus topology.
void place_on_mesh(const Topology& topo, TrainingConfig& c) {
  if (c.software.mesh_placement != "torus_axes" || topo.torus_dims().empty()) return;
  const MeshPlacement m =
      torus_axes_placement({c.par.tp, c.par.cp, c.par.dp, c.par.pp}, {"tp", "cp", "dp", "pp"}, topo.torus_dims());
  c.placement = m.device;
  c.placement_note = m.note;
}

}  // namespace

std::int64_t training_head_stage(const TrainingConfig& c) { return c.par.head_stage == "first" ? 0 : c.par.pp - 1; }

std::int64_t training_stage_layers(const TrainingConfig& c, std::int64_t s) {
  if (c.par.stage_layers.empty()) return pipeline_stage_layers(c.model.layers, c.par.pp, s);
  std::int64_t n = 0;
  for (std::int64_t k = 0; k < c.par.virtual_stages; ++k) n += training_chunk_layers(c, k * c.par.pp + s);
  return n;
}

std::int64_t training_chunk_layers(const TrainingConfig& c, std::int64_t vstage) {
  if (!c.par.stage_layers.empty()) return c.par.stage_layers[static_cast<std::size_t>(vstage)];
  if (c.par.virtual_stages == 1) return pipeline_stage_layers(c.model.layers, c.par.pp, vstage);
  return c.model.layers / (c.par.pp * c.par.virtual_stages);
}

TrainingConfig parse_training(const Doc& doc, const Topology& topo) {
  TrainingConfig c;
  Params f("workload:training", doc, "workload");
  f.str("kind");
  f.str("name");
  f.str("description");
  c.model = load_model_ref(f.str("model"), f.pos("model"), doc.dir());
  c.dtype = f.choice("dtype");
  c.seq_len = f.positive("seq_len");
  if (c.model.max_context > 0 && c.seq_len > c.model.max_context) {
    f.fail("seq_len", "seq_len " + std::to_string(c.seq_len) + " exceeds the model's max_position_embeddings (" +
                          std::to_string(c.model.max_context) + ")");
  }
  c.global_batch = f.positive("global_batch");
  c.micro_batch = f.positive("micro_batch");
  c.steps = f.positive("steps");
  parse_masked_positions(f, c);
  if (c.steps > 1000000) f.fail("steps", "at most 1,000,000 steps per run");
  c.fold_data_parallel = f.boolean("fold_data_parallel");
  c.data = parse_training_data(f, doc);
  c.weight_streaming = f.boolean("weight_streaming");
  parse_parallelism(f, topo, c);
  // A shared power budget (`power_cap.total`) is split among its devices by what each
  // draws; folded, the replicas after the first draw idle power only and the budget would
  // not bind (docs/training.md "Folding"). Such runs simulate every replica.
  if (c.fold_data_parallel && c.par.dp > 1 && !topo.power.cap_groups.empty()) {
    if (f.has("fold_data_parallel"))
      f.fail("fold_data_parallel",
             "a power_cap total is shared by what each device draws, and folded replicas draw "
             "idle power only: set fold_data_parallel: false (the default with a total)");
    c.fold_data_parallel = false;
    f.set_resolved("fold_data_parallel", "false");
  }
  parse_training_software(f, c);
  place_on_mesh(topo, c);
  if (c.weight_streaming && c.par.tp * c.par.pp * c.par.cp != 1) {
    f.fail("weight_streaming", "weight streaming runs the whole model on each system: needs tp = pp = cp = 1 (got " +
                                   std::to_string(c.par.tp) + ", " + std::to_string(c.par.pp) + ", " +
                                   std::to_string(c.par.cp) + ")");
  }
  const std::int64_t per_step = c.micro_batch * c.par.dp;
  if (c.global_batch % per_step != 0) {
    f.fail("global_batch", "global_batch " + std::to_string(c.global_batch) +
                               " is not a multiple of micro_batch x dp = " + std::to_string(c.micro_batch) + " x " +
                               std::to_string(c.par.dp) + " = " + std::to_string(per_step));
  }
  if (c.par.schedule == "interleaved-1f1b" && c.micro_batches() % c.par.pp != 0) {
    f.fail("global_batch", "interleaved-1f1b needs the micro-batches per step (" + std::to_string(c.micro_batches()) +
                               ") to be a multiple of pp (" + std::to_string(c.par.pp) + "), as Megatron-LM requires");
  }
  c.memory_reserve = f.num("memory_reserve");
  if (!(c.memory_reserve >= 0 && c.memory_reserve < 1)) f.fail("memory_reserve", "must be in [0, 1)");
  const std::int64_t seed = f.integer("seed");
  if (seed < 0) f.fail("seed", "must be >= 0");
  c.seed = static_cast<std::uint64_t>(seed);
  // Read by parse_resilience (resilience.cpp) from the document; marked used here.
  for (const char* k : {"checkpoint", "goodput"})
    if (f.has(k) && !f.get(k).IsMap()) f.fail(k, "must be a map (docs/faults.md)");
  f.finish();
  c.resolved = f.resolved();
  // `software:` stays as given (a name, path or map): the stack's resolved form carries its
  // defaulted figures without sources, which a rerun would refuse.
  return c;
}

RankMap rank_map(const TrainingConfig& c) {
  return RankMap{c.par.tp, c.par.cp, c.par.dp, c.par.pp, c.par.ep, c.placement};
}

std::vector<int> RankMap::tp_group(std::int64_t c, std::int64_t d, std::int64_t p) const {
  std::vector<int> g;
  for (std::int64_t t = 0; t < tp; ++t) g.push_back(device(t, c, d, p));
  return g;
}

std::vector<int> RankMap::cp_group(std::int64_t t, std::int64_t d, std::int64_t p) const {
  std::vector<int> g;
  for (std::int64_t c = 0; c < cp; ++c) g.push_back(device(t, c, d, p));
  return g;
}

std::vector<int> RankMap::dp_group(std::int64_t t, std::int64_t p) const {
  std::vector<int> g;
  for (std::int64_t d = 0; d < dp; ++d) {
    for (std::int64_t c = 0; c < cp; ++c) g.push_back(device(t, c, d, p));
  }
  return g;
}

std::vector<int> RankMap::ep_group(std::int64_t t, std::int64_t c, std::int64_t d, std::int64_t p) const {
  std::vector<int> g;
  const std::int64_t first = d - d % ep;
  for (std::int64_t e = 0; e < ep; ++e) g.push_back(device(t, c, first + e, p));
  return g;
}

std::vector<int> RankMap::expert_dp_group(std::int64_t t, std::int64_t d, std::int64_t p) const {
  std::vector<int> g;
  for (std::int64_t q = d % ep; q < dp; q += ep) {
    for (std::int64_t c = 0; c < cp; ++c) g.push_back(device(t, c, q, p));
  }
  return g;
}

std::vector<int> RankMap::pp_group(std::int64_t t, std::int64_t c, std::int64_t d) const {
  std::vector<int> g;
  for (std::int64_t p = 0; p < pp; ++p) g.push_back(device(t, c, d, p));
  return g;
}

}  // namespace llmsim
