#include "sim/core/error.h"

namespace llmsim {

std::string SourcePos::str() const {
  std::string s = file.empty() ? std::string("<input>") : file;
  if (line > 0) {
    s += ":" + std::to_string(line) + ":" + std::to_string(col > 0 ? col : 1);
  }
  return s;
}

std::string InputError::located() const { return pos_.str() + ": " + what(); }

}  // namespace llmsim
