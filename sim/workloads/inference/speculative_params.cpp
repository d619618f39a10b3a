// `workload:inference.speculative` parameters, declared once (sim/core/params.h);
// parse_speculative reads them by name.
#include "sim/core/params.h"

namespace llmsim {
namespace {
using P = ParamDecl;
using T = ParamType;
const char* const kSpeculativeDoc = "docs/inference.md";
}  // namespace

LLMSIM_DECLARE_PARAMS(inf_speculative, {"workload:inference", "workload:inference.speculative", "", {
    P::opt("draft", T::String, "", "draft model: a workloads/models name or a model YAML / config.json path "
                                   "(or `heads`)").from("Leviathan et al. ICML 2023 [SPEC-LEVIATHAN]"),
    P::opt("heads", T::Positive, "", "self-drafting heads on the target (Medusa / EAGLE style; or `draft`)")
        .from("Medusa, Cai et al. ICML 2024 [MEDUSA]"),
    P::opt("k", T::Positive, "4", "tokens proposed per step (Medusa's 4 heads)").from("Medusa, Cai et al. ICML 2024 [MEDUSA]"),
    P::req("acceptance", T::Any, "probability a proposal is accepted given the ones before were: one number, "
                                 "or a list of k (per position), each in [0, 1]").from("Leviathan et al. ICML 2023 [SPEC-LEVIATHAN]"),
}});

}  // namespace llmsim
