#include "sim/cli/plan_service.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "sim/core/params.h"
#include "sim/core/paths.h"

namespace llmsim {
namespace {

// A list of whole numbers >= 1 (a search axis), each checked at its own position.
std::vector<std::int64_t> positive_list(Params& f, const std::string& key, const std::string& file) {
  std::vector<std::int64_t> out;
  YAML::Node list = f.get(key);
  if (!list.IsSequence() || list.size() == 0) f.fail(key, "expects a non-empty list, e.g. [1, 2, 4]");
  for (const auto& e : list) {
    long long v = 0;
    bool ok = e.IsScalar() && YAML::convert<long long>::decode(e, v) && v >= 1;
    if (!ok) throw InputError(pos_of(e, file), key + ": expects whole numbers >= 1, got '" + YAML::Dump(e) + "'");
    out.push_back(v);
  }
  return out;
}

std::vector<double> number_list(Params& f, const std::string& key, const std::string& file, double lo, double hi) {
  std::vector<double> out;
  YAML::Node list = f.get(key);
  if (!list.IsSequence() || list.size() == 0) f.fail(key, "expects a non-empty list, e.g. [0, 0.25]");
  for (const auto& e : list) {
    double v = 0;
    bool ok = e.IsScalar() && YAML::convert<double>::decode(e, v) && v >= lo && v < hi;
    if (!ok) {
      throw InputError(pos_of(e, file), key + ": expects numbers in [" + resolved_number(lo) + ", " +
                                            resolved_number(hi) + "), got '" + YAML::Dump(e) + "'");
    }
    out.push_back(v);
  }
  return out;
}

ServiceTargets parse_targets(Params t) {
  ServiceTargets g;
  for (const char* k : {"ttft_p99", "tpot_p99", "tpot_mean", "e2e_p99"}) {
    if (!t.has(k)) continue;
    double v = t.qty(k);  // a latency: "2 s", "200 ms" (a size or a bare number is refused there)
    if (!(v > 0)) t.fail(k, "must be a latency > 0");
    std::string key = k;
    (key == "ttft_p99"    ? g.ttft_p99
     : key == "tpot_p99"  ? g.tpot_p99
     : key == "tpot_mean" ? g.tpot_mean
                          : g.e2e_p99) = v;
  }
  if (t.has("attainment")) {
    g.attainment = t.num("attainment");
    if (!(g.attainment > 0 && g.attainment <= 1)) t.fail("attainment", "must be a fraction in (0, 1]");
    if (g.ttft_p99 < 0 && g.tpot_p99 < 0) {
      t.fail("attainment", "is the share of requests meeting ttft_p99 / tpot_p99 per request: give at least one");
    }
  }
  if (g.ttft_p99 < 0 && g.tpot_p99 < 0 && g.tpot_mean < 0 && g.e2e_p99 < 0) {
    throw InputError(t.pos(), "targets: give at least one of ttft_p99, tpot_p99, tpot_mean, e2e_p99");
  }
  if (g.tpot_mean > 0 && g.tpot_p99 > 0 && g.tpot_mean > g.tpot_p99 && g.attainment < 0) {
    // Not a contradiction in general (a heavy tail), but a mean bound above the p99 bound
    // never binds unless the top 1 % alone drag the mean: almost always a slip.
  }
  if (g.e2e_p99 > 0 && g.ttft_p99 > 0 && g.e2e_p99 < g.ttft_p99) {
    t.fail("e2e_p99", "is below ttft_p99 although a request's e2e latency includes its TTFT: contradictory targets");
  }
  t.finish();
  return g;
}

ServiceSearch parse_search(Params s, const std::string& file) {
  ServiceSearch g;
  if (s.has("tp")) g.tp = positive_list(s, "tp", file);
  if (s.has("pp")) g.pp = positive_list(s, "pp", file);
  if (s.has("max_batch")) g.max_batch = positive_list(s, "max_batch", file);
  if (s.has("max_batched_tokens")) g.max_batched_tokens = positive_list(s, "max_batched_tokens", file);
  if (s.has("chunked_prefill")) {
    g.chunked_prefill.clear();
    for (const auto& e : s.get("chunked_prefill")) {
      bool v = false;
      if (!e.IsScalar() || !YAML::convert<bool>::decode(e, v)) {
        throw InputError(pos_of(e, file), "chunked_prefill: expects true / false, got '" + YAML::Dump(e) + "'");
      }
      g.chunked_prefill.push_back(v);
    }
    if (g.chunked_prefill.empty()) s.fail("chunked_prefill", "expects a non-empty list");
  }
  if (s.has("prefill_share")) g.prefill_share = number_list(s, "prefill_share", file, 0.0, 1.0);
  g.bisection_steps = s.positive("bisection_steps");
  if (g.bisection_steps > 30) s.fail("bisection_steps", "at most 30 (2^-30 resolution is past any use)");
  g.min_load = s.num("min_load");
  if (!(g.min_load > 0 && g.min_load < 1)) s.fail("min_load", "must be in (0, 1)");
  // vLLM refuses max_num_batched_tokens < max_num_seqs; a grid where no pair is valid
  // cannot run at all.
  std::int64_t most_tokens = *std::max_element(g.max_batched_tokens.begin(), g.max_batched_tokens.end());
  std::int64_t least_batch = *std::min_element(g.max_batch.begin(), g.max_batch.end());
  if (most_tokens < least_batch) {
    s.fail("max_batched_tokens",
           "every value is below every max_batch (max_batched_tokens >= max_batch is "
           "required): contradictory search");
  }
  s.finish();
  return g;
}

void measure_traffic(Service& s) {
  if (s.use_trace) {
    std::vector<Request> reqs = read_trace(s.trace);
    s.requests = static_cast<std::int64_t>(reqs.size());
    double p = 0, o = 0;
    for (const auto& r : reqs) {
      p += static_cast<double>(r.prompt_tokens);
      o += static_cast<double>(r.output_tokens);
    }
    double span = reqs.size() > 1 ? reqs.back().arrival - reqs.front().arrival : Seconds{0};
    if (!(span > 0)) throw InputError({s.file, 0, 0}, "traffic.trace: the kept rows span no time: no arrival rate");
    // N arrivals span N - 1 inter-arrival gaps.
    s.demand_rps = static_cast<double>(reqs.size() - 1) / span;
    s.mean_prompt = p / static_cast<double>(reqs.size());
    s.mean_output = o / static_cast<double>(reqs.size());
  } else {
    if (s.synthetic.arrival == "at-once") {
      throw InputError({s.file, 0, 0},
                       "traffic.requests: arrival at-once has no rate to plan for (use poisson, "
                       "gamma or fixed)");
    }
    s.requests = s.synthetic.count;
    s.demand_rps = s.synthetic.rate;
    s.mean_prompt = s.synthetic.prompt.mean();
    s.mean_output = s.synthetic.output.mean();
  }
}

}  // namespace

Service load_service(const std::string& path) {
  Doc doc = load_doc(path);
  Service s;
  s.file = path;
  Params f("service", doc, "service");
  if (f.str("kind") != "service") f.fail("kind", "expected 'service' (serving) or 'training-service'");
  f.str("name");
  f.str("description");
  s.model_ref = f.str("model");
  s.model = load_model_ref(s.model_ref, f.pos("model"), doc.dir());
  if (s.model.encoder)
    f.fail("model", s.model.name +
                        " is an encoder (bidirectional, no autoregressive decoding): serving models decoders; train it "
                        "with kind: training");
  {
    // A path is made absolute so the generated workload finds it from anywhere; a catalog
    // name stays a name (load_model_ref's test).
    const std::string& r = s.model_ref;
    auto ends = [&](const char* e) {
      std::string x(e);
      return r.size() > x.size() && r.compare(r.size() - x.size(), x.size(), x) == 0;
    };
    if (r.find('/') != std::string::npos || ends(".yaml") || ends(".json")) {
      std::string a = real_path_or_given(r[0] == '/' ? r : doc.dir() + "/" + r);
      s.model_ref = a[0] == '/' ? a : real_path_or_given(project_root() + "/" + r);
    }
  }
  if (f.has("dtypes")) {
    YAML::Node list = f.get("dtypes");
    if (!list.IsSequence() || list.size() == 0) f.fail("dtypes", "expects a non-empty list, e.g. [fp8, bf16]");
    const auto& known = known_dtypes();
    for (const auto& e : list) {
      std::string d = e.IsScalar() ? e.Scalar() : "";
      if (std::find(known.begin(), known.end(), d) == known.end()) {
        throw InputError(pos_of(e, f.file_for("dtypes")), "dtypes: unknown dtype '" + YAML::Dump(e) + "'");
      }
      if (std::find(s.dtypes.begin(), s.dtypes.end(), d) == s.dtypes.end()) s.dtypes.push_back(d);
    }
  } else {
    s.dtypes = {"bf16"};
  }
  {
    Params t = f.child("traffic");
    bool has_trace = t.has("trace"), has_req = t.has("requests");
    if (has_trace == has_req) throw InputError(t.pos(), "traffic: give exactly one of 'trace:' or 'requests:'");
    if (has_trace) {
      s.use_trace = true;
      Params tr = t.child("trace");
      s.trace = parse_trace_options(tr, doc);
      s.trace.file = real_path_or_given(s.trace.file);
      YAML::Node n = clean_copy(t.get("trace"));
      n["file"] = s.trace.file;
      s.traffic["trace"] = n;
    } else {
      Params r = t.child("requests");
      s.synthetic = parse_synthetic(r);
      s.traffic["requests"] = clean_copy(t.get("requests"));
    }
    t.finish();
  }
  s.targets = parse_targets(f.child("targets"));
  s.search = parse_search(f.child("search"), f.file_for("search"));
  f.finish();
  measure_traffic(s);
  return s;
}

Prices load_prices(const std::string& path, ChipCatalog& catalog) {
  Doc doc = load_doc(path);
  Prices p;
  p.file = path;
  Params f("prices", doc, "prices");
  if (f.str("kind") != "prices") f.fail("kind", "expected 'prices'");
  p.currency = f.str("currency");
  f.str("note");
  YAML::Node list = f.get("chips");
  if (!list.IsSequence() || list.size() == 0) f.fail("chips", "expects a non-empty list of {chip, ...} entries");
  for (std::size_t i = 0; i < list.size(); ++i) {
    Params e = f.item("chips", i);
    std::string chip_name = e.str("chip");
    const ChipSpec& chip = catalog.get(chip_name, e.pos("chip"));  // unknown chip: InputError here
    ChipPrice c;
    c.pos = e.pos();
    c.date = e.str("date");
    c.source = e.str("source");
    bool list_price = e.has("per_device_hour"), tco = e.has("capex") || e.has("years");
    if (list_price == tco) e.fail("chip", "give either per_device_hour, or capex and years (TCO), not both");
    if (list_price) {
      c.how = "list";
      c.per_device_hour = e.num("per_device_hour");
      if (!(c.per_device_hour > 0)) e.fail("per_device_hour", "must be > 0");
    } else {
      c.how = "tco";
      double capex = e.num("capex"), years = e.num("years"), pue = e.num("pue"), kwh = e.num("per_kwh");
      if (!(capex > 0)) e.fail("capex", "must be > 0");
      if (!(years > 0)) e.fail("years", "must be > 0");
      if (!(pue >= 1)) e.fail("pue", "must be >= 1");
      if (!(kwh >= 0)) e.fail("per_kwh", "must be >= 0");
      // Straight-line depreciation plus energy at TDP (the power model's full-load draw):
      // an upper bound on the energy part.
      c.per_device_hour = capex / (years * 8760.0) + chip.power.tdp / 1000.0 * pue * kwh;
    }
    e.finish();
    if (p.chips.count(chip.name)) e.fail("chip", "'" + chip.name + "' is priced twice");
    p.chips[chip.name] = c;
  }
  f.finish();
  return p;
}

}  // namespace llmsim
