// Parameters declared once (sim/core/params.h): the loaders read only declared fields,
// `llmsim describe` lists every field the shipped files use, and config.resolved.yaml fed
// back reproduces a run byte for byte.
#include <catch2/catch.hpp>
#include <dirent.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <stdexcept>

#include "cli_support.h"
#include "sim/core/params.h"
#include "sim/spec/chip.h"
#include "sim/workloads/microbench.h"

namespace test_params {

using namespace llmsim;
using namespace llmsim_test;

LLMSIM_DECLARE_PARAMS(test_sec, {"test-only", "test-only", "", {
    ParamDecl::req("clock", ParamType::Quantity, "a clock").unit(Dim::Frequency).from("test"),
    ParamDecl::opt("latency", ParamType::Quantity, "1.5 us", "a latency").unit(Dim::Time).from("test"),
    ParamDecl::opt("ratio", ParamType::Number, "0.9", "a ratio").from("test"),
    ParamDecl::derive("label", ParamType::String, "clock's text", "a label").from("test"),
}});

namespace {

std::vector<std::string> yaml_files(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.compare(n.size() - 5, 5, ".yaml") == 0) out.push_back(dir + "/" + n);
    }
    ::closedir(d);
  }
  return out;
}

// FIELD column of `llmsim describe KIND --format csv` (second column).
std::set<std::string> described(const std::string& kind) {
  auto [rc, text] = run_command("'" + std::string(LLMSIM_BINARY) + "' describe " + kind + " --format csv");
  REQUIRE(rc == 0);
  std::set<std::string> fields;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    auto a = line.find(','), b = line.find(',', a + 1);
    fields.insert(line.substr(a + 1, b - a - 1));
  }
  return fields;
}

bool has_prefix(const std::set<std::string>& fields, const std::string& p) {
  auto it = fields.lower_bound(p);
  return it != fields.end() && it->rfind(p, 0) == 0;
}

// Every key path of `node` ("compute.tile.m", "memory[].tier") must be described; maps that
// describe lists no fields under (peak, published, trace) are free-form and not entered.
void check_keys(const YAML::Node& node, const std::string& path, const std::set<std::string>& fields,
                const std::string& file) {
  for (auto kv : node) {
    std::string key = kv.first.Scalar();
    std::string p = path.empty() ? key : path + "." + key;
    INFO(file << ": " << p);
    CHECK(fields.count(p) == 1);
    const YAML::Node& v = kv.second;
    if (v.IsMap() && has_prefix(fields, p + ".")) check_keys(v, p, fields, file);
    if (v.IsSequence() && has_prefix(fields, p + "[].")) {
      for (auto item : v) if (item.IsMap()) check_keys(item, p + "[]", fields, file);
    }
  }
}

// A microbench op's table is named by its op ("ops[gemm]", "ops[collective]").
std::string op_table(const std::string& op) {
  if (op == "send" || op == "recv") return "ops[send|recv]";
  if (is_collective_op(op)) return "ops[collective]";
  return "ops[" + op + "]";
}

std::string summary_less_wall(const std::string& dir) {
  std::istringstream in(slurp(dir + "/summary.json"));
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.find("\"wall_time_s\"") == std::string::npos) out += line + "\n";
  }
  return out;
}

// Runs `args` into A, then A/config.resolved.yaml (no --set) into B: every output the same.
void check_round_trip(const std::string& tag, const std::string& args, const std::vector<std::string>& files) {
  std::string base = make_tmpdir(tag), a = base + "/a", b = base + "/b";
  REQUIRE(run_llmsim(args + " -o '" + a + "' --timeline --quiet", base + "/a.log") == 0);
  std::string resolved = a + "/config.resolved.yaml";
  REQUIRE(exists(resolved));
  int rc = run_llmsim("run -t '" + resolved + "' -w '" + resolved + "' -o '" + b + "' --timeline --quiet", base + "/b.log");
  INFO(slurp(base + "/b.log"));
  REQUIRE(rc == 0);
  CHECK(summary_less_wall(a) == summary_less_wall(b));
  for (const auto& f : files) {
    INFO(f);
    REQUIRE(exists(b + "/" + f));
    CHECK(slurp(a + "/" + f) == slurp(b + "/" + f));
  }
  // Resolving a resolved configuration changes nothing.
  CHECK(slurp(resolved) == slurp(b + "/config.resolved.yaml"));
  // `llmsim check` reads it too (chips, topology, workload).
  auto [check_rc, check_out] = run_command("'" + std::string(LLMSIM_BINARY) + "' check '" + resolved + "'");
  INFO(check_out);
  CHECK(check_rc == 0);
}

}  // namespace

TEST_CASE("params: values are recorded normalised, defaults included", "[params]") {
  Doc d = parse_doc("clock: 1.83 GHz\n", "p.yaml");
  Params p("test-only", d, "test");
  CHECK(p.qty("clock") == Approx(1.83e9));
  CHECK(p.qty("latency") == Approx(1.5e-6));
  CHECK(p.num("ratio") == 0.9);
  CHECK(p.str("label", "derived") == "derived");
  p.finish();
  YAML::Node r = p.resolved();
  CHECK(r["clock"].Scalar() == "1830000000 Hz");
  CHECK(r["latency"].Scalar() == "1.5e-06 s");
  CHECK(r["ratio"].Scalar() == "0.9");
  CHECK(r["label"].Scalar() == "derived");
  CHECK(parse_quantity(r["clock"].Scalar(), Dim::Frequency) == p.qty("clock"));
  CHECK(resolved_number(0.1 + 0.2) == "0.30000000000000004");
}

TEST_CASE("params: reading an undeclared field is a programming error", "[params]") {
  Doc d = parse_doc("clock: 1 GHz\n", "p.yaml");
  Params p("test-only", d, "test");
  CHECK_THROWS_AS(p.str("colour"), std::logic_error);
  CHECK_THROWS_AS(p.str("label"), std::logic_error);           // derived: the loader must pass it
  CHECK_THROWS_AS(p.str("ratio", "1"), std::logic_error);  // declared default: none passed
  CHECK_THROWS_AS(Params("no-such-section", d, "x"), std::logic_error);
}

TEST_CASE("params: every declaration has a doc, a source and a default of its own type", "[params]") {
  for (const auto& kind : ParamRegistry::kinds()) {
    for (const ParamSection* s : ParamRegistry::of_kind(kind)) {
      for (const ParamDecl& d : s->params) {
        INFO(s->path << "." << d.name << " = " << d.def);
        CHECK(!d.doc.empty());     // describe has a sentence for every field
        CHECK(!d.source.empty());  // and says where it comes from
        if (d.required || d.derived || d.def.empty()) continue;
        YAML::Node n(d.def);
        if (d.type == ParamType::Quantity) CHECK_NOTHROW(as_quantity(n, "decl", d.dim, d.name));
        if (d.type == ParamType::Number) CHECK_NOTHROW(as_number(n, "decl", d.name));
        if (d.type == ParamType::Integer || d.type == ParamType::Positive) CHECK_NOTHROW(as_int(n, "decl", d.name));
        if (d.type == ParamType::Boolean) CHECK_NOTHROW(as_bool(n, "decl", d.name));
        if (d.type == ParamType::Choice) CHECK(std::count(d.choices.begin(), d.choices.end(), d.def) == 1);
      }
    }
  }
}

TEST_CASE("params: describe chip lists every field the catalog's chips use", "[params]") {
  std::set<std::string> fields = described("chip");
  for (const char* f : {"clock", "power.tdp", "compute.tile.m", "memory[].bandwidth", "placement.weights", "ports[].count"})
    CHECK(fields.count(f) == 1);
  for (const auto& file : yaml_files(kRoot + "/topologies/devices")) check_keys(load_doc(file).root, "", fields, file);
}

TEST_CASE("params: describe topology and workload list every field the shipped files use", "[params]") {
  std::set<std::string> topo = described("topology"), chip = described("chip");
  std::vector<std::string> files = yaml_files(kRoot + "/topologies");
  for (const auto& f : yaml_files(kRoot + "/workloads/calibration")) files.push_back(f);
  for (const auto& f : yaml_files(kRoot + "/workloads")) files.push_back(f);
  std::set<std::string> mb = described("workload:microbench"), inf = described("workload:inference");
  for (const auto& file : files) {
    Doc d = load_doc(file);
    if (!d.root["kind"]) {  // calibration cases ship their own topologies and chips
      check_keys(d.root, "", d.root["compute"] && d.root["memory"] ? chip : topo, file);
      continue;
    }
    std::string kind = d.root["kind"].Scalar();
    if (kind == "inference") check_keys(d.root, "", inf, file);
    if (kind != "microbench") continue;
    for (auto kv : d.root) {
      if (kv.first.Scalar() != "ops") { CHECK(mb.count(kv.first.Scalar()) == 1); continue; }
      for (auto op : kv.second) check_keys(op, op_table(op["op"].Scalar()), mb, file);
    }
  }
}

TEST_CASE("params: every optional chip field may be left out", "[params]") {
  std::string h100 = kRoot + "/topologies/devices/nvidia-h100-sxm.yaml";
  ChipSpec full = load_chip(load_doc(h100));
  for (const char* sec : {"", "compute", "power"}) {
    const ParamSection& s = ParamRegistry::section(std::string("chip") + (*sec ? "." : "") + sec);
    for (const ParamDecl& d : s.params) {
      if (d.required) continue;
      Doc doc = load_doc(h100);
      YAML::Node m = *sec ? doc.root[sec] : doc.root;
      m.remove(d.name);
      INFO(s.path << "." << d.name);
      CHECK_NOTHROW(load_chip(doc));
    }
  }
  CHECK(full.resolved["compute"]["tile"]["n"].Scalar() == "256");
  CHECK(full.resolved["memory"][1]["capacity"].Scalar() == "85899345920 B");
  CHECK(full.resolved["placement"]["stream_from"].Scalar() == "");
}

TEST_CASE("params: every catalog chip reads back from its resolved form unchanged", "[params]") {
  for (const auto& file : yaml_files(kRoot + "/topologies/devices")) {
    INFO(file);
    ChipSpec a = load_chip(load_doc(file));
    YAML::Emitter first;
    first << clean_copy(a.resolved);
    ChipSpec b = load_chip(parse_doc(first.c_str(), "resolved.yaml"));
    YAML::Emitter second;
    second << clean_copy(b.resolved);
    CHECK(std::string(first.c_str()) == second.c_str());
    CHECK(a.clock == b.clock);
    CHECK(a.compute.peak == b.compute.peak);
    CHECK(a.compute.launch_overhead == b.compute.launch_overhead);
    REQUIRE(a.memory.size() == b.memory.size());
    for (size_t i = 0; i < a.memory.size(); ++i) {
      CHECK(a.memory[i].capacity == b.memory[i].capacity);
      CHECK(a.memory[i].bandwidth == b.memory[i].bandwidth);
      CHECK(a.memory[i].efficiency == b.memory[i].efficiency);
    }
    CHECK(a.published_row.has_value() == b.published_row.has_value());
    if (a.published_row) CHECK(a.published_row->cells == b.published_row->cells);
  }
}

TEST_CASE("params: an unknown chip field is still an error with its position", "[params]") {
  std::string text = slurp(kRoot + "/topologies/devices/nvidia-h100-sxm.yaml");
  Doc doc = parse_doc(text + "clokc: 1 GHz\n", "chip.yaml");
  try {
    load_chip(doc);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.pos().file == "chip.yaml");
    CHECK(e.pos().line == static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1);
    CHECK(std::string(e.what()).find("did you mean 'clock'") != std::string::npos);
  }
}

TEST_CASE("params: describe prints tables, yaml and csv, an unknown kind exits 2", "[params]") {
  auto [rc, table] = run_command("'" + std::string(LLMSIM_BINARY) + "' describe chip");
  CHECK(rc == 0);
  CHECK(table.find("compute.launch_overhead") != std::string::npos);
  auto [rc2, yaml] = run_command("'" + std::string(LLMSIM_BINARY) + "' describe workload --format yaml");
  CHECK(rc2 == 0);
  CHECK(yaml.find("kind: workload:inference") != std::string::npos);
  CHECK(yaml.find("kind: workload:microbench") != std::string::npos);
  auto [rc3, err] = run_command("'" + std::string(LLMSIM_BINARY) + "' describe chips");
  CHECK(rc3 == 2);
  CHECK(err.rfind("llmsim: error: describe:1:1: unknown kind 'chips'", 0) == 0);
}

TEST_CASE("params: config.resolved.yaml reproduces a microbench run byte for byte", "[params][microbench]") {
  check_round_trip("resolved-mb",
                   "run -t topologies/dgx-h100.yaml -w workloads/microbench-gemm.yaml --set workload.repeat=2",
                   {"timeline.json"});
}

TEST_CASE("params: config.resolved.yaml reproduces an inference run byte for byte", "[params][inference]") {
  check_round_trip("resolved-inf",
                   "run -t topologies/dgx-h100.yaml -w workloads/demo-serve-llama3-8b.yaml "
                   "--set workload.trace.limit=40 --set workload.scheduler.max_batch=32 --seed 7",
                   {"requests.csv", "timeline.json"});
}

TEST_CASE("params: config.resolved.yaml reproduces a training run byte for byte", "[params][training]") {
  // Training's resolved file once recorded a defaulted best-fit `window` beside a plain
  // packing, which the loader refuses: a rerun exited 2.
  check_round_trip("resolved-train", "run -t topologies/dgx-h100.yaml -w workloads/train-llama3-8b-dgx-h100.yaml",
                   {"timeline.json"});
}

}  // namespace test_params
