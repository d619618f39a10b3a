// Ops in parallel through the binary (microbench `after:` / `stream:`): a GEMM and an HBM
// copy beside it share HBM; the copy alone afterwards runs at its standalone time. Bad
// `after` / `stream` values fail with exit 2 at their position.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_support.h"

namespace test_contention_cli {

using llmsim_test::kRoot;
using llmsim_test::make_tmpdir;
using llmsim_test::run_llmsim;
using llmsim_test::slurp;

TEST_CASE("microbench after/stream: a copy beside a GEMM is slowed, alone it is not", "[contention][cli]") {
  std::string out = make_tmpdir("contention");
  REQUIRE(run_llmsim("run -t topologies/dgx-h100.yaml -w test/data/contention/gemm-copy.yaml -o " + out,
                     out + "/log") == 0);
  auto j = nlohmann::json::parse(slurp(out + "/summary.json"));
  auto rows = j.at("microbench");
  REQUIRE(rows.size() == 3);
  double gemm = rows[0].at("time_s"), beside = rows[1].at("time_s"), alone = rows[2].at("time_s");
  // The copy alone moves 2 x 4 GiB at the sustained HBM rate (C2 counts read + write).
  const double B = 3.35e12 * 0.90;
  CHECK(alone == Approx(2 * 4 * 1073741824.0 / B).epsilon(0.01));
  CHECK(beside > alone);  // the GEMM's operand streaming took part of HBM
  CHECK(gemm < beside);   // it ended first: the third op waited for both
  // The whole run: the GEMM and the slowed copy overlap, then the copy alone.
  double end = j.at("sim_time_s");
  CHECK(end == Approx(beside + alone).epsilon(1e-6));
  std::system(("rm -rf '" + out + "'").c_str());
}

TEST_CASE("microbench after/stream: bad references fail with the position", "[contention][cli]") {
  std::string out = make_tmpdir("contention-bad");
  CHECK(run_llmsim("run -t topologies/dgx-h100.yaml -w test/data/contention/bad-after.yaml -o " + out + "/o",
                   out + "/log") == 2);
  std::string log = slurp(out + "/log");
  CHECK(log.find("bad-after.yaml:4:") != std::string::npos);
  CHECK(log.find("'later' is not the label or position of an earlier op") != std::string::npos);
  CHECK(run_llmsim("run -t topologies/dgx-h100.yaml -w test/data/contention/bad-stream.yaml -o " + out + "/o",
                   out + "/log") == 2);
  log = slurp(out + "/log");
  CHECK(log.find("bad-stream.yaml:3:") != std::string::npos);
  CHECK(log.find("copy engine") != std::string::npos);
  std::system(("rm -rf '" + out + "'").c_str());
}

TEST_CASE("microbench events: halving a device clock mid-GEMM retimes the remaining work", "[contention][cli]") {
  std::string out = make_tmpdir("clock");
  REQUIRE(run_llmsim("run -t topologies/dgx-h100.yaml -w test/data/contention/gemm-alone.yaml -o " + out + "/a",
                     out + "/log") == 0);
  REQUIRE(run_llmsim("run -t topologies/dgx-h100.yaml -w test/data/contention/gemm-clock.yaml -o " + out + "/c",
                     out + "/log") == 0);
  auto alone = nlohmann::json::parse(slurp(out + "/a/summary.json")).at("microbench");
  auto clock = nlohmann::json::parse(slurp(out + "/c/summary.json")).at("microbench");
  const double T = alone[0].at("time_s");  // compute bound: its body scales with 1/clock
  const double launch = 4e-6;              // H100 launch_overhead (not clocked); latency ~0
  const double t_e = 0.5e-3;
  REQUIRE(T > t_e);
  // Up to t_e at full clock; the remaining T - t_e of work takes twice as long.
  CHECK(double(clock[0].at("time_s")) == Approx(t_e + 2 * (T - t_e)).epsilon(1e-6));
  // The second GEMM runs wholly at half clock: launch + 2 x body.
  CHECK(double(clock[1].at("time_s")) == Approx(launch + 2 * (double(alone[1].at("time_s")) - launch)).epsilon(0.002));
  std::system(("rm -rf '" + out + "'").c_str());
}

namespace {
// Every scope path of a VCD file ("SystemC.gpu0.hbm"), from its $scope / $upscope nesting.
std::set<std::string> vcd_scopes(const std::string& text) {
  std::set<std::string> out;
  std::vector<std::string> stack;
  std::istringstream in(text);
  std::string tok;
  while (in >> tok) {
    if (tok == "$scope") {
      std::string kind, name;
      in >> kind >> name;
      stack.push_back(name);
      std::string path;
      for (const auto& s : stack) path += (path.empty() ? "" : ".") + s;
      out.insert(path);
    } else if (tok == "$upscope") {
      if (!stack.empty()) stack.pop_back();
    } else if (tok == "$enddefinitions") {
      break;
    }
  }
  return out;
}
}  // namespace

TEST_CASE("VCD scopes are the module names: devices, streams, tiers, fabrics, links", "[contention][cli][vcd]") {
  std::string out = make_tmpdir("scopes");
  REQUIRE(run_llmsim("run -t topologies/superpod-h100-32node.yaml -w workloads/microbench-allreduce-hierarchical.yaml"
                     " --vcd -o " + out + "/o", out + "/log") == 0);
  const std::string log = slurp(out + "/log");
  CHECK(log.find("not traced") == std::string::npos);  // every counter existed at sc_start
  auto scopes = vcd_scopes(slurp(out + "/o/signals.vcd"));
  // Module paths as docs/architecture.md names them: device node1.gpu3 is module gpu3 in
  // group node1, with its streams and tiers; links are modules of their fabric.
  for (const char* m : {"node1.gpu3", "node1.gpu3.compute", "node1.gpu3.copy", "node1.gpu3.hbm", "nvlink", "ib"}) {
    INFO(m);
    CHECK(scopes.count(std::string("SystemC.") + m) == 1);
  }
  bool ib_link = false;
  for (const auto& s : scopes) ib_link = ib_link || s.rfind("SystemC.ib.node0_gpu0-", 0) == 0;
  CHECK(ib_link);
  std::system(("rm -rf '" + out + "'").c_str());
}

TEST_CASE("stats: the registry's per-component figures add up to what the ops moved", "[contention][cli][stats]") {
  std::string out = make_tmpdir("stats");
  REQUIRE(run_llmsim("run -t topologies/dgx-h100.yaml -w test/data/contention/gemm-copy.yaml --stats full -o " + out +
                         "/o",
                     out + "/log") == 0);
  auto j = nlohmann::json::parse(slurp(out + "/o/summary.json"));
  auto rows = j.at("microbench");
  auto gpu0 = j.at("stats").at("components");
  // Bytes the ops streamed through gpu0's HBM (rows report per-op stream bytes, read + write).
  double bytes = 0;
  for (const auto& r : rows) bytes += double(r.at("bytes"));
  CHECK(double(gpu0.at("gpu0.hbm").at("bytes")) == Approx(bytes).epsilon(1e-6));
  // The GEMM ran alone on the compute stream; the two copies on the copy engine.
  CHECK(double(gpu0.at("gpu0.compute").at("busy_s")) == Approx(double(rows[0].at("time_s"))).epsilon(1e-9));
  CHECK(double(gpu0.at("gpu0.copy").at("ops")) == 2);
  CHECK(double(gpu0.at("gpu0.compute").at("flops")) == Approx(double(rows[0].at("flops"))));
  // The units were busy for the GEMM's body: its time less the launch prologue.
  CHECK(double(gpu0.at("gpu0.compute_units").at("busy_s")) < double(rows[0].at("time_s")));
  const double u = gpu0.at("gpu0.compute_units").at("utilization");
  CHECK(u > 0);
  CHECK(u <= 1);
  // Aggregates: the idle GPUs count in the mean, not in the max.
  auto hbm = j.at("stats").at("tier.hbm").at("bytes");
  CHECK(double(hbm.at("sum")) == Approx(bytes).epsilon(1e-6));
  CHECK(double(hbm.at("max")) == Approx(bytes).epsilon(1e-6));
  CHECK(int(hbm.at("count")) == 8);
  std::system(("rm -rf '" + out + "'").c_str());
}

}  // namespace test_contention_cli
