// Synthetic request streams. Samplers are written out here (not std::*_distribution,
// whose algorithms are implementation-defined) so a seed gives the same requests on any
// standard library.
#include <algorithm>
#include <cmath>

#include "sim/traces/request.h"
#include "sim/traces/trace_rows.h"

namespace llmsim {
namespace {

constexpr double kPi = 3.14159265358979323846;

TokenDist parse_tokens(Params& parent, const std::string& key) {
  TokenDist d;
  YAML::Node n = parent.get(key);
  if (n.IsScalar()) {
    d.value = static_cast<double>(parent.positive(key));
    if (d.value > kMaxTokensPerRequest) parent.fail(key, "beyond any model's context");
    return d;
  }
  Params f = parent.child(key, "requests." + key);
  d.kind = f.choice("dist");
  if (d.kind == "fixed") {
    f.get("value");  // required for fixed
    d.value = static_cast<double>(f.positive("value"));
  } else if (d.kind == "uniform") {
    f.get("min");  // both bounds required for uniform
    f.get("max");
    d.min = static_cast<double>(f.positive("min"));
    d.max = static_cast<double>(f.positive("max"));
    if (d.max < d.min) f.fail("max", "must be >= min");
  } else {
    f.get("sigma");  // required for lognormal
    d.sigma = f.num("sigma");
    if (!(d.sigma >= 0) || d.sigma > 5) f.fail("sigma", "log-space sigma must be in [0, 5]");
    if (f.has("median") == f.has("mean")) f.fail("mean", "give exactly one of mean or median");
    if (f.has("median")) {
      double med = f.num("median");
      if (!(med >= 1)) f.fail("median", "must be >= 1 token");
      d.mu = std::log(med);
    } else {
      double mean = f.num("mean");
      if (!(mean >= 1)) f.fail("mean", "must be >= 1 token");
      // E[X] = exp(mu + sigma^2 / 2) for a lognormal.
      d.mu = std::log(mean) - 0.5 * d.sigma * d.sigma;
    }
    d.min = static_cast<double>(f.positive("min"));
    d.max = static_cast<double>(f.integer("max"));
    if (d.max != 0 && d.max < d.min) f.fail("max", "must be >= min (0 = unbounded)");
  }
  if (std::max(d.value, d.max) > kMaxTokensPerRequest) f.fail(d.kind == "fixed" ? "value" : "max", "beyond any model's context");
  f.finish();
  return d;
}

}  // namespace

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double standard_normal(std::mt19937_64& rng) {
  // Box-Muller, one value per call (the second is discarded to keep the stream simple).
  double u1 = 1.0 - uniform01(rng);  // (0, 1]
  double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

double gamma_sample(std::mt19937_64& rng, double shape, double scale) {
  if (shape < 1.0) {
    // Boost: X ~ Gamma(k+1) * U^(1/k) (Marsaglia & Tsang 2000, §6).
    double u = 1.0 - uniform01(rng);
    return gamma_sample(rng, shape + 1.0, scale) * std::pow(u, 1.0 / shape);
  }
  // Marsaglia & Tsang, "A simple method for generating gamma variables", 2000.
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x = standard_normal(rng), v = 1.0 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = 1.0 - uniform01(rng);
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v * scale;
  }
}

std::int64_t TokenDist::sample(std::mt19937_64& rng) const {
  double v = value;
  if (kind == "uniform") {
    v = min + std::floor(uniform01(rng) * (max - min + 1.0));
  } else if (kind == "lognormal") {
    v = std::round(std::exp(mu + sigma * standard_normal(rng)));
    v = std::max(v, min);
    if (max > 0) v = std::min(v, max);
  }
  return static_cast<std::int64_t>(std::min<double>(v, kMaxTokensPerRequest));
}

double TokenDist::mean() const {
  if (kind == "uniform") return 0.5 * (min + max);
  if (kind == "lognormal") return std::exp(mu + 0.5 * sigma * sigma);
  return value;
}

SyntheticSpec parse_synthetic(Params& f) {
  SyntheticSpec s;
  s.count = f.positive("count");
  if (s.count > 100000000) f.fail("count", "more than 1e8 requests");
  s.arrival = f.choice("arrival");
  if (s.arrival != "at-once") {
    f.get("rate");  // required unless at-once
    s.rate = f.qty("rate");
    if (!(s.rate > 0)) f.fail("rate", "must be > 0");
    double span = static_cast<double>(s.count - 1) / s.rate;
    if (!representable_time(span)) {
      f.fail("rate", std::to_string(s.count) + " requests at " + format_quantity(s.rate, Dim::Rate) + " arrive over " +
                         format_quantity(span, Dim::Time) + ", past " + horizon_text());
    }
  }
  if (s.arrival == "gamma") {
    // Burstiness as in Splitwise / DistServe: inter-arrivals Gamma with this CV (1 = Poisson).
    f.get("cv");  // required for gamma
    s.cv = f.num("cv");
    if (!(s.cv > 0) || s.cv > 100) f.fail("cv", "must be in (0, 100]");
  }
  s.prompt = parse_tokens(f, "prompt_tokens");
  s.output = parse_tokens(f, "output_tokens");
  std::int64_t seed = f.integer("seed");
  if (seed < 0) f.fail("seed", "must be >= 0");
  s.seed = static_cast<std::uint64_t>(seed);
  if (f.has("shared_prefix")) {
    Params g = f.child("shared_prefix", "requests.shared_prefix");
    s.prefix_tokens = g.positive("tokens");
    s.prefix_groups = g.positive("groups");
    s.prefix_block = g.positive("block_tokens");
    if (s.prefix_tokens + std::max(s.prompt.value, s.prompt.max) > kMaxTokensPerRequest) {
      g.fail("tokens", "prefix + prompt_tokens is beyond any model's context");
    }
    if (s.prefix_groups > 1000000) g.fail("groups", "more than 1e6 prefixes");
    g.finish();
  }
  f.finish();
  return s;
}

namespace {

// Block ids of a shared-prefix request: the group's prefix blocks (ids unique to the group
// and the block index), then blocks of its own (ids from a counter with the top bit set,
// never equal to a prefix id).
void shared_prefix_ids(const SyntheticSpec& s, std::uint64_t group, std::int64_t prompt, std::uint64_t& own_counter,
                       std::vector<std::uint64_t>& ids) {
  ids.clear();
  const std::int64_t blocks = (prompt + s.prefix_block - 1) / s.prefix_block;
  const std::int64_t shared = s.prefix_tokens / s.prefix_block;  // full blocks of the prefix only
  for (std::int64_t b = 0; b < blocks; ++b) {
    ids.push_back(b < shared ? (group << 32) | static_cast<std::uint64_t>(b) : (1ULL << 63) | own_counter++);
  }
}

}  // namespace

std::vector<Request> generate_requests(const SyntheticSpec& s, std::uint64_t seed, PrefixKeys* keys) {
  // Separate streams for arrivals and token counts so changing one distribution does not
  // shift the other's samples.
  std::mt19937_64 arr(seed * 2 + 1), tok(seed * 2 + 2);
  std::vector<Request> out;
  out.reserve(static_cast<size_t>(s.count));
  // The prefix group of each request: a third stream, so adding shared_prefix keeps the
  // arrivals and the token counts of the same seed.
  std::mt19937_64 grp(seed * 2 + 3);
  const bool prefixed = s.prefix_tokens > 0;
  if (keys) *keys = PrefixKeys{prefixed ? s.prefix_block : 0, {}};
  std::vector<std::uint64_t> ids;
  std::uint64_t own_counter = 0;
  double t = 0;
  for (std::int64_t i = 0; i < s.count; ++i) {
    Request r;
    r.id = static_cast<std::uint64_t>(i);
    if (i > 0) {
      double mean_gap = s.arrival == "at-once" ? 0.0 : 1.0 / s.rate;
      if (s.arrival == "poisson") t += -std::log(1.0 - uniform01(arr)) * mean_gap;
      else if (s.arrival == "gamma") t += gamma_sample(arr, 1.0 / (s.cv * s.cv), mean_gap * s.cv * s.cv);
      else t += mean_gap;
    }
    r.arrival = t;
    r.prompt_tokens = s.prompt.sample(tok);
    r.output_tokens = s.output.sample(tok);
    if (prefixed) {
      const auto group = static_cast<std::uint64_t>(uniform01(grp) * static_cast<double>(s.prefix_groups));
      r.prompt_tokens += s.prefix_tokens;
      if (keys) {
        shared_prefix_ids(s, group, r.prompt_tokens, own_counter, ids);
        append_prefix_keys(ids, "requests", 0, r, *keys);
      }
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace llmsim
