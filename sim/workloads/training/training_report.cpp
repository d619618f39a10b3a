#include "sim/workloads/training/training_report.h"

#include <algorithm>
#include <cstdio>

#include "sim/workloads/training/lowering.h"

namespace llmsim {
namespace {

// MFU's denominator: the chip's dense 16-bit peak (bf16, else fp16), whatever dtype the
// GEMMs run in, as the Llama 3 and PaLM papers quote it.
double dense_16bit_peak(const ChipSpec& chip) {
  for (const char* dt : {"bf16", "fp16"}) {
    auto it = chip.compute.peak.find(dt);
    if (it != chip.compute.peak.end()) return it->second;
  }
  double best = 0;
  for (const auto& kv : chip.compute.peak) best = std::max(best, kv.second.value());
  return best;
}

}  // namespace

TrainingReport training_report(const TrainingConfig& cfg, const ChipSpec& chip, const std::vector<StepRecord>& steps,
                               const DataStats* data) {
  TrainingReport r;
  if (data) {
    r.has_data = true;
    r.data = *data;
  }
  const auto mem = training_memory(cfg);
  r.memory = *std::max_element(mem.begin(), mem.end(), [](const StageMemory& a, const StageMemory& b) {
    return a.total() < b.total();
  });
  r.peak_flops = dense_16bit_peak(chip);
  double sum = 0, bubble = 0, compute = 0, comm = 0, opt = 0, idle = 0, ck = 0;
  for (const StepRecord& s : steps) {
    const double T = s.end - s.start;
    if (!(s.end > 0) || T <= 0) continue;  // did not finish (a time limit stopped the run)
    r.step_min = r.steps == 0 ? T : std::min(r.step_min, T);
    r.step_max = std::max(r.step_max, T);
    ++r.steps;
    sum += T;
    ck += s.checkpoint;  // every device waits for the write: not idle, not bubble
    double pipe_end = s.start;
    for (const auto& st : s.stages) pipe_end = std::max(pipe_end, st.last_pass_end);
    const double span = pipe_end - s.start;
    const double n = static_cast<double>(s.stages.size());
    for (const auto& st : s.stages) {
      // Event times are whole picoseconds (the time base), so a stage with no bubble can come
      // out a rounding either side of zero: less than a picosecond counts as none.
      const double gap = span - st.compute - st.tp_comm;
      if (span > 0 && gap >= 1e-12) bubble += gap / span / n;
      compute += st.compute / n;
      comm += (st.tp_comm + st.dp_comm) / n;
      opt += st.optimizer / n;
      idle += std::max(0.0, T - s.checkpoint - st.compute - st.tp_comm - st.dp_comm - st.optimizer) / n;
    }
  }
  if (r.steps == 0 || sum <= 0) return r;
  const double k = static_cast<double>(r.steps);
  r.step_mean = sum / k;
  r.bubble = bubble / k;
  r.compute = compute / sum;
  r.exposed_comm = comm / sum;
  r.optimizer = opt / sum;
  r.bubble_time = idle / sum;
  r.checkpoint = ck / sum;
  r.tokens_per_s = cfg.tokens_per_step() / r.step_mean;
  r.useful_tokens_per_s = r.tokens_per_s * (1 - r.data.padding_waste());
  const double devices = static_cast<double>(cfg.devices());
  const double model = model_flops_per_token(cfg) * r.tokens_per_s;
  r.tflops_per_device = model / devices / 1e12;
  if (r.peak_flops > 0) {
    r.mfu = model / (r.peak_flops * devices);
    r.hfu = hardware_flops_per_token(cfg) * r.tokens_per_s / (r.peak_flops * devices);
  }
  return r;
}

nlohmann::ordered_json training_json(const TrainingReport& r) {
  nlohmann::ordered_json j;
  j["steps"] = r.steps;
  j["step_time_s"] = r.step_mean;
  j["step_times_s"] = {{"min", r.step_min}, {"mean", r.step_mean}, {"max", r.step_max}};
  j["mfu"] = r.mfu;
  j["hfu"] = r.hfu;
  j["tokens_per_s"] = r.tokens_per_s;
  j["tflops_per_device"] = r.tflops_per_device;
  j["peak_memory_bytes_per_device"] = static_cast<std::int64_t>(r.memory.total());
  j["pipeline_bubble_fraction"] = r.bubble;
  j["exposed_comm_fraction"] = r.exposed_comm;
  j["memory"] = {{"weights", r.memory.weights},
                 {"gradients", r.memory.gradients},
                 {"optimizer", r.memory.optimizer},
                 {"activations", r.memory.activations},
                 {"buffers", r.memory.comm_buffers}};
  j["time"] = {{"compute", r.compute},
               {"exposed_communication", r.exposed_comm},
               {"bubble", r.bubble_time},
               {"optimizer", r.optimizer},
               {"checkpoint", r.checkpoint}};
  if (r.has_data) {
    j["data"] = {{"sequences", r.data.sequences},
                 {"document_pieces", r.data.documents},
                 {"split_documents", r.data.splits},
                 {"mean_piece_tokens", r.data.documents > 0 ? r.data.real_tokens / r.data.documents : 0.0},
                 {"epochs", r.data.epochs},
                 {"padding_waste_fraction", r.data.padding_waste()},
                 {"useful_tokens_per_s", r.useful_tokens_per_s},
                 {"masked_attention_fraction", r.data.masked_attention()}};
  }
  return j;
}

std::string training_paragraph(const TrainingConfig& cfg, const TrainingReport& r) {
  char b[768];
  std::snprintf(b, sizeof b,
                "training %s on %lld devices (tp %lld x cp %lld x pp %lld x dp %lld, %s, %lld micro-batches of %lld x %lld "
                "tokens): step %.3f s (min %.3f, max %.3f over %lld), %.0f tokens/s, %.1f TFLOPS/device, "
                "MFU %.1f %% (HFU %.1f %%); time %.0f %% compute, %.0f %% exposed communication, %.0f %% bubble, "
                "%.0f %% optimizer; peak memory %.1f GiB/device\n",
                cfg.model.name.c_str(), static_cast<long long>(cfg.devices()), static_cast<long long>(cfg.par.tp),
                static_cast<long long>(cfg.par.cp), static_cast<long long>(cfg.par.pp), static_cast<long long>(cfg.par.dp), cfg.par.schedule.c_str(),
                static_cast<long long>(cfg.micro_batches()), static_cast<long long>(cfg.micro_batch),
                static_cast<long long>(cfg.seq_len), r.step_mean, r.step_min, r.step_max, static_cast<long long>(r.steps),
                r.tokens_per_s, r.tflops_per_device, 100 * r.mfu, 100 * r.hfu, 100 * r.compute, 100 * r.exposed_comm,
                100 * r.bubble_time, 100 * r.optimizer, r.memory.total() / (1024.0 * 1024 * 1024));
  std::string out = b;
  if (r.checkpoint > 0) {
    out.pop_back();  // the line goes on
    std::snprintf(b, sizeof b, "; %.1f %% writing checkpoints\n", 100 * r.checkpoint);
    out += b;
  }
  if (r.has_data) {
    std::snprintf(b, sizeof b,
                  "  data: %.0f sequences, %.0f document pieces (mean %.0f tokens), %s packing: %.1f %% padding, "
                  "document masking skips %.1f %% of causal attention%s\n",
                  r.data.sequences, r.data.documents, r.data.documents > 0 ? r.data.real_tokens / r.data.documents : 0.0,
                  cfg.data.packing.c_str(), 100 * r.data.padding_waste(), 100 * r.data.masked_attention(),
                  cfg.data.masks_documents() ? "" : " (not applied: attention is over the whole sequence)");
    out += b;
  }
  return out;
}

}  // namespace llmsim
