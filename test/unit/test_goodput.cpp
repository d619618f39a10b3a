// [goodput] The long-horizon Monte Carlo of sim/workloads/training/goodput.h against what
// renewal arithmetic and Young/Daly say it must give (docs/faults.md "Goodput").
#include <catch2/catch.hpp>

#include <cmath>

#include "sim/workloads/training/goodput.h"

namespace test_goodput {

using namespace llmsim;

namespace {

GoodputInputs base() {
  GoodputInputs in;
  in.step_s = 1;
  in.horizon_s = 60 * 86400.0;
  in.interval_s = 1800;
  in.checkpoint_s = 60;
  in.restart_s = 600;
  in.failures_per_s = 1 / 10800.0;  // MTBF 3 h
  in.trials = 100;
  in.seed = 7;
  return in;
}

}  // namespace

TEST_CASE("goodput: without failures it is the checkpoint duty cycle W / (W + C)", "[goodput]") {
  // Steps of 10 s, interval 1800 s = 180 whole steps, checkpoints of 200 s: every 2000 s
  // of wall time keeps 1800 s of work. A horizon of 100 whole periods ends on a boundary.
  GoodputInputs in = base();
  in.step_s = 10;
  in.checkpoint_s = 200;
  in.failures_per_s = 0;
  in.horizon_s = 100 * 2000.0;
  const GoodputResult r = simulate_goodput(in);
  CHECK(r.interval_s == 1800.0);
  CHECK(r.mean == Approx(0.9).epsilon(1e-12));
  CHECK(r.p5 == Approx(0.9).epsilon(1e-12));
  CHECK(r.p95 == Approx(0.9).epsilon(1e-12));
  CHECK(r.failures == 0);
}

TEST_CASE("goodput: the interval is rounded to whole steps", "[goodput]") {
  CHECK(interval_in_steps(1800, 7) == 257 * 7.0);  // 1800 / 7 = 257.14
  CHECK(interval_in_steps(3, 10) == 10.0);         // at least one step
}

TEST_CASE("goodput: falls as the failure rate rises, spread brackets the mean", "[goodput]") {
  double last = 2;
  for (double mtbf_h : {100.0, 10.0, 3.0, 1.0}) {
    GoodputInputs in = base();
    in.failures_per_s = 1 / (mtbf_h * 3600);
    const GoodputResult r = simulate_goodput(in);
    INFO("MTBF " << mtbf_h << " h: mean " << r.mean);
    CHECK(r.mean < last);
    CHECK(r.p5 <= r.mean);
    CHECK(r.mean <= r.p95);
    // Failures per trial ~ horizon / MTBF (Poisson), within 15 %.
    CHECK(r.failures == Approx(in.horizon_s * in.failures_per_s).epsilon(0.15));
    last = r.mean;
  }
}

TEST_CASE("goodput: matches the first-order renewal estimate", "[goodput]") {
  // Each period of W work + C checkpoint keeps W; a failure (rate 1/M) costs on average
  // half a period plus the restart R: goodput ~ W / (W + C) x (1 - ((W + C) / 2 + R) / M).
  // The loss (1 - goodput) is compared within 15 %: second-order terms (failures during
  // a restart, several in one period) are of order R / M = 6 %.
  GoodputInputs in = base();
  const double W = 1800, C = in.checkpoint_s, R = in.restart_s, M = 10800;
  const double expect = W / (W + C) * (1 - ((W + C) / 2 + R) / M);
  const GoodputResult r = simulate_goodput(in);
  CHECK(1 - r.mean == Approx(1 - expect).epsilon(0.15));
}

TEST_CASE("goodput: the best interval is within 20 % of Young/Daly sqrt(2 C M)", "[goodput]") {
  GoodputInputs in = base();
  const double C = in.checkpoint_s, M = 1 / in.failures_per_s;
  const double young = std::sqrt(2 * C * M);  // 1138 s
  const double best = best_checkpoint_interval(in);
  INFO("best " << best << " s, Young/Daly " << young << " s");
  CHECK(best == Approx(young).epsilon(0.20));
  // An interior optimum: a quarter and four times the interval both do worse.
  auto at = [&](double w) {
    GoodputInputs x = in;
    x.interval_s = w;
    return simulate_goodput(x).mean;
  };
  CHECK(at(best) > at(best / 4));
  CHECK(at(best) > at(best * 4));
}

TEST_CASE("goodput: deterministic for a seed, different for another", "[goodput]") {
  GoodputInputs in = base();
  const GoodputResult a = simulate_goodput(in), b = simulate_goodput(in);
  CHECK(a.mean == b.mean);
  CHECK(a.p5 == b.p5);
  in.seed = 8;
  CHECK(simulate_goodput(in).mean != a.mean);
}

}  // namespace test_goodput
