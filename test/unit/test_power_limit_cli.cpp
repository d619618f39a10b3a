// Power-limited clocks through the binary (docs/models.md "Power"): the TDP acts as a cap
// by default, so an fp8 GEMM on H100 runs below the nominal clock at the clock the DVFS
// curve gives, a bf16 GEMM (under TDP) does not; the cap holds over each averaging window
// (checked on the timeline's power counter, not on the simulator's own window figure);
// another chip's curve (MI300X) under a 50 % cap; link and switch traffic energy.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "cli_support.h"

namespace test_power_limit_cli {

using llmsim_test::make_tmpdir;
using llmsim_test::run_llmsim;
using llmsim_test::slurp;
using nlohmann::json;

namespace {

json run_ok(const std::string& out, const std::string& topo, const std::string& wl, const std::string& extra = "") {
  std::string args = "run -t " + topo + " -w " + wl + " -o " + out + " " + extra;
  int rc = run_llmsim(args, out + ".log");
  INFO(slurp(out + ".log"));
  REQUIRE(rc == 0);
  return json::parse(slurp(out + "/summary.json"));
}

// The documented curve (docs/models.md "Power"): V linear in clock from (floor, vmin) to
// (1, 1) of nominal, flat below; compute power at clock s is P(1) s V(s)^2.
double voltage(double s, double floor, double vmin) {
  return s <= floor ? vmin : vmin + (1 - vmin) * (s - floor) / (1 - floor);
}

// The clock scale at which idle + pc s V(s)^2 + pm s = cap, from an unthrottled run's
// compute power pc and operand memory power pm (bisection on the monotone left side).
double curve_clock(double idle, double pc, double pm, double cap, double floor, double vmin) {
  double lo = floor, hi = 1;
  for (int i = 0; i < 60; ++i) {
    const double s = 0.5 * (lo + hi);
    const double v = voltage(s, floor, vmin);
    (idle + pc * s * v * v + pm * s <= cap ? lo : hi) = s;
  }
  return lo;
}

double memory_joules(const json& comp) {
  double j = 0;
  for (const auto& kv : comp.items())
    if (kv.key() != "compute" && kv.key() != "idle" && kv.value().is_number()) j += kv.value().get<double>();
  return j;
}

// Average power of every consecutive window of `w` seconds over [0, end), from one
// device's piecewise-constant power_w counter samples (timeline ts in microseconds).
std::vector<double> window_averages(const std::vector<std::pair<double, double>>& samples, double w, double end) {
  std::vector<double> avg;
  for (double t0 = 0; t0 + w <= end * (1 + 1e-12); t0 += w) {
    double e = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
      const double a = samples[i].first, b = i + 1 < samples.size() ? samples[i + 1].first : end;
      const double lo = std::max(a, t0), hi = std::min(b, t0 + w);
      if (hi > lo) e += samples[i].second * (hi - lo);
    }
    avg.push_back(e / w);
  }
  return avg;
}

}  // namespace

TEST_CASE("power limit: an fp8 GEMM runs below nominal clock at TDP, bf16 does not", "[power][cli]") {
  std::string dir = make_tmpdir("power-fp8");
  const std::string topo = "test/data/power/h100x2.yaml";
  json f = run_ok(dir + "/f", topo, "test/data/power/gemm-fp8.yaml");
  json fu = run_ok(dir + "/fu", topo, "test/data/power/gemm-fp8.yaml", "--set topology.power.tdp_limit=false");
  json b = run_ok(dir + "/b", topo, "test/data/power/gemm.yaml");
  json bu = run_ok(dir + "/bu", topo, "test/data/power/gemm.yaml", "--set topology.power.tdp_limit=false");
  const double launch = 4e-6, idle = 105, tdp = 700;  // H100 catalog
  const double Tf = f.at("microbench")[0].at("time_s"), Tfu = fu.at("microbench")[0].at("time_s");
  const double Tb = b.at("microbench")[0].at("time_s"), Tbu = bu.at("microbench")[0].at("time_s");
  // bf16 stays under TDP: the limit changes nothing.
  CHECK(Tb == Approx(Tbu).epsilon(1e-9));
  // fp8 without the limit would draw more than TDP: idle + its compute and operand power.
  const json& ud = fu.at("power").at("devices")[0];
  const double body = Tfu - launch;
  const double pc = double(ud.at("components_j").at("compute")) / body;
  const double pm = memory_joules(ud.at("components_j")) / body;
  REQUIRE(idle + pc + pm > tdp);
  CHECK(double(ud.at("peak_power_w")) > tdp);
  // With it, the clock the curve gives under 700 W (H100: floor 0.4, 0.7 V).
  const double s = curve_clock(idle, pc, pm, tdp, 0.4, 0.7);
  INFO("expected fp8 clock scale " << s);
  CHECK(s < 0.99);
  CHECK(Tf == Approx(launch + body / s).epsilon(0.01));
  const json& fd = f.at("power").at("devices")[0];
  CHECK(double(fd.at("peak_power_w")) <= tdp * (1 + 1e-6));
  CHECK(double(fd.at("throttled_s")) > 0);
  CHECK(double(fd.at("avg_clock_hz")) < 1.83e9);
  // Hence an fp8 GEMM does not reach twice the bf16 throughput (its peak ratio) on H100.
  CHECK(Tb / Tf < 2.0);
  CHECK(Tb / Tf == Approx(Tb / Tfu * (Tfu / Tf)).epsilon(1e-9));
  CHECK(Tb / Tfu > Tb / Tf);
  std::system(("rm -rf '" + dir + "'").c_str());
}

// Issue 12's check, on the chip whose bf16 energy comes from C1 (docs/models.md "Power"):
// the C1 GEMM (random data) is power-bound at TDP on a real H100 [HE-PREDICTABLE], so the
// model's bf16 GEMM draws TDP to within a few percent at nominal clock; an fp8 GEMM, twice
// the MACs per clock at 0.7x the energy each, must then run well below 2x the bf16
// throughput: at the clock the curve gives from its unthrottled energies, 2 x s (s ~0.86).
TEST_CASE("power limit: the C1 bf16 GEMM sits at H100's TDP, so fp8 gains well under 2x", "[power][cli]") {
  std::string dir = make_tmpdir("power-c1-tdp");
  const std::string topo = "test/data/power/h100x2.yaml";
  json b = run_ok(dir + "/b", topo, "test/data/power/gemm.yaml");
  json f = run_ok(dir + "/f", topo, "test/data/power/gemm-fp8.yaml");
  json fu = run_ok(dir + "/fu", topo, "test/data/power/gemm-fp8.yaml", "--set topology.power.tdp_limit=false");
  const double launch = 4e-6, idle = 105, tdp = 700;  // H100 catalog
  const json& bd = b.at("power").at("devices")[0];
  const double Tb = b.at("microbench")[0].at("time_s"), Tf = f.at("microbench")[0].at("time_s");
  const double bf16_power =
      idle + (double(bd.at("components_j").at("compute")) + memory_joules(bd.at("components_j"))) / (Tb - launch);
  CHECK(bf16_power <= tdp);
  CHECK(bf16_power > 0.97 * tdp);
  CHECK(double(bd.at("avg_clock_hz")) == Approx(1.83e9).epsilon(1e-6));
  const json& ud = fu.at("power").at("devices")[0];
  const double body = double(fu.at("microbench")[0].at("time_s")) - launch;
  const double s = curve_clock(idle, double(ud.at("components_j").at("compute")) / body,
                               memory_joules(ud.at("components_j")) / body, tdp, 0.4, 0.7);
  INFO("fp8 clock scale " << s << ", fp8 / bf16 throughput " << (Tb - launch) / (Tf - launch));
  CHECK(s < 0.9);
  CHECK((Tb - launch) / (Tf - launch) < 1.8);
  CHECK((Tb - launch) / (Tf - launch) == Approx(2 * s).epsilon(0.02));
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("power limit: a 350 W cap holds over each averaging window of the timeline", "[power][cli]") {
  std::string dir = make_tmpdir("power-window");
  const double cap = 350, w = 100e-6;
  json j = run_ok(dir + "/c", "test/data/power/h100x2.yaml", "test/data/power/gemm.yaml",
                  "--timeline --set topology.power_cap.per_device=350W --set topology.power_cap.window=100us");
  const double end = j.at("sim_time_s");
  json tl = json::parse(slurp(dir + "/c/timeline.json"));
  const json& events = tl.is_array() ? tl : tl.at("traceEvents");
  std::map<int, std::vector<std::pair<double, double>>> by_pid;  // device track -> (t, W)
  for (const auto& e : events)
    if (e.value("ph", "") == "C" && e.value("name", "") == "power.power_w")
      by_pid[e.at("pid").get<int>()].emplace_back(e.at("ts").get<double>() * 1e-6, e.at("args").at("value").get<double>());
  REQUIRE(by_pid.size() == 2);
  for (auto& kv : by_pid) {
    std::vector<double> avg = window_averages(kv.second, w, end);
    REQUIRE(avg.size() >= 10);  // the capped GEMM lasts ~20 windows
    for (size_t i = 0; i < avg.size(); ++i) {
      INFO("device track " << kv.first << " window " << i);
      CHECK(avg[i] <= cap * (1 + 1e-6));
    }
  }
  // The busy device runs close to the cap in the windows of the GEMM body.
  double busiest = 0;
  for (auto& kv : by_pid)
    for (double a : window_averages(kv.second, w, end)) busiest = std::max(busiest, a);
  CHECK(busiest > 0.97 * cap);
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("power limit: MI300X under a 50 % cap follows its own curve", "[power][cli]") {
  std::string dir = make_tmpdir("power-mi300x");
  const std::string topo = "test/data/power/mi300x.yaml";
  json u = run_ok(dir + "/u", topo, "test/data/power/gemm.yaml");
  json c = run_ok(dir + "/c", topo, "test/data/power/gemm.yaml", "--set topology.power_cap.per_device=375W");
  json m = run_ok(dir + "/m", topo, "test/data/power/copy.yaml");
  json mc = run_ok(dir + "/mc", topo, "test/data/power/copy.yaml", "--set topology.power_cap.per_device=375W");
  const double idle = 112.5, cap = 375, clock = 2.1e9;  // MI300X catalog; floor 0.84 GHz = 0.4 x clock
  const double launch = 4e-6;  // MI300X launch_overhead in the catalog
  const json& ud = u.at("power").at("devices")[0];
  const double T = u.at("microbench")[0].at("time_s");
  const double body = T - launch;
  const double pc = double(ud.at("components_j").at("compute")) / body;
  const double pm = memory_joules(ud.at("components_j")) / body;
  REQUIRE(idle + pc + pm > cap);
  const double s = curve_clock(idle, pc, pm, cap, 0.4, 0.7);
  const double v = voltage(s, 0.4, 0.7);
  const json& cd = c.at("power").at("devices")[0];
  CHECK(double(c.at("microbench")[0].at("time_s")) == Approx(launch + body / s).epsilon(0.01));
  CHECK(double(cd.at("avg_clock_hz")) < clock);
  // Energy per FLOP of the compute part falls by V(s)^2; the device's total falls too.
  CHECK(double(cd.at("components_j").at("compute")) / double(ud.at("components_j").at("compute")) ==
        Approx(v * v).epsilon(0.01));
  CHECK(double(cd.at("energy_j")) < double(ud.at("energy_j")));
  CHECK(double(cd.at("max_window_avg_w")) <= cap * (1 + 1e-6));
  // The memory-bound copy barely slows (it does not slow at all: no compute work).
  CHECK(double(mc.at("microbench")[0].at("time_s")) == Approx(double(m.at("microbench")[0].at("time_s"))).epsilon(0.01));
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("power limit: energy and power bounds with the TDP limit on every chip family", "[power][cli]") {
  std::string dir = make_tmpdir("power-bounds");
  struct Case { std::string topo; double idle_sum, tdp_sum; };  // catalog idle and TDP x devices
  for (const Case& c : {Case{"test/data/power/h100x2.yaml", 2 * 105.0, 2 * 700.0},
                        Case{"test/data/power/mi300x.yaml", 112.5, 750.0}}) {
    for (const std::string wl : {"test/data/power/gemm.yaml", "test/data/power/gemm-fp8.yaml", "test/data/power/copy.yaml"}) {
      INFO(c.topo << " " << wl);
      json j = run_ok(dir + "/o", c.topo, wl);
      const json& p = j.at("power");
      const double t = j.at("sim_time_s");
      CHECK(double(j.at("energy_j")) >= c.idle_sum * t * (1 - 1e-9));
      CHECK(double(p.at("tdp_sum_w")) == Approx(c.tdp_sum));
      CHECK(double(p.at("devices_avg_power_w")) <= c.tdp_sum * (1 + 1e-9));
      CHECK(double(p.at("devices_peak_power_w")) <= c.tdp_sum * (1 + 1e-6));
      std::system(("rm -rf '" + dir + "/o'").c_str());
    }
  }
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("power limit: link and switch energy follow the bytes each carried", "[power][cli]") {
  std::string dir = make_tmpdir("power-links");
  json j = run_ok(dir + "/o", "test/data/power/h100x2-links.yaml", "test/data/power/allreduce.yaml");
  const json& p = j.at("power");
  // Ring all-reduce of S over n = 2: each device sends 2 (n - 1) / n x S = S bytes, each
  // byte over two links (device -> switch -> device) and through the switch once.
  // NCCL's Simple protocol puts payload on 0.772 of the NVLink wire (C13: 231.6 of 300 GB/s
  // bus bandwidth, topologies/collectives/nccl.yaml), so the wire carries payload / 0.772.
  const double S = 64.0 * 1024 * 1024;
  const double sent = 2 * S / (231.6 / 300.0);
  CHECK(double(p.at("components_j").at("links")) == Approx(sent * 2 * 8 * 1.3e-12).epsilon(0.02));
  CHECK(double(p.at("components_j").at("switches")) == Approx(sent * 8 * 2e-12).epsilon(0.02));
  CHECK(double(p.at("components_j").at("nics")) == 0);
  CHECK(double(p.at("network_energy_j")) ==
        Approx(double(p.at("components_j").at("links")) + double(p.at("components_j").at("switches"))));
  CHECK(double(p.at("wall_energy_j")) ==
        Approx(double(p.at("devices_energy_j")) + double(p.at("network_energy_j")) + double(p.at("host_energy_j"))));
  CHECK(double(p.at("fabric_energy_j").at("nvlink")) == Approx(double(p.at("network_energy_j"))));
  // The same fabric as InfiniBand: its link energy is NIC energy. Whatever payload share
  // the library puts on the wire, each wire byte crosses two links (2 x 1.3 pJ/bit) and
  // one switch (2 pJ/bit), so NICs / switches = 2.6 / 2.
  json ib = run_ok(dir + "/ib", "test/data/power/h100x2-links.yaml", "test/data/power/allreduce.yaml",
                   "--set topology.fabrics.0.type=infiniband");
  const json& q = ib.at("power");
  CHECK(double(q.at("components_j").at("links")) == 0);
  CHECK(double(q.at("components_j").at("nics")) > 0);
  CHECK(double(q.at("components_j").at("nics")) / double(q.at("components_j").at("switches")) == Approx(1.3));
  std::system(("rm -rf '" + dir + "'").c_str());
}

// The IPU's energy is a published figure, not derived from its TDP: Knowles (Hot Chips 33,
// CHIPS.md E3) gives ~1.75 pJ per 16-bit matrix FLOP with its memory and exchange traffic,
// and says "applications typically sustain max ~50% of burst Tflop/s ... a power virus will
// slow the clock". So a dense GEMM on a Bow (348.6 TF at 1.85 GHz, 300 W) is power-bound:
// unthrottled its compute energy is FLOPs x 1.75 pJ and it would draw over TDP; limited, it
// runs at the clock the DVFS curve gives (Bow: floor 0.74 of 1.85 GHz, 0.7 V), near half
// of the burst rate.
TEST_CASE("power limit: a GEMM on a Bow IPU is power-bound at the published pJ/FLOP", "[power][cli]") {
  std::string dir = make_tmpdir("power-ipu");
  const std::string topo = "test/data/power/h100x2.yaml", bow = "--set topology.device=graphcore-bow";
  json l = run_ok(dir + "/l", topo, "test/data/power/gemm.yaml", bow);
  json u = run_ok(dir + "/u", topo, "test/data/power/gemm.yaml", bow + " --set topology.power.tdp_limit=false");
  const double idle = 45, tdp = 300, peak = 1472 * 128 * 1.85e9, flops = 2.0 * 8192 * 8192 * 8192;
  const json& ud = u.at("power").at("devices")[0];
  const double Tu = u.at("microbench")[0].at("time_s"), Tl = l.at("microbench")[0].at("time_s");
  CHECK(double(ud.at("components_j").at("compute")) == Approx(flops * 1.75e-12).epsilon(1e-6));
  const double pc = double(ud.at("components_j").at("compute")) / Tu;
  const double pm = memory_joules(ud.at("components_j")) / Tu;
  REQUIRE(idle + pc + pm > tdp);
  const double s = curve_clock(idle, pc, pm, tdp, 0.74 / 1.85, 0.7);
  INFO("expected clock scale " << s);
  CHECK(s < 0.8);
  CHECK(Tl == Approx(Tu / s).epsilon(0.01));
  const json& ld = l.at("power").at("devices")[0];
  CHECK(double(ld.at("peak_power_w")) <= tdp * (1 + 1e-6));
  CHECK(double(ld.at("avg_clock_hz")) == Approx(1.85e9 * s).epsilon(0.01));
  // Knowles: about half of the burst rate sustained (0.40-0.60 of peak here).
  CHECK(flops / Tl / peak > 0.40);
  CHECK(flops / Tl / peak < 0.60);
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace test_power_limit_cli
