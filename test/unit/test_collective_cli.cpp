// Collective microbench ops through the real binary: positioned errors (exit 2), the
// nccl-tests-shaped summary rows, per-dimension busbw on a torus.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

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
  CHECK(rows[1].at("busbw_dim0_bytes_per_s").get<double>() == Approx(2 * link).epsilon(0.05));
  CHECK(rows[2].at("op") == "sendrecv");
  CHECK(rows[2].at("algorithm") == "p2p");
}
