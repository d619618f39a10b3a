// The `software:` field of a workload file, shared by the inference and training loaders.
#pragma once
#include <string>

#include "sim/core/params.h"
#include "sim/software/stack.h"

namespace llmsim {

// `software:` as given: a stack name, a path or an inline map; `none` gives no stack (an
// empty name). Call only when the field is present.
SoftwareStack read_workload_software(Params& f);

// Fails at `key` when `stack` does not run `dtype` natively, listing the dtypes it runs.
void require_stack_dtype(Params& f, const SoftwareStack& stack, const std::string& dtype, const std::string& key);

}  // namespace llmsim
