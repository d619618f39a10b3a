// [training] Training steps end to end through the binary (one SystemC kernel per
// process): pipeline bubbles against the closed forms of the schedules' papers, MFU
// bounds, data-parallel scaling, folding of data-parallel replicas, and bad input.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

namespace test_training_run {

using nlohmann::json;

namespace {

struct TmpDir {
  std::string path;
  TmpDir() {
    static int n = 0;
    path = "/tmp/llmsim-train-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
    REQUIRE(std::system(("rm -rf " + path + " && mkdir -p " + path).c_str()) == 0);
  }
  ~TmpDir() { std::system(("rm -rf " + path).c_str()); }
};

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir + "/" + name) << text;
  return dir + "/" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

int run(const std::string& topo, const std::string& wl, const std::string& outdir, std::string* out = nullptr) {
  std::string cmd = std::string(LLMSIM_BINARY) + " run --quiet -t " + topo + " -w " + wl + " -o " + outdir + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string o;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) o.append(buf, n);
  int st = pclose(p);
  if (out) *out = o;
  return WEXITSTATUS(st);
}

json training(const std::string& dir) { return json::parse(slurp(dir + "/summary.json"))["training"]; }

// Sixteen uniform layers and a 256-entry vocabulary: the embedding and LM head are a
// fraction of a percent of a stage, so every stage costs the same, as the closed forms assume.
std::string tiny_model(const std::string& d) {
  return write(d, "tiny.yaml",
               "name: tiny\narchitectures: [LlamaForCausalLM]\nhidden_act: silu\nnum_hidden_layers: 16\n"
               "hidden_size: 2048\nnum_attention_heads: 16\nnum_key_value_heads: 16\nintermediate_size: 8192\n"
               "vocab_size: 256\nmax_position_embeddings: 4096\ntie_word_embeddings: false\n");
}

// H100s on a switch whose links are so fast that communication is free (the papers'
// bubble formulas count compute only).
std::string fast_topology(const std::string& d, int n) {
  return write(d, "fast.yaml",
               "name: fast\ndevice: nvidia-h100-sxm\ncount: " + std::to_string(n) +
                   "\nfabrics:\n  - name: nv\n    type: nvlink\n    shape: switch\n"
                   "    link: {bandwidth: 1000 TB/s, latency: 1 ns}\n");
}

std::string workload(const std::string& model, const std::string& par, long long global_batch,
                     const std::string& extra = "") {
  return "kind: training\nmodel: " + model + "\nseq_len: 2048\nglobal_batch: " + std::to_string(global_batch) +
         "\nmicro_batch: 1\nparallelism: {" + par + "}\n" + extra;
}

double bubble_of(const std::string& d, const std::string& par, long long gb, const std::string& tag) {
  TmpDir out;
  std::string msg;
  const std::string wl = write(d, tag + ".yaml", workload(tiny_model(d), par, gb));
  REQUIRE(run(fast_topology(d, 4), wl, out.path, &msg) == 0);
  INFO(msg);
  return training(out.path)["pipeline_bubble_fraction"].get<double>();
}

}  // namespace

TEST_CASE("with free communication 1F1B and GPipe idle (p-1)/(m+p-1) of the pipeline", "[training]") {
  TmpDir tmp;
  const double p = 4, m = 8;
  const double expected = (p - 1) / (m + p - 1);  // Narayanan et al. SC'21 §2.2
  CHECK(bubble_of(tmp.path, "tp: 1, pp: 4, schedule: 1f1b", 8, "a") == Approx(expected).epsilon(0.02));
  CHECK(bubble_of(tmp.path, "tp: 1, pp: 4, schedule: gpipe", 8, "b") == Approx(expected).epsilon(0.02));
}

TEST_CASE("interleaving v model chunks divides the bubble time by v", "[training]") {
  TmpDir tmp;
  const double p = 4, m = 8, v = 2;
  // Bubble time (p-1)/v passes against m passes of work (Narayanan et al. SC'21 §2.2.2).
  const double expected = (p - 1) / v / (m + (p - 1) / v);
  CHECK(bubble_of(tmp.path, "tp: 1, pp: 4, schedule: interleaved-1f1b, virtual_stages: 2", 8, "c") ==
        Approx(expected).epsilon(0.05));
}

TEST_CASE("training reports MFU in (0, 1) and never more TFLOPS than the dense peak", "[training]") {
  TmpDir tmp;
  TmpDir out;
  std::string msg;
  const std::string topo = "topologies/dgx-h100.yaml";
  const std::string wl = write(tmp.path, "w.yaml", workload("llama-3.1-8b", "tp: 8", 4, "steps: 2\n"));
  REQUIRE(run(std::string(LLMSIM_SOURCE_DIR) + "/" + topo, wl, out.path, &msg) == 0);
  INFO(msg);
  json t = training(out.path);
  CHECK(t["steps"] == 2);
  CHECK(t["mfu"].get<double>() > 0);
  CHECK(t["mfu"].get<double>() < 1);
  CHECK(t["hfu"].get<double>() >= t["mfu"].get<double>());
  CHECK(t["tflops_per_device"].get<double>() <= 989.4);  // H100 SXM dense bf16 (NVIDIA datasheet)
  CHECK(t["step_times_s"]["min"].get<double>() <= t["step_time_s"].get<double>());
  CHECK(t["step_times_s"]["max"].get<double>() >= t["step_time_s"].get<double>());
  double sum = 0;
  for (const auto& kv : t["time"].items()) sum += kv.value().get<double>();
  CHECK(sum == Approx(1).epsilon(0.01));
}

TEST_CASE("training passes charge their memory traffic to HBM, within what HBM can carry", "[training]") {
  TmpDir tmp;
  TmpDir out;
  std::string msg;
  const std::string wl = write(tmp.path, "w.yaml", workload("llama-3.1-8b", "tp: 8", 4, "steps: 2\n"));
  REQUIRE(run(std::string(LLMSIM_SOURCE_DIR) + "/topologies/dgx-h100.yaml", wl, out.path, &msg) == 0);
  INFO(msg);
  const json s = json::parse(slurp(out.path + "/summary.json"));
  const json& dev = s.at("power").at("devices").at(0);
  const double hbm = dev.at("components_j").at("hbm").get<double>();
  // H100 HBM energy per byte, from the catalog: 31.2 pJ the HBM3 device + 64 pJ the on-chip
  // path (topologies/devices/nvidia-h100-sxm.yaml).
  const double pj = 31.2 + 64;
  // At least: per micro-batch the forward reads the rank's bf16 weights, the backward
  // reads them again (input gradients) and writes their gradients (Llama 3.1 8B:
  // 8,030,261,248 parameters, Meta's model card; / TP 8), 4 micro-batches x 2 steps; and
  // each step's Adam reads and writes the fp32 master weight and two moments (12 B each
  // way per parameter). Before passes put their bytes on the tier only Adam's ~half of
  // this was there: the passes' memory energy counted as compute.
  const double params = 8030261248.0 / 8;
  CHECK(hbm >= (params * 2 * 3 * 4 * 2 + params * 24 * 2) * pj * 1e-12);
  // At most: HBM at its 3.35 TB/s peak (NVIDIA datasheet) for the whole run.
  CHECK(hbm <= s.at("sim_time_s").get<double>() * 3.35e12 * pj * 1e-12);
}

TEST_CASE("folding data-parallel replicas gives the step time and energy of simulating them all", "[training]") {
  TmpDir tmp;
  const std::string& d = tmp.path;
  // 2 pipelines of 4 stages on the NVLink switch of one DGX H100: the DP all-reduces share
  // the links with the other replica's pipeline sends when unfolded.
  const std::string base = workload(tiny_model(d), "tp: 1, pp: 4, dp: 2", 16);
  json s[2];
  for (int fold = 0; fold < 2; ++fold) {
    TmpDir out;
    std::string msg;
    const std::string wl = write(d, "f" + std::to_string(fold) + ".yaml",
                                 base + "fold_data_parallel: " + (fold ? "true" : "false") + "\n");
    REQUIRE(run(std::string(LLMSIM_SOURCE_DIR) + "/topologies/dgx-h100.yaml", wl, out.path, &msg) == 0);
    INFO(msg);
    s[fold] = json::parse(slurp(out.path + "/summary.json"));
  }
  const json &unfolded = s[0], &folded = s[1];
  CHECK(folded.at("training").at("step_time_s").get<double>() ==
        Approx(unfolded.at("training").at("step_time_s").get<double>()).epsilon(0.01));
  // The unfolded run simulates every device's kernels; folded, replica 1's devices (ranks
  // 1, 3, 5, 7: rank = replica + 2 x stage) run none, yet must be charged as much energy:
  // before the fix they drew idle power only and J per token was ~1/dp of the real one.
  for (const char* key : {"energy_j", "avg_power_w"})
    CHECK(folded.at(key).get<double>() == Approx(unfolded.at(key).get<double>()).epsilon(0.01));
  CHECK(folded.at("training").at("j_per_token").get<double>() ==
        Approx(unfolded.at("training").at("j_per_token").get<double>()).epsilon(0.01));
  CHECK(folded.at("power").at("devices_peak_power_w").get<double>() ==
        Approx(unfolded.at("power").at("devices_peak_power_w").get<double>()).epsilon(0.01));
  const json &fd = folded.at("power").at("devices").at(3), &ud = unfolded.at("power").at("devices").at(3);
  CHECK(fd.at("energy_j").get<double>() == Approx(ud.at("energy_j").get<double>()).epsilon(0.01));
  CHECK(fd.at("components_j").at("compute").get<double>() > 0);
  CHECK(fd.at("mirrors") == folded.at("power").at("devices").at(2).at("device"));
  CHECK_FALSE(ud.contains("mirrors"));
}

TEST_CASE("a shared power budget unfolds the data-parallel replicas", "[training]") {
  TmpDir tmp;
  const std::string& d = tmp.path;
  // Four H100s under one 1,600 W total: folded, replicas 1-3 would draw idle power only and
  // the budget would never bind on replica 0's devices.
  const std::string topo = write(d, "capped.yaml",
                                 "name: capped\ndevice: nvidia-h100-sxm\ncount: 4\npower_cap: {total: 1600 W}\n"
                                 "fabrics:\n  - {name: nv, type: nvlink, shape: switch, "
                                 "link: {bandwidth: 450 GB/s, latency: 1 us}}\n");
  const std::string base = workload(tiny_model(d), "tp: 1, pp: 1, dp: 4", 8);
  json s[2];
  const char* fold[2] = {"", "fold_data_parallel: false\n"};  // default, explicit
  for (int k = 0; k < 2; ++k) {
    TmpDir out;
    std::string msg;
    REQUIRE(run(topo, write(d, "w" + std::to_string(k) + ".yaml", base + fold[k]), out.path, &msg) == 0);
    INFO(msg);
    s[k] = json::parse(slurp(out.path + "/summary.json"));
    CHECK(slurp(out.path + "/config.resolved.yaml").find("fold_data_parallel: false") != std::string::npos);
  }
  // The default run is the unfolded one, and every device drew work under the budget.
  CHECK(s[0].at("training").at("step_time_s") == s[1].at("training").at("step_time_s"));
  CHECK(s[0].at("energy_j") == s[1].at("energy_j"));
  for (const auto& dev : s[0].at("power").at("devices")) CHECK(dev.at("components_j").at("compute").get<double>() > 0);
  // Asking for folding under a total is refused, in one line, with no output.
  TmpDir out;
  std::string msg;
  CHECK(run(topo, write(d, "w2.yaml", base + "fold_data_parallel: true\n"), out.path, &msg) == 2);
  CHECK(msg.find("fold_data_parallel") != std::string::npos);
  CHECK(msg.find('\n') == msg.size() - 1);
  CHECK_FALSE(std::ifstream(out.path + "/summary.json").good());
}

TEST_CASE("doubling dp at fixed micro-batches per replica costs at most the gradient all-reduce", "[training]") {
  TmpDir tmp;
  const std::string& d = tmp.path;
  const std::string model = tiny_model(d);
  double step[2], per_device[2];
  for (int k = 0; k < 2; ++k) {
    const int dp = 1 << k;
    TmpDir out;
    std::string msg;
    const std::string wl = write(d, "dp" + std::to_string(dp) + ".yaml",
                                 workload(model, "tp: 1, pp: 4, dp: " + std::to_string(dp), 8LL * dp));
    const std::string topo = write(d, "sw" + std::to_string(dp) + ".yaml",
                                   "name: sw\ndevice: nvidia-h100-sxm\ncount: " + std::to_string(4 * dp) +
                                       "\nfabrics:\n  - name: nv\n    type: nvlink\n    shape: switch\n"
                                       "    link: {bandwidth: 450 GB/s, latency: 1 us}\n");
    REQUIRE(run(topo, wl, out.path, &msg) == 0);
    INFO(msg);
    json t = training(out.path);
    step[k] = t["step_time_s"].get<double>();
    per_device[k] = t["tokens_per_s"].get<double>() / (4.0 * dp);
  }
  // The cost of that all-reduce measured on its own (a microbench through the same
  // network model): the gradients of the largest stage (4 layers, the 256 x h embedding
  // or LM head, norms; bf16) over 2 devices of the same switch.
  const double h = 2048, f = 8192, layer = 4 * h * h + 3 * h * f + 2 * h;
  const double bytes = (4 * layer + 256 * h + h) * 2;
  double allreduce = 0;
  {
    TmpDir out;
    std::string msg;
    char mb[160];
    std::snprintf(mb, sizeof mb, "kind: microbench\nops:\n  - {op: allreduce, bytes: %.0f B, group: all}\n", bytes);
    const std::string topo = write(d, "sw-ar.yaml",
                                   "name: sw\ndevice: nvidia-h100-sxm\ncount: 2\nfabrics:\n  - name: nv\n    type: nvlink\n"
                                   "    shape: switch\n    link: {bandwidth: 450 GB/s, latency: 1 us}\n");
    REQUIRE(run(topo, write(d, "ar.yaml", mb), out.path, &msg) == 0);
    INFO(msg);
    allreduce = json::parse(slurp(out.path + "/summary.json"))["microbench"][0]["time_s"].get<double>();
  }
  REQUIRE(allreduce > 0);
  CHECK(per_device[1] <= per_device[0] * 1.001);
  // Stage 0 finishes the pipeline, so its reduction is exposed whole; the other stages'
  // reductions overlap it but share their switch ports with the gradient sends still
  // heading to stage 0, which may delay it a little more: 10 % allowed for that contention.
  const double cost = allreduce * 1.10;
  INFO("step dp1 " << step[0] << " s, dp2 " << step[1] << " s, all-reduce alone " << allreduce << " s");
  CHECK(step[1] >= step[0]);
  CHECK(step[1] <= step[0] + cost);
  CHECK(per_device[1] >= per_device[0] * step[0] / (step[0] + cost));
}

// [slow]: 7 s in Release, ~32 s under ASan (16,384 devices, 2.6 M events); the sanitizer
// suite runs the same training engine on the one-node and 64-GPU workloads.
TEST_CASE("C4: Llama 3.1 405B on 16,384 H100 with Llama 3's interleaved schedule", "[training][slow]") {
  // CALIBRATION C4 (Llama 3 paper, Table 4): 400 TFLOPS per GPU, 38-43 % MFU, under its
  // interleaved schedule (V = 8 inferred, first and last stages one layer short). The band
  // 30-60 % is wider than the paper's: the passes run at the GEMM model's efficiency with
  // no framework gaps (docs/training.md "Known optimism"; C18 / C19 read +35-38 % the same
  // way), so this checks the schedule's effect, not the calibration (docs/validation.md).
  TmpDir out;
  std::string msg;
  REQUIRE(run(std::string(LLMSIM_SOURCE_DIR) + "/topologies/h100-16k.yaml",
              std::string(LLMSIM_SOURCE_DIR) + "/workloads/train-llama3-405b-h100-16k.yaml", out.path, &msg) == 0);
  INFO(msg);
  json t = training(out.path);
  CHECK(t["mfu"].get<double>() > 0.30);
  CHECK(t["mfu"].get<double>() < 0.60);
  // Interleaved with v = 8 chunks and 16 micro-batches over 16 stages idles at least
  // (p-1)/(v m + p-1) = 15/143 of the pipeline span; communication on the critical path
  // can only add to it. Plain 1F1B's 15/31 would be far above.
  CHECK(t["pipeline_bubble_fraction"].get<double>() >= 15.0 / 143 * 0.98);
  CHECK(t["pipeline_bubble_fraction"].get<double>() < 15.0 / 31);
}

TEST_CASE("the timeline shows every forward and backward pass by micro-batch", "[training]") {
  TmpDir tmp;
  TmpDir out;
  std::string msg;
  const std::string wl = write(tmp.path, "t.yaml", workload(tiny_model(tmp.path), "tp: 1, pp: 4, schedule: 1f1b", 4));
  std::string cmd = std::string(LLMSIM_BINARY) + " run --quiet --timeline -t " + fast_topology(tmp.path, 4) + " -w " +
                    wl + " -o " + out.path + " 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  json tl = json::parse(slurp(out.path + "/timeline.json"));
  const json& events = tl.is_array() ? tl : tl["traceEvents"];
  int f = 0, b = 0;
  for (const auto& e : events) {
    if (!e.contains("name") || !e["name"].is_string()) continue;
    const std::string n = e["name"];
    f += n == "F3";
    b += n == "B3";
  }
  // Micro-batch 3 passes through each of the 4 stages once forward and once backward.
  CHECK(f == 4);
  CHECK(b == 4);
}

TEST_CASE("Llama 3.1 70B with ZeRO-3 over 64 H100 fits and runs its parameter gathers", "[training]") {
  TmpDir tmp;
  const std::string& d = tmp.path;
  const std::string topo = write(d, "h100-64.yaml",
                                 "name: h100-64\nnodes: {topology: " + std::string(LLMSIM_SOURCE_DIR) +
                                     "/topologies/dgx-h100.yaml, count: 8}\nfabrics:\n  - name: ib\n"
                                     "    type: infiniband\n    shape: fat-tree\n    rails: 8\n    radix: 64\n"
                                     "    link: {bandwidth: 400 Gb/s, latency: 1 us}\n");
  double step[2];
  for (int z = 0; z < 2; ++z) {
    TmpDir out;
    std::string msg;
    // ZeRO-1 does not fit (weights and gradients whole: 70.6e9 x 4 bytes); ZeRO-3 does.
    const std::string wl = write(d, "z" + std::to_string(z) + ".yaml",
                                 workload("llama-3.1-70b", std::string("tp: 1, pp: 1, dp: 64, recompute: full, zero: ") +
                                                               (z ? "3" : "1"), 64));
    const int rc = run(topo, wl, out.path, &msg);
    INFO(msg);
    if (z == 0) {
      CHECK(rc == 3);
      CHECK(msg.find("does not fit") != std::string::npos);
      continue;
    }
    REQUIRE(rc == 0);
    json t = training(out.path);
    step[z] = t["step_time_s"].get<double>();
    CHECK(t["memory"]["weights"].get<double>() < 70.6e9 * 2 / 64 * 1.05);
    // Every pass waits for its gathered parameters: communication shows in the step.
    CHECK(t["exposed_comm_fraction"].get<double>() > 0);
    CHECK(t["mfu"].get<double>() > 0);
    CHECK(t["mfu"].get<double>() < 1);
  }
  (void)step;
}

}  // namespace test_training_run
