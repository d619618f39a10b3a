// [training] The replicated KV heads' gradient all-reduce, end to end: two models that differ
// only in their KV head count (1 vs 8) cost every rank the same at tp 8 (each rank holds one
// K/V head either way), so their step times differ by the all-reduce of one head's K/V
// gradients over the 8 replicas alone, which a microbench of that all-reduce on the same
// devices measures independently.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace test_training_kv_run {

using nlohmann::json;

namespace {

std::string write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

json run_summary(const std::string& topo, const std::string& wl, const std::string& out) {
  const std::string cmd =
      std::string(LLMSIM_BINARY) + " run --quiet -t " + topo + " -w " + wl + " -o " + out + " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream f(out + "/summary.json");
  std::stringstream s;
  s << f.rdbuf();
  return json::parse(s.str());
}

std::string model(const std::string& dir, int kv_heads) {
  return write(dir + "/kv" + std::to_string(kv_heads) + ".yaml",
               "architectures: [LlamaForCausalLM]\nhidden_act: silu\nnum_hidden_layers: 16\nhidden_size: 2048\n"
               "num_attention_heads: 16\nnum_key_value_heads: " +
                   std::to_string(kv_heads) +
                   "\nhead_dim: 128\nintermediate_size: 8192\nvocab_size: 256\nmax_position_embeddings: 2048\n");
}

}  // namespace

TEST_CASE("tp 8 over one KV head charges one all-reduce of its K/V gradients over the 8 replicas", "[training]") {
  const std::string dir = "/tmp/llmsim-kvrun-" + std::to_string(::getpid());
  REQUIRE(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()) == 0);
  const std::string topo = std::string(LLMSIM_SOURCE_DIR) + "/topologies/dgx-h100.yaml";
  auto step = [&](int kv) {
    const std::string wl =
        write(dir + "/w" + std::to_string(kv) + ".yaml",
              "kind: training\nmodel: " + model(dir, kv) + "\nseq_len: 2048\nglobal_batch: 1\nparallelism: {tp: 8}\n");
    return run_summary(topo, wl, dir + "/o" + std::to_string(kv))["training"]["step_time_s"].get<double>();
  };
  const double replicated = step(1), sharded = step(8);
  // One head's k_proj and v_proj ([128, 2048] each) in 16-bit gradients, 16 layers.
  const long long bytes = 2LL * 128 * 2048 * 2 * 16;
  const std::string mb = write(dir + "/mb.yaml", "kind: microbench\nops:\n  - {op: allreduce, sizes: [" +
                                                     std::to_string(bytes) + " B], group: all, algorithm: auto}\n");
  const json m = run_summary(topo, mb, dir + "/mb");
  const double allreduce = m["microbench"][0]["time_s"].get<double>();
  CHECK(replicated - sharded == Approx(allreduce).epsilon(0.02));
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace test_training_kv_run
