// `llmsim fit` and the model part of `llmsim check`. Placeholder until the model catalog lands.
#include <iostream>

#include "sim/cli/commands.h"

namespace llmsim {

int cmd_fit(const FitArgs& args, std::ostream& out) {
  (void)args;
  (void)out;
  throw InputError({"--model", 0, 0}, "fit is not implemented yet");
}

void check_model_doc(const Doc& doc, std::ostream& out) { out << doc.path << ": model (not validated yet)\n"; }

}  // namespace llmsim
