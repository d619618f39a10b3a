// Error types that carry the exit status the contract promises:
// 2 = bad input (with FILE:LINE:COL), 3 = infeasible, 1 = internal error.
#pragma once
#include <stdexcept>
#include <string>

namespace llmsim {

// A position in an input document. line/col are 1-based; 0 means unknown.
struct SourcePos {
  std::string file;
  int line = 0;
  int col = 0;
  std::string str() const;  // "FILE:LINE:COL" (1:1 when the position is unknown)
};

// Bad input: YAML syntax, schema, unknown reference, bad unit. Exit status 2.
class InputError : public std::runtime_error {
 public:
  InputError(SourcePos pos, const std::string& msg, std::string hint = "")
      : std::runtime_error(msg), pos_(std::move(pos)), hint_(std::move(hint)) {}
  const SourcePos& pos() const { return pos_; }
  const std::string& hint() const { return hint_; }
  // "FILE:LINE:COL: message"
  std::string located() const;

 private:
  SourcePos pos_;
  std::string hint_;
};

// The set-up cannot run: does not fit in memory, partitioned network, deadlock. Exit 3.
class InfeasibleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace llmsim
