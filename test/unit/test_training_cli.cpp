// [training] What the binary says about training documents it cannot run: bad input
// (exit 2, one positioned line), configurations that do not fit (exit 3 with the
// arithmetic), `llmsim fit --training` and the rank map `llmsim check` prints.
#include <catch2/catch.hpp>

#include <fstream>
#include <unistd.h>

#include "cli_support.h"

namespace test_training_cli {

using namespace llmsim_test;

namespace {

std::string wl(const std::string& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir + "/" + name) << text;
  return dir + "/" + name;
}

std::pair<int, std::string> llmsim(const std::string& args) {
  return run_command("cd '" + kRoot + "' && '" + std::string(LLMSIM_BINARY) + "' " + args);
}

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

const char* kHead = "kind: training\nmodel: llama-3.1-8b\nseq_len: 2048\nmicro_batch: 1\n";

}  // namespace

TEST_CASE("training bad input exits 2 with one positioned line", "[training]") {
  const std::string d = make_tmpdir("train-bad");
  struct Case {
    const char* name;
    std::string body;
    const char* says;
  };
  const Case cases[] = {
      {"devices", "global_batch: 8\nparallelism: {tp: 2, pp: 2, dp: 3}\n", "tp x pp x dp = 4 x 3 = 12"},
      {"batch", "global_batch: 9\nparallelism: {tp: 2, pp: 1, dp: 4}\n", "not a multiple of micro_batch x dp"},
      {"schedule", "global_batch: 8\nparallelism: {tp: 8, schedule: zigzag}\n", "zigzag"},
      {"algorithm", "global_batch: 8\nparallelism: {tp: 8, algorithm: torus}\n", "torus cannot run"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const std::string out = d + "/out-" + c.name;
    auto [rc, text] = llmsim("run --quiet -t topologies/dgx-h100.yaml -w " + wl(d, std::string(c.name) + ".yaml", kHead + c.body) +
                             " -o " + out);
    INFO(text);
    CHECK(rc == 2);
    CHECK(lines(text) == 1);
    CHECK(text.rfind("llmsim: error: " + d + "/" + c.name + ".yaml:", 0) == 0);
    CHECK(text.find(c.says) != std::string::npos);
    CHECK_FALSE(exists(out + "/summary.json"));
  }
  std::system(("rm -rf " + d).c_str());
}

TEST_CASE("Llama 3.1 70B with Adam on one DGX H100 without ZeRO exits 3 with the breakdown", "[training]") {
  const std::string d = make_tmpdir("train-oom");
  const std::string w = wl(d, "w.yaml",
                           "kind: training\nmodel: llama-3.1-70b\nseq_len: 4096\nglobal_batch: 8\n"
                           "parallelism: {tp: 8, pp: 1, dp: 1}\n");
  auto [rc, text] = llmsim("run --quiet -t topologies/dgx-h100.yaml -w " + w + " -o " + d + "/out");
  INFO(text);
  CHECK(rc == 3);
  // 70.6e9 parameters / 8 x 16 bytes = 141 GB per GPU before activations: far over 80 GB.
  for (const char* part : {"weights", "gradients", "optimizer", "activations", "GiB"}) {
    CHECK(text.find(part) != std::string::npos);
  }
  auto [frc, fit] = llmsim("fit --training " + w + " --device nvidia-h100-sxm");
  INFO(fit);
  CHECK(frc == 0);
  CHECK(fit.find("does not fit") != std::string::npos);
  CHECK(fit.find("stage 0") != std::string::npos);
  std::system(("rm -rf " + d).c_str());
}

TEST_CASE("llmsim check prints the training rank map and the fabrics its groups cross", "[training]") {
  auto [rc, text] = llmsim("check topologies/h100-16k.yaml workloads/train-llama3-405b-h100-16k.yaml");
  INFO(text);
  REQUIRE(rc == 0);
  CHECK(text.find("TP groups: 2048 of 8 crossing nvlink") != std::string::npos);
  CHECK(text.find("DP groups: 128 of 128 crossing ib") != std::string::npos);
  CHECK(text.find("PP groups: 1024 of 16 crossing ib") != std::string::npos);
}

}  // namespace test_training_cli
