// [software] Serving (and training) software stacks (topologies/software/*.yaml, docs/software.md): every
// shipped stack loads with a source for each figure; an iteration grows by the stack's host
// formula; captured graphs hide launch overhead; lazy dispatch serialises launches and
// device; the time split adds up; bad stacks are exit 2. Runs go through the binary (one
// SystemC kernel per process).
#include <catch2/catch.hpp>

#include <dirent.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "cli_outcome.h"
#include "sim/core/units.h"
#include "sim/software/stack.h"

namespace test_software {

using namespace llmsim;
using namespace llmsim_test;

namespace {

std::string put(const std::string& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir + "/" + name) << text;
  return dir + "/" + name;
}

// A stack file with the given kernels / host sections (every figure with a source line).
std::string stack_text(const std::string& name, Seconds launch, const std::string& graphs, Seconds base,
                       Seconds per_seq, bool overlap) {
  auto us = [](Seconds s) { return std::to_string(s * 1e6) + " us"; };
  return "name: " + name + "\nkernels: {launch_overhead: " + us(launch) + ", graphs: " + graphs +
         ", graph_launch: 0 us}\nhost: {base: " + us(base) + ", per_sequence: " + us(per_seq) +
         ", overlap: " + (overlap ? "true" : "false") + "}\ndtypes: [bf16]\nsources:\n"
         "  kernels.launch_overhead: 'estimate: test'\n  kernels.graphs: 'estimate: test'\n"
         "  kernels.graph_launch: 'estimate: test'\n  host.base: 'estimate: test'\n"
         "  host.per_sequence: 'estimate: test'\n  host.overlap: 'estimate: test'\n";
}

// stack_text with `kernels.dispatch` (ahead | lazy) and a graph launch time.
std::string stack_text_dispatch(const std::string& name, Seconds launch, const std::string& graphs,
                                Seconds graph_launch, const std::string& dispatch) {
  std::string t = stack_text(name, launch, graphs, 0, 0, false);
  const std::string zero_graph = "graph_launch: 0 us}";
  t.replace(t.find(zero_graph), zero_graph.size(),
            "graph_launch: " + std::to_string(graph_launch * 1e6) + " us, dispatch: " + dispatch + "}");
  return t + "  kernels.dispatch: 'estimate: test'\n";
}

// N requests at once, P prompt tokens (one prefill chunk each), O output tokens, one H100.
const int kN = 4, kP = 64, kO = 16;
std::string workload(const std::string& dir, const std::string& software) {
  return put(dir, "w-" + std::to_string(std::hash<std::string>()(software)) + ".yaml",
             "kind: inference\nmodel: llama-3.1-8b\ndtype: bf16\nsoftware: " + software +
                 "\nrequests: {count: " + std::to_string(kN) + ", arrival: at-once, prompt_tokens: " + std::to_string(kP) +
                 ", output_tokens: " + std::to_string(kO) + "}\n");
}

nlohmann::json run_summary(const std::string& dir, const std::string& wl, const std::string& out,
                           const std::string& extra = "") {
  std::string topo = put(dir, "one.yaml", "device: nvidia-h100-sxm\ncount: 1\n");
  Outcome o = llmsim_test::run_cli("run --quiet -t " + topo + " -w " + wl + " -o " + out + " " + extra);
  INFO(o.text);
  REQUIRE(o.rc == 0);
  return nlohmann::json::parse(slurp(out + "/summary.json"));
}

// Reads a quantity from a stack YAML as text ("0.5 ms") with the units parser.
Seconds yaml_time(const YAML::Node& n) { return parse_quantity(n.as<std::string>(), Dim::Time); }

}  // namespace

TEST_CASE("every shipped software stack loads and sources every figure", "[software]") {
  const std::string dir = kRoot + "/topologies/software";
  DIR* d = opendir(dir.c_str());
  REQUIRE(d != nullptr);
  int n = 0;
  while (dirent* e = readdir(d)) {
    std::string f = e->d_name;
    if (f.size() < 6 || f.substr(f.size() - 5) != ".yaml" || f == "defaults.yaml") continue;
    INFO(f);
    SoftwareStack s = load_software_file(dir + "/" + f, {});
    CHECK(s.name + ".yaml" == f);
    CHECK(!s.dtypes.empty());
    // Every figure the file states has a source or an explicit estimate (the loader refuses
    // otherwise; checked again here on the raw file).
    YAML::Node raw = YAML::LoadFile(dir + "/" + f);
    for (const char* sec : {"kernels", "host", "attention", "collective", "tensor_parallel", "device_mesh"})
      if (raw[sec])
        for (auto kv : raw[sec]) {
          const std::string key = std::string(sec) + "." + kv.first.as<std::string>();
          if (!kv.second.IsMap()) {
            CHECK(raw["sources"][key]);
            continue;
          }
          for (auto sub : kv.second) CHECK(raw["sources"][key + "." + sub.first.as<std::string>()]);  // a nested block
        }
    ++n;
  }
  closedir(d);
  // trt-llm vllm-cuda vllm-rocm sglang optimum-habana jax-tpu tt-metal groq sambaflow cerebras poplar,
  // and the training stacks megatron nemo llm-foundry deepspeed-habana
  CHECK(n == 15);
  // Every catalog family has a default stack.
  for (const char* fam : {"gpu", "tpu", "wafer", "ipu", "lpu", "hpu", "rdu", "tensix"})
    CHECK(!default_software_for("no-such-chip", fam).empty());
  CHECK(default_software_for("amd-mi300x", "gpu") == "vllm-rocm");
}

TEST_CASE("host time follows base + per_sequence x batch from the YAML figures", "[software]") {
  const std::string f = kRoot + "/topologies/software/vllm-rocm.yaml";
  YAML::Node raw = YAML::LoadFile(f);
  const Seconds a = yaml_time(raw["host"]["base"]), b = yaml_time(raw["host"]["per_sequence"]);
  SoftwareStack s = load_software_file(f, {});
  for (int batch : {1, 7, 64, 256}) CHECK(s.host_time(batch) == Approx(a + b * batch).epsilon(1e-12));
  // Captured iterations launch one graph; eager ones every kernel.
  CHECK(s.captured(0));
  CHECK_FALSE(s.captured(1));
  CHECK(s.launch_time(500, false) == Approx(500 * yaml_time(raw["kernels"]["launch_overhead"])));
  CHECK(s.launch_time(500, true) == Approx(yaml_time(raw["kernels"]["graph_launch"])));
}

TEST_CASE("an iteration grows by the stack's host overhead", "[software]") {
  std::string d = make_tmpdir("sw-host");
  // Zero-cost stack vs base 2 ms vs per_sequence 0.5 ms: the same iterations (all requests
  // arrive at once, so scheduling does not depend on timing), longer by the formula.
  const Seconds base = 2e-3, per = 0.5e-3;
  auto zero = run_summary(d, workload(d, put(d, "zero.yaml", stack_text("zero", 0, "all", 0, 0, false))), d + "/o0");
  auto with_a = run_summary(d, workload(d, put(d, "a.yaml", stack_text("a", 0, "all", base, 0, false))), d + "/oa");
  auto with_b = run_summary(d, workload(d, put(d, "b.yaml", stack_text("b", 0, "all", 0, per, false))), d + "/ob");
  const double iters = zero["inference"]["iterations"].get<double>();
  REQUIRE(with_a["inference"]["iterations"].get<double>() == iters);
  REQUIRE(with_b["inference"]["iterations"].get<double>() == iters);
  const double t0 = zero["sim_time_s"].get<double>();
  CHECK(with_a["sim_time_s"].get<double>() - t0 == Approx(iters * base).epsilon(1e-6));
  // Each request is in one prefill iteration and kO - 1 decode iterations: kN x kO
  // sequence-iterations in all.
  CHECK(with_b["sim_time_s"].get<double>() - t0 == Approx(kN * kO * per).epsilon(1e-6));
  // The split: host time is exactly what was added; the fractions sum to one.
  const auto& ts = with_a["inference"]["time_split"];
  CHECK(ts["host_s"].get<double>() == Approx(iters * base).epsilon(1e-6));
  CHECK(zero["inference"]["time_split"]["host_s"].get<double>() == Approx(0).margin(1e-12));
  CHECK(ts["compute_fraction"].get<double>() + ts["memory_fraction"].get<double>() +
            ts["communication_fraction"].get<double>() + ts["host_fraction"].get<double>() ==
        Approx(1.0));
  CHECK(ts["compute_s"].get<double>() + ts["memory_s"].get<double>() + ts["host_s"].get<double>() +
            ts["communication_s"].get<double>() ==
        Approx(with_a["sim_time_s"].get<double>()).epsilon(1e-6));
  // Overlapped host work hides behind the device: no longer than without host work, as
  // long as it is shorter than the device's iteration.
  auto over = run_summary(d, workload(d, put(d, "ov.yaml", stack_text("ov", 0, "all", 1e-6, 0, true))), d + "/oo");
  CHECK(over["sim_time_s"].get<double>() == Approx(t0).epsilon(1e-9));
}

TEST_CASE("captured graphs hide kernel launch overhead", "[software]") {
  std::string d = make_tmpdir("sw-graphs");
  const Seconds launch = 1e-3;  // far above any kernel of this batch: launch-bound when eager
  auto eager = run_summary(d, workload(d, put(d, "e.yaml", stack_text("e", launch, "none", 0, 0, false))), d + "/oe");
  auto graphs = run_summary(d, workload(d, put(d, "g.yaml", stack_text("g", launch, "all", 0, 0, false))), d + "/og");
  auto zero = run_summary(d, workload(d, put(d, "z.yaml", stack_text("z", 0, "all", 0, 0, false))), d + "/oz");
  // A Llama layer lowers to at least 9 kernels (2 norms, qkv, rotary, attention, out,
  // up, activation, down), 32 layers: an eager iteration lasts >= 288 launches.
  const double iters = eager["inference"]["iterations"].get<double>();
  CHECK(eager["sim_time_s"].get<double>() >= iters * 9 * 32 * launch);
  CHECK(graphs["sim_time_s"].get<double>() == Approx(zero["sim_time_s"].get<double>()).epsilon(1e-9));
  CHECK(eager["inference"]["time_split"]["host_s"].get<double>() > 0.9 * eager["sim_time_s"].get<double>());
}

TEST_CASE("vLLM captures decode graphs up to its largest captured batch, larger batches launch eagerly", "[software]") {
  // [VLLM-V0-ENGINE]: graphs for decode batches [1, 2, 4] + [8 i for i in 1..32], the last 256.
  const std::int64_t vllm_largest = 8 * 32;
  for (const char* name : {"vllm-cuda", "vllm-rocm"}) {
    const std::string f = kRoot + "/topologies/software/" + name + ".yaml";
    SoftwareStack s = load_software_file(f, {});
    YAML::Node raw = YAML::LoadFile(f);
    CHECK(s.graph_max_batch == vllm_largest);
    CHECK(s.captured(0, vllm_largest));
    CHECK_FALSE(s.captured(0, vllm_largest + 1));
    CHECK_FALSE(s.captured(1, 1));  // prefill still eager
    // An eager decode step launches every kernel: 1,000 kernels at the stack's figure.
    CHECK(s.launch_time(1000, s.captured(0, 300)) == Approx(1000 * yaml_time(raw["kernels"]["launch_overhead"])));
  }
  // A stack that does not state a limit captures every decode batch.
  std::string d = make_tmpdir("sw-graph-max");
  SoftwareStack any = load_software_file(put(d, "any.yaml", stack_text("any", 1e-6, "decode", 0, 0, false)), {});
  CHECK(any.captured(0, 100000));
  // End to end: 4 decoding sequences over a limit of 2 launch eagerly, each decode step at
  // least 9 kernels x 32 layers x 1 ms (as "captured graphs hide kernel launch overhead").
  const Seconds launch = 1e-3;
  std::string capped = stack_text("capped", launch, "decode", 0, 0, false);
  capped.replace(capped.find("graph_launch: 0 us"), 18, "graph_launch: 0 us, graph_max_batch: 2");
  capped += "  kernels.graph_max_batch: 'estimate: test'\n";
  auto slow = run_summary(d, workload(d, put(d, "capped.yaml", capped)), d + "/oc");
  auto fast =
      run_summary(d, workload(d, put(d, "free.yaml", stack_text("free", launch, "decode", 0, 0, false))), d + "/of");
  const double decode_steps = kO - 1;
  CHECK(slow["sim_time_s"].get<double>() - fast["sim_time_s"].get<double>() >= 0.9 * decode_steps * 9 * 32 * launch);
}

TEST_CASE("lazy dispatch puts the launches before the device ops", "[software]") {
  std::string d = make_tmpdir("sw-lazy");
  // Eager iterations with 1 ms per launch are launch-bound under `ahead` (>= 288 launches
  // against a few ms of device time, test above): each lasts exactly its launches, so the
  // ahead run's time is the sum of every iteration's launches. Under `lazy` the same
  // launches come before the device ops instead of beside them, so the lazy run lasts the
  // device-only run plus the ahead run: serial, not parallel.
  const Seconds launch = 1e-3;
  auto zero = run_summary(d, workload(d, put(d, "z.yaml", stack_text("z", 0, "all", 0, 0, false))), d + "/oz");
  auto ahead =
      run_summary(d, workload(d, put(d, "a.yaml", stack_text_dispatch("a", launch, "none", 0, "ahead"))), d + "/oa");
  auto lazy = run_summary(d, workload(d, put(d, "l.yaml", stack_text_dispatch("l", launch, "none", 0, "lazy"))),
                          d + "/ol", "--timeline");
  const double iters = zero["inference"]["iterations"].get<double>();
  REQUIRE(ahead["inference"]["iterations"].get<double>() == iters);
  REQUIRE(lazy["inference"]["iterations"].get<double>() == iters);
  const double t0 = zero["sim_time_s"].get<double>(), ta = ahead["sim_time_s"].get<double>();
  REQUIRE(ta > 10 * t0);  // launch-bound indeed
  CHECK(lazy["sim_time_s"].get<double>() == Approx(t0 + ta).epsilon(1e-6));
  // The split: the launches are host time, the device chain is the device-only run's.
  const auto& ts = lazy["inference"]["time_split"];
  CHECK(ts["host_s"].get<double>() == Approx(ta).epsilon(1e-6));
  CHECK(ts["compute_s"].get<double>() + ts["memory_s"].get<double>() + ts["communication_s"].get<double>() ==
        Approx(t0).epsilon(1e-6));
  // A captured iteration under lazy dispatch waits for its one graph launch; under ahead a
  // graph launch shorter than the device's iteration hides behind it.
  const Seconds g = 1e-3;
  auto g_ahead =
      run_summary(d, workload(d, put(d, "ga.yaml", stack_text_dispatch("ga", 0, "all", g, "ahead"))), d + "/oga");
  auto g_lazy =
      run_summary(d, workload(d, put(d, "gl.yaml", stack_text_dispatch("gl", 0, "all", g, "lazy"))), d + "/ogl");
  REQUIRE(t0 / iters > g);  // each iteration's device time exceeds the graph launch
  CHECK(g_ahead["sim_time_s"].get<double>() == Approx(t0).epsilon(1e-9));
  CHECK(g_lazy["sim_time_s"].get<double>() == Approx(t0 + iters * g).epsilon(1e-6));
}

TEST_CASE("the stack appears in config.resolved.yaml and the timeline shows host spans", "[software]") {
  std::string d = make_tmpdir("sw-resolved");
  auto s = run_summary(d, workload(d, "vllm-cuda"), d + "/o", "--timeline");
  CHECK(s["inference"]["software"] == "vllm-cuda");
  std::string resolved = slurp(d + "/o/config.resolved.yaml");
  CHECK(resolved.find("name: vllm-cuda") != std::string::npos);
  CHECK(resolved.find("per_sequence") != std::string::npos);
  CHECK(slurp(d + "/o/timeline.json").find("\"host prep\"") != std::string::npos);
  // The resolved file reruns to the same result (the stack read back inline).
  Outcome o = llmsim_test::run_cli("run --quiet -t " + d + "/o/config.resolved.yaml -w " + d +
                                   "/o/config.resolved.yaml -o " + d + "/o2");
  INFO(o.text);
  REQUIRE(o.rc == 0);
  auto again = nlohmann::json::parse(slurp(d + "/o2/summary.json"));
  CHECK(again["sim_time_s"] == s["sim_time_s"]);
  // Default: an H100 system without `software:` runs vllm-cuda (topologies/software/defaults.yaml).
  std::string plain = put(d, "plain.yaml", "kind: inference\nmodel: llama-3.1-8b\nrequests: {count: 1, arrival: at-once, "
                                           "prompt_tokens: 8, output_tokens: 2}\n");
  CHECK(run_summary(d, plain, d + "/o3")["inference"]["software"] == "vllm-cuda");
}

TEST_CASE("bad software stacks are exit 2 with one positioned line", "[software]") {
  std::string d = make_tmpdir("sw-bad");
  std::string topo = put(d, "one.yaml", "device: nvidia-h100-sxm\ncount: 1\n");
  auto run_wl = [&](const std::string& wl) {
    return llmsim_test::run_cli("run --quiet -t " + topo + " -w " + wl + " -o " + d + "/o");
  };
  one_error_line(run_wl(workload(d, "no-such-stack")), "unknown software stack 'no-such-stack'");
  std::string typo = stack_text("t", 0, "all", 0, 0, false);
  typo.replace(typo.find("base:"), 5, "bse:");
  one_error_line(run_wl(workload(d, put(d, "typo.yaml", typo))), "bse");
  std::string unsourced = stack_text("u", 0, "all", 0, 0, false);
  unsourced = unsourced.substr(0, unsourced.find("  host.base:")) + unsourced.substr(unsourced.find("  host.per_sequence:"));
  one_error_line(run_wl(workload(d, put(d, "unsourced.yaml", unsourced))), "figure 'host.base' has no source");
  std::string graphs = stack_text("g", 0, "sometimes", 0, 0, false);
  one_error_line(run_wl(workload(d, put(d, "graphs.yaml", graphs))), "sometimes");
  // fp8 is not in the test stack's dtypes.
  std::string fp8 = put(d, "fp8.yaml", "kind: inference\nmodel: llama-3.1-8b\ndtype: fp8\nsoftware: " +
                                           put(d, "bf16only.yaml", stack_text("bf16only", 0, "all", 0, 0, false)) +
                                           "\nrequests: {count: 1, arrival: at-once, prompt_tokens: 8, output_tokens: 2}\n");
  one_error_line(run_wl(fp8), "does not run dtype 'fp8'");
}

TEST_CASE("llmsim describe software lists the stack fields", "[software]") {
  Outcome o = llmsim_test::run_cli("describe software --format csv");
  INFO(o.text);
  REQUIRE(o.rc == 0);
  for (const char* f :
       {"kernels.launch_overhead", "kernels.graphs", "kernels.dispatch", "host.base", "host.per_sequence",
        "host.overlap", "attention.softmax", "collective.protocols", "device_mesh.placement", "dtypes", "sources"})
    CHECK(o.text.find(f) != std::string::npos);
}

}  // namespace test_software
