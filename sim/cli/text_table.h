// Plain-text output helpers for CLI reports: an aligned text table and RFC 4180 CSV rows.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

namespace llmsim {

// Columns padded to their widest cell (byte length; cells are ASCII or short UTF-8).
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// A cell quoted when it holds a comma, quote, CR or LF (quotes doubled), as RFC 4180.
std::string csv_cell(const std::string& cell);
void write_csv_row(const std::vector<std::string>& cells, std::ostream& out);

}  // namespace llmsim
