// Collective microbench ops through the real binary: positioned errors (exit 2), the
// nccl-tests-shaped summary rows, per-dimension busbw on a torus.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "sim/net/collective_library.h"

namespace test_collective_cli {

namespace {

const std::string kRoot = LLMSIM_SOURCE_DIR;

struct Tmp {
  std::string dir;
  Tmp() {
    char buf[] = "/tmp/llmsim-coll-XXXXXX";
    REQUIRE(::mkdtemp(buf) != nullptr);
    dir = buf;
  }
  ~Tmp() { std::system(("rm -rf '" + dir + "'").c_str()); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  }
};

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `llmsim run -t TOPO -w WL -o DIR/out`; returns the exit status, stderr in `err`.
int run(const Tmp& t, const std::string& topo, const std::string& wl, std::string& err) {
  std::string cmd = "cd '" + kRoot + "' && '" + std::string(LLMSIM_BINARY) + "' run -t '" + topo + "' -w '" + wl +
                    "' -o '" + t.dir + "/out' --quiet 2>'" + t.dir + "/err'";
  int rc = std::system(cmd.c_str());
  err = slurp(t.dir + "/err");
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

TEST_CASE("collective microbench: bad ops are positioned input errors", "[network]") {
  Tmp t;
  std::string err;
  std::string dgx = kRoot + "/topologies/dgx-h100.yaml";
  std::string torus = kRoot + "/topologies/tpu-v4-4x4x4.yaml";
  auto wl = t.write("unknown.yaml", "kind: microbench\nops:\n  - {op: allreduce, bytes: 1 GiB, group: [gpu0, gpu9]}\n");
  CHECK(run(t, dgx, wl, err) == 2);
  CHECK(err.find(wl + ":3:") != std::string::npos);
  CHECK(err.find("unknown device 'gpu9'") != std::string::npos);

  wl = t.write("nvls.yaml", "kind: microbench\nops:\n  - {op: allreduce, bytes: 1 GiB, algorithm: in-switch}\n");
  CHECK(run(t, torus, wl, err) == 2);
  CHECK(err.find(wl + ":3:") != std::string::npos);
  CHECK(err.find("no switch with in-network reduction") != std::string::npos);

  wl = t.write("zero.yaml", "kind: microbench\nops:\n  - {op: allgather, bytes: 0 B}\n");
  CHECK(run(t, dgx, wl, err) == 2);
  CHECK(err.find("must be a positive size") != std::string::npos);

  wl = t.write("both.yaml", "kind: microbench\nops:\n  - {op: allgather, bytes: 1 MiB, sizes: [1 MiB]}\n");
  CHECK(run(t, dgx, wl, err) == 2);
  CHECK(err.find("exactly one of") != std::string::npos);
}

TEST_CASE("collective microbench: summary rows carry algbw, busbw and torus dimensions", "[network]") {
  Tmp t;
  std::string err;
  auto wl = t.write("sweep.yaml",
                    "kind: microbench\nops:\n"
                    "  - {op: allreduce, sizes: [1 MiB, 1 GiB], group: all}\n"
                    "  - {op: sendrecv, bytes: 1 GiB, from: tpu0, to: tpu1}\n");
  REQUIRE(run(t, kRoot + "/topologies/tpu-v4-4x4x4.yaml", wl, err) == 0);
  auto j = nlohmann::json::parse(slurp(t.dir + "/out/summary.json"));
  const auto& rows = j.at("microbench");
  REQUIRE(rows.size() == 3);
  for (int i = 0; i < 2; ++i) {
    const auto& r = rows[static_cast<size_t>(i)];
    CHECK(r.at("op") == "allreduce");
    CHECK(r.at("algorithm") == "torus");
    double size = i == 0 ? 1048576.0 : 1073741824.0;
    CHECK(r.at("bytes").get<double>() == size);
    double algbw = size / r.at("time_s").get<double>();
    CHECK(r.at("algbw_bytes_per_s").get<double>() == Approx(algbw));
    CHECK(r.at("busbw_bytes_per_s").get<double>() == Approx(algbw * 2 * 63 / 64));
    for (const char* k : {"busbw_dim0_bytes_per_s", "busbw_dim1_bytes_per_s", "busbw_dim2_bytes_per_s"})
      CHECK(r.at(k).get<double>() > 0);
  }
  // Large messages: each dimension's bidirectional rings approach 2 x the link bandwidth.
  double link = 0;
  {
    std::ifstream in(kRoot + "/topologies/tpu-v4-4x4x4.yaml");
    std::string line;
    while (std::getline(in, line))
      if (line.find("bandwidth:") != std::string::npos && line.find("GB/s") != std::string::npos)
        link = std::atof(line.substr(line.find("bandwidth:") + 10).c_str()) * 1e9;
  }
  REQUIRE(link > 0);
  // ... at XLA's share of the ICI rate (the TPU's default stack jax-tpu runs XLA).
  const double share = llmsim::load_collective_library("xla")->efficiency_on("ici");
  CHECK(rows[1].at("busbw_dim0_bytes_per_s").get<double>() == Approx(2 * link * share).epsilon(0.05));
  CHECK(rows[2].at("op") == "sendrecv");
  CHECK(rows[2].at("algorithm") == "p2p");
}

// The workload's named stack brings its collective library (issue 12 item 4): the same
// 256 MiB ring all-reduce on an Ethernet ring under `software: vllm-cuda` (nccl) and
// `software: tt-metal` (ttnn-ccl) runs each library's bulk protocol, so the two times
// differ by 14 steps' latency and the data term at the two files' Ethernet shares; the
// summary names the library and the figures it borrows (vllm-rocm -> rccl, NCCL's).
TEST_CASE("collective microbench: the workload's software stack picks the collective library", "[network]") {
  Tmp t;
  std::string err;
  auto topo = t.write("ring.yaml",
                      "name: eth-ring\ndevice: nvidia-h100-sxm\ncount: 8\nfabrics:\n"
                      "  - {name: e, type: ethernet, shape: ring, link: {bandwidth: 100 GB/s, latency: 1 us}}\n");
  auto summary_under = [&](const std::string& stack) {
    auto wl = t.write("wl-" + stack + ".yaml", "kind: microbench\nsoftware: " + stack +
                                                   "\nops:\n  - {op: allreduce, bytes: 256 MiB, algorithm: ring}\n");
    REQUIRE(run(t, topo, wl, err) == 0);
    return nlohmann::json::parse(slurp(t.dir + "/out/summary.json"));
  };
  auto cuda = summary_under("vllm-cuda"), tt = summary_under("tt-metal"), rocm = summary_under("vllm-rocm");
  CHECK(cuda.at("collective_library").at("name") == "nccl");
  CHECK(tt.at("collective_library").at("name") == "ttnn-ccl");
  CHECK(rocm.at("collective_library").at("name") == "rccl");
  CHECK(cuda.at("collective_library").at("inherited").empty());
  CHECK(rocm.at("collective_library").at("inherited").contains("protocols.simple"));
  // The serving stacks' own all-reduce kernel is listed with its limits; ttnn-ccl has none.
  CHECK(cuda.at("collective_library").at("custom_allreduce").at("max_bytes") == 8.0 * (1 << 20));
  CHECK(cuda.at("collective_library").at("custom_allreduce").at("max_ranks") == 8);
  CHECK(tt.at("collective_library").at("custom_allreduce").is_null());
  // Ring formula over each file's figures: base + 14 x (max(step, 1 us) + (S/8) / (B x share)).
  auto ring = [](const std::string& name) {
    auto lib = llmsim::load_collective_library(name);
    const auto& p = *lib->protocol("simple");
    const double S = 256.0 * (1 << 20), step = std::max(p.step_latency[2].value(), 1e-6);
    return p.base_latency + 14 * (step + (S / 8) / (100e9 * lib->efficiency_on("ethernet")));
  };
  const auto& rc = cuda.at("microbench")[0];
  const auto& rt = tt.at("microbench")[0];
  CHECK(rc.at("protocol") == "simple");
  CHECK(rt.at("protocol") == "simple");
  CHECK(rt.at("time_s").get<double>() - rc.at("time_s").get<double>() ==
        Approx(ring("ttnn-ccl") - ring("nccl")).epsilon(1e-3));
  // An unknown stack is a positioned input error.
  auto bad =
      t.write("bad.yaml", "kind: microbench\nsoftware: no-such-stack\nops:\n  - {op: allreduce, bytes: 1 MiB}\n");
  CHECK(run(t, topo, bad, err) == 2);
  CHECK(err.find(bad + ":2:") != std::string::npos);
}

}  // namespace test_collective_cli
