// Monte Carlo of a training job's useful time under failures (goodput.h). One trial walks
// the horizon: W seconds of work (whole steps), then C seconds writing a checkpoint, again
// and again; a failure loses everything since the last finished checkpoint (the segment
// in progress, its checkpoint write included) and costs the restart time, during which a
// further failure restarts the restart. Work still unsaved at the horizon is counted: the
// job goes on past the window and saves it then.
#include "sim/workloads/training/goodput.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace llmsim {
namespace {

// Failure times of one trial on [0, horizon): exponential gaps from a mt19937_64 whose
// output is fixed by the standard, turned into times by -log(1 - u) / rate (not
// std::exponential_distribution, whose algorithm differs between libraries).
std::vector<double> failure_times(const GoodputInputs& in, int trial) {
  std::vector<double> t;
  if (!(in.failures_per_s > 0)) return t;
  std::seed_seq seq{static_cast<std::uint32_t>(in.seed), static_cast<std::uint32_t>(in.seed >> 32),
                    static_cast<std::uint32_t>(trial)};
  std::mt19937_64 rng(seq);
  double now = 0;
  for (;;) {
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // [0, 1)
    now += -std::log1p(-u) / in.failures_per_s;
    if (now >= in.horizon_s) return t;
    t.push_back(now);
  }
}

struct TrialTotals {
  double useful = 0, lost = 0, restart = 0, checkpoint = 0;
  int failures = 0;
};

TrialTotals walk(const GoodputInputs& in, double work_s, const std::vector<double>& fails) {
  TrialTotals r;
  const double H = in.horizon_s, period = work_s + in.checkpoint_s;
  double t = 0;
  size_t next = 0;  // first failure not yet met
  while (t < H) {
    const double fail = next < fails.size() ? fails[next] : H;
    // Whole periods before the next failure (or the end) at once: O(failures) per trial.
    const double whole = std::floor((std::min(fail, H) - t) / period);
    if (whole > 0) {
      r.useful += whole * work_s;
      r.checkpoint += whole * in.checkpoint_s;
      t += whole * period;
    }
    if (t >= H) break;
    if (fail >= H) {  // the window ends inside this period
      const double worked = std::min(work_s, H - t);
      r.useful += worked;
      r.checkpoint += H - t - worked;
      break;
    }
    r.lost += std::max(0.0, fail - t);  // work and a partial checkpoint since the last saved one
    double up = fail + in.restart_s;
    ++r.failures;
    ++next;
    while (next < fails.size() && fails[next] < up) {  // failed again while restarting
      up = fails[next] + in.restart_s;
      ++r.failures;
      ++next;
    }
    r.restart += std::min(up, H) - fail;
    t = up;
  }
  return r;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double x = q * static_cast<double>(v.size() - 1);
  const size_t i = static_cast<size_t>(x);
  if (i + 1 >= v.size()) return v.back();
  return v[i] + (x - static_cast<double>(i)) * (v[i + 1] - v[i]);
}

GoodputResult simulate_with(const GoodputInputs& in, double work_s, const std::vector<std::vector<double>>& fails) {
  GoodputResult g;
  g.interval_s = work_s;
  std::vector<double> share;
  for (const auto& f : fails) {
    const TrialTotals r = walk(in, work_s, f);
    share.push_back(r.useful / in.horizon_s);
    g.failures += r.failures;
    g.lost_work_s += r.lost;
    g.restart_s += r.restart;
    g.checkpoint_s += r.checkpoint;
  }
  const double n = static_cast<double>(fails.size());
  for (double s : share) g.mean += s / n;
  g.failures /= n;
  g.lost_work_s /= n;
  g.restart_s /= n;
  g.checkpoint_s /= n;
  g.p5 = percentile(share, 0.05);
  g.p95 = percentile(share, 0.95);
  return g;
}

std::vector<std::vector<double>> all_failures(const GoodputInputs& in) {
  std::vector<std::vector<double>> f;
  for (int k = 0; k < std::max(1, in.trials); ++k) f.push_back(failure_times(in, k));
  return f;
}

}  // namespace

Seconds interval_in_steps(Seconds interval_s, Seconds step_s) {
  return std::max(1.0, std::round(interval_s / step_s)) * step_s;
}

GoodputResult simulate_goodput(const GoodputInputs& in) {
  return simulate_with(in, interval_in_steps(in.interval_s, in.step_s), all_failures(in));
}

Seconds best_checkpoint_interval(const GoodputInputs& in) {
  const auto fails = all_failures(in);
  auto mean_at = [&](double w) { return simulate_with(in, interval_in_steps(w, in.step_s), fails).mean; };
  // Coarse: 48 points per the log range [one step, half the horizon]; fine: 48 between the
  // best point's neighbours (a 0.6 % step at the default ranges).
  double lo = in.step_s, hi = std::max(in.step_s, in.horizon_s / 2);
  double best = lo;
  for (int pass = 0; pass < 2; ++pass) {
    const int n = 48;
    const double ratio = std::pow(hi / lo, 1.0 / n);
    double best_mean = -1;
    for (int i = 0; i <= n; ++i) {
      const double w = lo * std::pow(ratio, i);
      const double m = mean_at(w);
      if (m > best_mean) best_mean = m, best = w;
    }
    lo = std::max(in.step_s, Seconds{best / ratio});
    hi = best * ratio;
  }
  return interval_in_steps(best, in.step_s);
}

}  // namespace llmsim
