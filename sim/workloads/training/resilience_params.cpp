// `checkpoint:` and `goodput:` of a training workload (docs/faults.md), declared once
// (sim/core/params.h); resilience.cpp reads them by name.
#include "sim/core/params.h"

namespace llmsim {
namespace {

using P = ParamDecl;
using T = ParamType;
const char* const kResilienceDoc = "docs/faults.md";
const char* const kResilienceKind = "workload:training";

}  // namespace

LLMSIM_DECLARE_PARAMS(
    train_checkpoint,
    {kResilienceKind,
     "workload:training.checkpoint",
     "checkpointing: what a failure costs (docs/faults.md)",
     {
         P::req("interval", T::Quantity, "training time between checkpoints").unit(Dim::Time).from(kResilienceDoc),
         P::req("write_bandwidth", T::Quantity,
                "aggregate bandwidth writing the model state (bf16 weights + fp32 Adam states, 14 B per parameter)")
             .unit(Dim::Bandwidth)
             .from(kResilienceDoc),
         P::req("restart", T::Quantity, "from a failure to training again (reschedule, load the checkpoint)")
             .unit(Dim::Time)
             .from(kResilienceDoc),
     }});

// 419 unexpected interruptions in 54 days of Llama 3 405B pre-training on 16,384 H100:
// 419 / (16,384 x 54 x 24 h) = 1.973e-5 per GPU-hour. The paper's count includes network,
// host and software causes, so charging all of them to the GPUs and leaving the other
// defaults at 0 counts each interruption once.
LLMSIM_DECLARE_PARAMS(
    train_goodput,
    {kResilienceKind,
     "workload:training.goodput",
     "goodput over a long horizon: seeded Monte Carlo of failures on the simulated step time",
     {
         P::req("days", T::Number, "wall-clock horizon of the job, in days (> 0, at most 3650)").from(kResilienceDoc),
         P::opt("trials", T::Positive, "200", "Monte Carlo trials (the spread is over them)").from(kResilienceDoc),
         P::opt("failure_rates", T::Map, "", "failures per component-hour, as plain numbers (docs/faults.md)")
             .nested("workload:training.goodput.failure_rates")
             .from(kResilienceDoc),
         P::opt("search_interval", T::Boolean, "false",
                "also search the checkpoint interval that maximises mean goodput")
             .from(kResilienceDoc),
     }});

LLMSIM_DECLARE_PARAMS(
    train_failure_rates,
    {kResilienceKind,
     "workload:training.goodput.failure_rates",
     "",
     {
         P::opt("gpu", T::Number, "1.973e-5", "failures per device-hour (all Llama 3 interruptions charged to GPUs)")
             .from("[Llama3-herd]"),
         P::opt("link", T::Number, "0", "failures per link-hour (counted in gpu by default)").from(kResilienceDoc),
         P::opt("host", T::Number, "0", "failures per node-hour (counted in gpu by default)").from(kResilienceDoc),
         P::opt("switch", T::Number, "0", "failures per switch-hour (counted in gpu by default)").from(kResilienceDoc),
     }});

}  // namespace llmsim
