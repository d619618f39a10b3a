// `llmsim fit` (how many chips hold a model) and the model part of `llmsim check`.
// The arithmetic lives in sim/llm/fit.h; this file only shows it.
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "sim/cli/commands.h"
#include "sim/llm/fit.h"
#include "sim/llm/model.h"

namespace llmsim {
namespace {

std::string fixed(double v, int prec) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(prec) << v;
  return s.str();
}

std::string sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4ge9", v / 1e9);
  return buf;
}

}  // namespace

int cmd_fit(const FitArgs& args, std::ostream& out) {
  if (!args.training.empty()) return cmd_fit_training(args, out);
  if (args.model.empty()) throw InputError({"--model", 0, 0}, "is required (or --training WORKLOAD)");
  if (args.dtype.empty()) throw InputError({"--dtype", 0, 0}, "is required (or --training WORKLOAD)");
  const auto& dts = known_dtypes();
  if (std::find(dts.begin(), dts.end(), args.dtype) == dts.end()) {
    std::string list;
    for (const auto& d : dts) list += (list.empty() ? "" : " ") + d;
    throw InputError({"--dtype", 0, 0}, "unknown dtype '" + args.dtype + "' (known: " + list + ")");
  }
  if (args.context < 0) throw InputError({"--context", 0, 0}, "must be >= 0");
  if (args.batch < 1) throw InputError({"--batch", 0, 0}, "must be >= 1");
  ModelSpec m = load_model_ref(args.model, {"--model", 0, 0});
  if (args.context > m.max_context) {
    out << "note: --context " << args.context << " exceeds the model's max_position_embeddings "
        << m.max_context << "\n";
  }
  FitNeed need = fit_need(m, args.dtype, args.context, args.batch);

  out << "model " << m.name << ": " << format_thousands(m.params()) << " parameters from its shapes";
  if (need.nominal) out << ", " << sci(need.params) << " nominal (catalog `parameters:`, used below)";
  out << "\n";
  out << "weights  = " << sci(need.params) << " params x " << need.bytes_per_param << " B (" << args.dtype
      << ") x " << kFitRuntimeOverhead << " runtime overhead = " << format_bytes_human(need.weights) << "\n";
  out << "KV cache = " << fit_kv_formula(m, need, args.context, args.batch) << "\n";
  out << "total    = " << format_bytes_human(need.total()) << "\n\n";

  ChipCatalog catalog(default_catalog_dir());
  std::vector<std::string> names = args.devices.empty() ? catalog.names() : args.devices;
  if (names.empty()) out << "(the chip catalog " << catalog.dir() << " is empty)\n";
  out << std::left << std::setw(28) << "device" << std::setw(14) << "tier" << std::setw(18) << "capacity"
      << std::setw(30) << "chips by capacity" << "review's rounding\n";
  for (const auto& n : names) {
    const ChipSpec& chip = catalog.get(n, {"--device", 0, 0});
    FitChip f = fit_chip(need, chip);
    std::string tier = f.weights_tier + (f.kv_capacity > 0 ? "+" + f.kv_tier : "");
    std::string cap = format_bytes_human(f.capacity);
    if (f.kv_capacity > 0) cap += "+" + format_bytes_human(f.kv_capacity);
    std::string how = std::to_string(f.chips) + " = ceil(" + fixed(f.ratio, 2) + ")";
    if (f.kv_replicated) how = f.chips > 0 ? std::to_string(f.chips) + " (KV heads replicated)" : "none (KV head > chip)";
    out << std::setw(28) << chip.name << std::setw(14) << tier << std::setw(18) << cap << std::setw(30) << how
        << "about " << f.review_chips << "\n";
  }
  out << "\nchips by capacity = ceil(total / capacity of the tier holding the weights (and KV cache));\n"
         "the review rounds total / capacity to the nearest chip (\"about 24 or 12\" H100-80GB for\n"
         "Llama 3.1 405B at fp32 / fp16, dividing by 80e9 B: 24.3 / 12.15); an H100's 80 GiB\n"
         "(85.9 GB, binary DRAM densities) gives 22.63 / 11.32, so 23 / 12 hold it.\n";
  if (!m.mla()) {
    out << "Past " << m.kv_heads << " chips (the KV heads) each chip holds a replica of one KV head, as vLLM does\n"
        << "with tensor parallelism above num_key_value_heads: KV per chip stops falling there.\n";
  } else {
    out << "MLA caches one latent per token shared by all heads: each tensor-parallel chip holds all of it.\n";
  }
  return 0;
}

void check_model_doc(const Doc& doc, std::ostream& out) {
  ModelSpec m = load_model(doc);
  out << doc.path << ": model " << m.name << " ok (" << m.layers << " layers, hidden " << m.hidden << ", "
      << m.heads << " heads / " << m.kv_heads << " kv, " << (m.gated_mlp ? "gated" : "plain") << " MLP";
  if (m.mla()) out << ", MLA latent " << m.kv_lora_rank << " + rope " << m.qk_rope_head_dim;
  if (m.moe()) {
    out << ", " << m.experts << " experts top-" << m.experts_per_token;
    if (m.shared_ffn > 0) out << " + shared " << m.shared_ffn;
    if (m.dense_layers > 0) out << ", " << m.dense_layers << " dense layers first";
  }
  if (m.sliding_window > 0) out << ", window " << m.sliding_window << " on " << m.local_layers << " layers";
  if (m.parallel_block) out << ", parallel attention + MLP";
  out << ", " << sci(m.params()) << " params";
  if (m.moe()) out << " (" << sci(m.active_params()) << " active)";
  if (m.nominal_params > 0) {
    double dev = m.params() / m.nominal_params - 1.0;
    out << ", " << fixed(dev * 100.0, 1) << "% from nominal " << sci(m.nominal_params);
  }
  out << ")\n";
}

}  // namespace llmsim
