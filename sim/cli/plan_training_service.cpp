// The `kind: training-service` document (docs/plan.md "Training plans"): parsed once,
// strictly, every error at its position (exit 2). Declarations: plan_params.cpp.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "sim/cli/plan_training.h"
#include "sim/core/params.h"
#include "sim/core/paths.h"
#include "sim/core/units.h"

namespace llmsim {
namespace {

std::vector<std::int64_t> whole_list(Params& f, const std::string& key, std::int64_t lo, std::int64_t hi) {
  std::vector<std::int64_t> out;
  YAML::Node list = f.get(key);
  if (!list.IsSequence() || list.size() == 0) f.fail(key, "expects a non-empty list, e.g. [1, 2, 4]");
  for (const auto& e : list) {
    long long v = 0;
    bool ok = e.IsScalar() && YAML::convert<long long>::decode(e, v) && v >= lo && v <= hi;
    if (!ok) {
      throw InputError(pos_of(e, f.file_for(key)), key + ": expects whole numbers in [" + std::to_string(lo) + ", " +
                                                       std::to_string(hi) + "], got '" + YAML::Dump(e) + "'");
    }
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  return out;
}

std::vector<std::string> choice_list(Params& f, const std::string& key, const std::vector<std::string>& allowed) {
  std::vector<std::string> out;
  YAML::Node list = f.get(key);
  if (!list.IsSequence() || list.size() == 0) f.fail(key, "expects a non-empty list");
  for (const auto& e : list) {
    std::string v = e.IsScalar() ? e.Scalar() : "";
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string all;
      for (const auto& a : allowed) all += (all.empty() ? "" : ", ") + a;
      throw InputError(pos_of(e, f.file_for(key)), key + ": '" + YAML::Dump(e) + "' is not one of " + all);
    }
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  return out;
}

// "15T", "1.5e12", "300B" (billion, as papers write token counts): a count > 0.
double token_count(Params& f, const std::string& key) {
  YAML::Node n = f.get(key);
  std::string text = n.IsScalar() ? n.Scalar() : "";
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  std::string suffix = end ? std::string(end) : "x";
  suffix.erase(0, suffix.find_first_not_of(' '));
  const std::vector<std::pair<std::string, double>> scale = {{"", 1},    {"K", 1e3}, {"M", 1e6},
                                                             {"B", 1e9}, {"G", 1e9}, {"T", 1e12}};
  for (const auto& [s, x] : scale) {
    if (end != text.c_str() && suffix == s && std::isfinite(v) && v > 0) return v * x;
  }
  f.fail(key, "expects a token count > 0: a number, or with K, M, B (= G) or T (e.g. 15T), got '" + text + "'");
}

// "90 days" / "90 d", or any time quantity ("2160 h", "1e6 s").
double deadline_seconds(Params& f) {
  YAML::Node n = f.get("deadline");
  std::string text = n.IsScalar() ? n.Scalar() : "";
  for (const char* unit : {" days", " day", " d"}) {
    const std::string u(unit);
    if (text.size() > u.size() && text.compare(text.size() - u.size(), u.size(), u) == 0) {
      char* end = nullptr;
      std::string num = text.substr(0, text.size() - u.size());
      double v = std::strtod(num.c_str(), &end);
      if (end != num.c_str() && *end == '\0' && v > 0 && std::isfinite(v)) return v * 86400.0;
      f.fail("deadline", "expects a time > 0 (e.g. 90 days, 2000 h), got '" + text + "'");
    }
  }
  try {
    double v = parse_quantity(text, Dim::Time);
    if (v > 0) return v;
  } catch (const UnitError&) {
  }
  f.fail("deadline", "expects a time > 0 (e.g. 90 days, 2000 h), got '" + text + "'");
}

TrainingSearch parse_training_search(Params s) {
  TrainingSearch g;
  if (s.has("tp")) g.tp = whole_list(s, "tp", 1, 1 << 20);
  if (s.has("pp")) g.pp = whole_list(s, "pp", 1, 1 << 20);
  if (s.has("cp")) g.cp = whole_list(s, "cp", 1, 1 << 20);
  if (s.has("ep")) g.ep = whole_list(s, "ep", 1, 1 << 20);
  if (s.has("micro_batch")) g.micro_batch = whole_list(s, "micro_batch", 1, 1 << 20);
  if (s.has("zero")) g.zero = whole_list(s, "zero", 0, 3);
  if (s.has("devices")) g.devices = whole_list(s, "devices", 1, 1 << 24);
  if (s.has("global_batch")) g.global_batch = whole_list(s, "global_batch", 1, 1 << 30);
  if (s.has("schedule")) g.schedule = choice_list(s, "schedule", {"gpipe", "1f1b", "interleaved-1f1b"});
  if (s.has("recompute")) g.recompute = choice_list(s, "recompute", {"none", "selective", "full"});
  g.virtual_stages = s.positive("virtual_stages");
  if (g.virtual_stages < 2 && std::count(g.schedule.begin(), g.schedule.end(), "interleaved-1f1b")) {
    s.fail("virtual_stages", "interleaved-1f1b needs virtual_stages >= 2: contradictory search");
  }
  g.steps = s.positive("steps");
  if (g.steps > 100) s.fail("steps", "at most 100 steps per configuration (the plan extrapolates from them)");
  s.finish();
  return g;
}

}  // namespace

TrainingService load_training_service(const Doc& doc) {
  TrainingService s;
  s.file = doc.path;
  Params f("training-service", doc, "training-service");
  if (f.str("kind") != "training-service") f.fail("kind", "expected 'training-service'");
  f.str("name");
  f.str("description");
  s.model_ref = f.str("model");
  s.model = load_model_ref(s.model_ref, f.pos("model"), doc.dir());
  if (s.model_ref.find('/') != std::string::npos || s.model_ref.find(".yaml") != std::string::npos ||
      s.model_ref.find(".json") != std::string::npos) {
    // A path is made absolute so the generated workload finds it from the runs' folders.
    std::string p = s.model_ref[0] == '/' ? s.model_ref : doc.dir() + "/" + s.model_ref;
    if (const std::string abs = real_path(p); !abs.empty()) s.model_ref = abs;
  }
  if (f.has("dtypes")) {
    s.dtypes = choice_list(f, "dtypes", {"bf16", "fp16", "fp8"});
  } else {
    s.dtypes = {"bf16"};
  }
  {
    Params t = f.child("training");
    s.tokens = token_count(t, "tokens");
    s.seq_len = t.positive("seq_len");
    s.global_batch = t.positive("global_batch");
    if (s.model.max_context > 0 && s.seq_len > s.model.max_context) {
      t.fail("seq_len", "seq_len " + std::to_string(s.seq_len) + " exceeds the model's max_position_embeddings (" +
                            std::to_string(s.model.max_context) + ")");
    }
    t.finish();
  }
  if (f.has("deadline")) s.deadline_s = deadline_seconds(f);
  if (f.has("budget")) {
    s.budget = f.num("budget");
    if (!(s.budget > 0)) f.fail("budget", "must be > 0 (in the prices file's currency)");
  }
  s.search = parse_training_search(f.child("search"));
  f.finish();
  return s;
}

}  // namespace llmsim
