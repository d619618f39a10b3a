#include "sim/core/error.h"

namespace llmsim {

std::string SourcePos::str() const {
  std::string s = file.empty() ? std::string("<input>") : file;
  // Always FILE:LINE:COL (the contract's shape); 1:1 when the problem is the whole file.
  s += ":" + std::to_string(line > 0 ? line : 1) + ":" + std::to_string(col > 0 ? col : 1);
  return s;
}

std::string InputError::located() const { return pos_.str() + ": " + what(); }

}  // namespace llmsim
