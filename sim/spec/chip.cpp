#include "sim/spec/chip.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "sim/core/params.h"
#include "sim/spec/chip_loaders.h"
#include "sim/spec/chip_validation.h"
#include "sim/spec/tier_model_names.h"

namespace llmsim {

const std::vector<std::string>& known_dtypes() {
  static const std::vector<std::string> d = {"fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4", "w8a16"};
  return d;
}

double dtype_bytes(const std::string& dtype) {
  if (dtype == "fp64") return 8;
  if (dtype == "fp32" || dtype == "tf32") return 4;
  if (dtype == "bf16" || dtype == "fp16") return 2;
  if (dtype == "fp8" || dtype == "int8" || dtype == "w8a16") return 1;
  if (dtype == "int4") return 0.5;
  throw std::out_of_range("unknown dtype '" + dtype + "'");
}

bool weight_only_format(const std::string& dtype) { return dtype == "w8a16"; }

double activation_bytes(const std::string& dtype) {
  return dtype == "int4" || weight_only_format(dtype) ? 2.0 : dtype_bytes(dtype);
}

double ComputeSpec::flops_per_cycle_per_unit(const std::string& dtype, Hertz clock) const {
  auto it = peak.find(dtype);
  if (it == peak.end() || units <= 0 || clock <= 0) return 0;
  return it->second / (static_cast<double>(units) * clock);
}

const std::vector<PublishedColumn>& published_columns() {
  // Headings as printed in the paper (two header rows merged: "Memory" + "Type").
  static const std::vector<PublishedColumn> cols = {
      {1, "technology_node", "Technology Node"},
      {1, "tdp_w", "TDP (W)"},
      {1, "memory_type", "Memory Type"},
      {1, "memory_capacity", "Memory Capacity"},
      {1, "memory_bandwidth", "Memory Bandwidth"},
      {1, "release_date", "Release Date"},
      {1, "latest_release", "Latest Release"},
      {1, "supported_operations", "Supported Operations"},
      {2, "fp8", "FP8"},
      {2, "fp16", "FP16"},
      {2, "bf16", "BF16"},
      {2, "int8", "INT8"},
      {2, "fp32", "FP32"},
      {2, "fp64", "FP64"},
      {3, "chip_to_chip_type", "Chip-to-chip Type"},
      {3, "chip_to_chip_bandwidth", "Chip-to-chip Bandwidth"},
      {3, "card_to_card_type", "Card-to-card (Node) Type"},
      {3, "card_to_card_bandwidth", "Card-to-card (Node) Bandwidth"},
      {3, "node_to_node_type", "Node-to-node Type"},
      {3, "node_to_node_bandwidth", "Node-to-node Bandwidth"},
  };
  return cols;
}

const MemoryTierSpec* ChipSpec::tier(const std::string& n) const {
  for (const auto& t : memory) if (t.tier == n) return &t;
  return nullptr;
}

const MemoryTierSpec& ChipSpec::main_tier() const {
  const MemoryTierSpec* t = tier(placement.weights);
  if (!t) throw std::logic_error("chip " + name + " has no tier '" + placement.weights + "'");
  return *t;
}

Bytes ChipSpec::total_capacity() const {
  Bytes b = 0;
  for (const auto& t : memory) b += t.capacity;
  return b;
}

namespace {

const std::vector<std::string> kTiers = {"sram", "hbm", "ddr", "lpddr", "gddr"};
const std::vector<std::string> kChipFamilies = {"gpu", "tpu", "wafer", "ipu", "lpu", "hpu", "rdu", "tensix"};

// published: {row, accelerator, table1: {...}, table2: {...}, table3: {...}}; every column
// required, every cell a string kept verbatim.
PublishedRow load_published(const YAML::Node& node, const std::string& file) {
  Fields pf(node, file, "chip.published");
  PublishedRow r;
  r.row = static_cast<int>(pf.positive("row"));
  r.accelerator = pf.str("accelerator");
  for (int table = 1; table <= 3; ++table) {
    std::string key = "table" + std::to_string(table);
    Fields tf(pf.get(key), file, "chip.published." + key);
    for (const PublishedColumn& c : published_columns()) {
      if (c.table == table) r.cells[c.id()] = tf.str(c.key);
    }
    tf.finish();
  }
  pf.finish();
  return r;
}

void check_tier_name(Params& f, const std::string& key, const ChipSpec& chip, const std::string& value) {
  if (value.empty()) return;
  if (!chip.tier(value)) f.fail(key, "tier '" + value + "' is not in this chip's memory list");
}

// `model:` (a registered TierModel, default "bandwidth"; sim/spec/tier_model_names.h) and, for model dram, `dram:` timing
// overrides ({tRCD: 14 ns, ...}). Both checked here so a typo is a positioned exit 2, not
// a failure when the simulation builds the model.
void load_tier_model(Params& mf, MemoryTierSpec& t) {
  t.model = mf.str("model");
  t.target = mf.str("target");
  std::vector<std::string> models = TierModelNames::models();  // "tlm" included (models/tier_model_tlm.cpp)
  if (t.model == "tlm") {
    std::vector<std::string> targets = TierModelNames::targets();
    if (std::find(targets.begin(), targets.end(), t.target) == targets.end()) {
      std::string list, near = nearest(t.target, targets);
      for (const auto& n : targets) list += (list.empty() ? "" : ", ") + n;
      mf.fail(mf.has("target") ? "target" : "model",
              (t.target.empty() ? std::string("model tlm needs `target:`, a registered TLM target")
                                : "unknown TLM target '" + t.target + "'" +
                                      (near.empty() ? "" : " (did you mean '" + near + "'?)")) +
                  "; registered: " + (list.empty() ? "none" : list));
    }
  } else if (!t.target.empty()) {
    mf.fail("target", "`target:` applies only to `model: tlm`");
  }
  if (std::find(models.begin(), models.end(), t.model) == models.end()) {
    std::string list, near = nearest(t.model, models);
    for (const auto& m : models) list += (list.empty() ? "" : ", ") + m;
    mf.fail("model", "unknown tier model '" + t.model + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                         "; registered: " + list);
  }
  YAML::Node d = mf.opt("dram");
  if (!d) return;
  if (t.model != "dram") mf.fail("dram", "timing overrides apply only to `model: dram`");
  Fields df(d, mf.file(), "chip.memory[].dram");
  const std::vector<std::string> names = TierModelNames::overrides("dram");
  for (auto kv : df.node()) {
    std::string k = kv.first.Scalar();
    if (std::find(names.begin(), names.end(), k) == names.end()) {
      std::string list, near = nearest(k, names);
      for (const auto& n : names) list += (list.empty() ? "" : " ") + n;
      throw InputError(pos_of(kv.first, mf.file()), "chip.memory[].dram: unknown timing parameter '" + k + "'" +
                                                        (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                                                        "; known: " + list);
    }
    Seconds v = df.qty(k, Dim::Time);
    if (v < 0) df.fail(k, "must be >= 0");
    t.dram[k] = v;
  }
  df.finish();
}

void load_dvfs(Params& p, ChipSpec& c) {
  c.power.dvfs_min_clock = 0.4 * c.clock;
  if (!p.has("dvfs")) return;
  Params d = p.child("dvfs");
  c.power.dvfs_min_clock = d.qty("min_clock", 0.4 * c.clock);
  c.power.dvfs_min_voltage = d.num("min_voltage");
  if (!(c.power.dvfs_min_clock > 0 && c.power.dvfs_min_clock <= c.clock))
    d.fail("min_clock", "must be above 0 and at most the chip's clock");
  if (!(c.power.dvfs_min_voltage > 0 && c.power.dvfs_min_voltage <= 1))
    d.fail("min_voltage", "must be in (0, 1] (a fraction of the voltage at `clock`)");
  d.finish();
}

// power.pj_per_flop_dtype: read after compute, whose peaks name the dtypes it may list.
void load_dtype_energy(const YAML::Node& m, const std::string& file, ChipSpec& c) {
  if (!m) return;
  Fields ef(m, file, "chip.power.pj_per_flop_dtype");
  for (auto kv : ef.node()) {
    std::string dt = kv.first.Scalar();
    if (!c.compute.supports(dt)) {
      throw InputError(pos_of(kv.first, file),
                       "chip.power.pj_per_flop_dtype: dtype '" + dt + "' has no entry in compute.peak");
    }
    double e = ef.num(dt);
    if (!(e > 0)) ef.fail(dt, "must be positive (pJ per FLOP)");
    c.power.pj_per_flop_dtype[dt] = e;
  }
  ef.finish();
}

void load_memory(Params& f, ChipSpec& c) {
  YAML::Node mem = f.get("memory");
  if (!mem.IsSequence() || mem.size() == 0) f.fail("memory", "must be a non-empty list of tiers");
  for (std::size_t i = 0; i < mem.size(); ++i) {
    Params mf = f.item("memory", i);
    MemoryTierSpec t;
    t.pos = mf.pos();
    t.tier = mf.choice("tier");
    t.capacity = mf.qty("capacity");
    t.bandwidth = mf.qty("bandwidth");
    t.latency = mf.qty("latency");
    t.efficiency = mf.num("efficiency");
    t.pj_per_byte = mf.num("pj_per_byte");
    t.paged_efficiency = mf.num("paged_efficiency");
    t.random_efficiency = mf.num("random_efficiency");
    if (t.capacity <= 0) mf.fail("capacity", "must be positive");
    if (t.bandwidth <= 0) mf.fail("bandwidth", "must be positive");
    if (t.efficiency <= 0 || t.efficiency > 1) mf.fail("efficiency", "must be in (0, 1]");
    if (!(t.paged_efficiency > 0 && t.paged_efficiency <= 1)) mf.fail("paged_efficiency", "must be in (0, 1]");
    if (!(t.random_efficiency > 0 && t.random_efficiency <= 1)) mf.fail("random_efficiency", "must be in (0, 1]");
    if (c.tier(t.tier)) mf.fail("tier", "tier '" + t.tier + "' listed twice");
    load_tier_model(mf, t);
    mf.finish();
    c.memory.push_back(t);
  }
}

// Absent `placement:` and absent fields default alike: weights in the largest (last) tier,
// everything else where the weights are.
void load_placement(Params& f, ChipSpec& c) {
  Params pf = f.child("placement");
  c.placement.weights = pf.str("weights", c.memory.back().tier);
  c.placement.kv_cache = pf.str("kv_cache", c.placement.weights);
  c.placement.activations = pf.str("activations", c.placement.weights);
  c.placement.optimizer = pf.str("optimizer", c.placement.weights);
  c.placement.stream_from = pf.str("stream_from");
  c.placement.staging = pf.str("staging");
  check_tier_name(pf, "weights", c, c.placement.weights);
  check_tier_name(pf, "kv_cache", c, c.placement.kv_cache);
  check_tier_name(pf, "activations", c, c.placement.activations);
  check_tier_name(pf, "optimizer", c, c.placement.optimizer);
  check_tier_name(pf, "stream_from", c, c.placement.stream_from);
  check_tier_name(pf, "staging", c, c.placement.staging);
  pf.finish();
}

// Checked here and recorded in the resolved chip; the inference lowering reads it back
// (sim/workloads/inference/dataflow.h execution_of).
void load_execution(Params& f) {
  Params ef = f.child("execution");
  ef.choice("model");
  ef.choice("regions");
  ef.positive("mesh_x");
  ef.positive("mesh_y");
  if (!(ef.num("hop_cycles") > 0)) ef.fail("hop_cycles", "must be positive");
  ef.finish();
}

}  // namespace

ChipSpec load_chip(const Doc& doc) {
  ChipSpec c;
  c.file = doc.path;
  // Names, units and defaults come from the declarations in chip_params.cpp.
  Params f("chip", doc, "chip");
  c.name = f.str("name");
  c.display = f.str("display", c.name);
  c.vendor = f.str("vendor");
  c.family = f.choice("family");
  c.clock = f.qty("clock");
  if (c.clock <= 0) f.fail("clock", "must be positive");
  c.boost_clock = f.qty("boost_clock", c.clock);
  if (c.boost_clock < c.clock) f.fail("boost_clock", "must be at least `clock` (the clock the peaks are quoted at)");

  YAML::Node dtype_energy;  // checked against compute.peak once that is read
  std::string power_file;
  {
    Params p = f.child("power");
    dtype_energy = p.opt("pj_per_flop_dtype");
    power_file = p.file();
    c.power.tdp = p.qty("tdp");
    c.power.idle = p.qty("idle");
    c.power.pj_per_flop = p.num("pj_per_flop");
    if (c.power.tdp <= 0) p.fail("tdp", "must be positive");
    if (c.power.idle < 0 || c.power.idle >= c.power.tdp) p.fail("idle", "must be >= 0 and below tdp");
    if (c.power.pj_per_flop < 0) p.fail("pj_per_flop", "must not be negative");
    c.power.pj_per_byte_fabric = p.num("pj_per_byte_fabric");
    if (c.power.pj_per_byte_fabric < 0) p.fail("pj_per_byte_fabric", "must not be negative");
    load_dvfs(p, c);
    p.finish();
  }
  load_chip_compute(f, c);
  load_dtype_energy(dtype_energy, power_file, c);
  load_memory(f, c);
  if (c.compute.operand_accesses_per_mac > 0 && !c.tier("sram"))  // the memory list is loaded now
    f.fail("compute", "operand_accesses_per_mac needs an sram tier (the units' own memory it is read from)");
  load_placement(f, c);
  load_execution(f);
  if (YAML::Node ports = f.opt("ports")) {
    if (!ports.IsSequence()) f.fail("ports", "must be a list");
    for (std::size_t i = 0; i < ports.size(); ++i) {
      Params pf = f.item("ports", i);
      PortSpec p;
      p.kind = pf.str("kind");
      p.count = static_cast<int>(pf.positive("count"));
      p.bandwidth = pf.qty("bandwidth");
      p.latency = pf.qty("latency");
      if (p.bandwidth <= 0) pf.fail("bandwidth", "must be positive");
      pf.finish();
      c.ports.push_back(p);
    }
  }
  c.published = f.opt("published");
  if (c.published) c.published_row = load_published(c.published, f.file_for("published"));
  if (YAML::Node src = f.opt("sources")) {
    if (!src.IsSequence()) f.fail("sources", "must be a list of strings");
    for (auto s : src) c.sources.push_back(as_string(s, f.file_for("sources"), "chip.sources[]"));
  }
  if (YAML::Node fit = f.opt("fitted")) {
    if (!fit.IsMap()) f.fail("fitted", "must be a map like {compute.matrix_efficiency: C1}");
    for (auto kv : fit) {
      c.fitted[kv.first.Scalar()] = as_string(kv.second, f.file_for("fitted"), "chip.fitted." + kv.first.Scalar());
    }
  }
  load_chip_validation(f, c);
  f.opt("notes");
  f.finish();
  c.resolved = f.resolved();
  return c;
}

ChipCatalog::ChipCatalog(std::string dir) : dir_(std::move(dir)) {}

const ChipSpec& ChipCatalog::get(const std::string& ref, const SourcePos& from) {
  auto it = loaded_.find(ref);
  if (it != loaded_.end()) return *it->second;
  bool is_path = ref.find('/') != std::string::npos ||
                 (ref.size() > 5 && ref.compare(ref.size() - 5, 5, ".yaml") == 0);
  std::string path = is_path ? ref : dir_ + "/" + ref + ".yaml";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    std::string near = nearest(ref, names());
    throw InputError(from, "unknown device '" + ref + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)"),
                     "see `llmsim devices` for the catalog in " + dir_);
  }
  auto chip = std::make_unique<ChipSpec>(load_chip(load_doc(path)));
  if (!is_path && chip->name != ref) {
    throw InputError({path, 1, 1}, "chip file defines name '" + chip->name + "' but is named '" + ref + ".yaml'");
  }
  const ChipSpec& r = *chip;
  loaded_[ref] = std::move(chip);
  return r;
}

void ChipCatalog::add(ChipSpec chip) {
  std::string name = chip.name;
  loaded_[name] = std::make_unique<ChipSpec>(std::move(chip));
}

std::vector<std::string> ChipCatalog::names() const {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.compare(n.size() - 5, 5, ".yaml") == 0) out.push_back(n.substr(0, n.size() - 5));
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<const ChipSpec*> ChipCatalog::all() {
  std::vector<const ChipSpec*> out;
  for (const auto& n : names()) out.push_back(&get(n));
  return out;
}

std::string project_root() {
  if (const char* h = std::getenv("LLMSIM_HOME")) return h;
  // The binary lives in ROOT/build*/; fall back to the source tree it was built from.
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    buf[n] = 0;
    std::string exe(buf);
    auto s = exe.find_last_of('/');
    std::string dir = exe.substr(0, s);
    auto s2 = dir.find_last_of('/');
    std::string root = dir.substr(0, s2);
    struct stat st;
    if (::stat((root + "/topologies/devices").c_str(), &st) == 0) return root;
  }
  return LLMSIM_SOURCE_DIR;
}

std::string default_catalog_dir() { return project_root() + "/topologies/devices"; }

}  // namespace llmsim
