// Checks on YAML text and trees before validation (sim/core/yaml_doc.cpp, overrides.cpp):
// binary data and invalid UTF-8 in the text, then one linear pass over the parsed tree that
// rejects repeated keys and measures how many nodes aliases add. yaml-cpp shares an
// anchored node between its aliases, so a 640-byte "billion laughs" document (9 levels
// of 9 aliases) is small in memory but 9^9 nodes to any walker; the pass visits every
// collection once (memoised by its position) and reports, per top-level key, what the
// aliases under it expand to.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "sim/core/error.h"
#include "sim/core/yaml_doc.h"

namespace llmsim {

// Offset of the first byte of `text` that does not start a valid UTF-8 sequence (overlong
// forms, surrogates and code points past U+10FFFF included), or std::string::npos.
std::size_t first_invalid_utf8(const std::string& text);

// Binary data and text that is not UTF-8 (YAML's encoding), refused before the parser:
// InputError at the first bad byte.
void reject_bad_text(const std::string& text, const std::string& name);

// Repeated keys (InputError), and top-level values whose aliases expand too far: those go
// to doc.blocked, not refused yet, so an unknown key holding them is reported first.
void scan_doc(Doc& doc, const std::string& text);

// Nodes that aliases may add to one document (or one --set value) in all.
constexpr std::uint64_t kMaxAliasNodes = 1000000;

class TreeScan {
 public:
  // `text` is the source (to read anchor names); `file` names it in errors.
  TreeScan(const std::string& text, std::string file) : text_(text), file_(std::move(file)) {}

  // Scans `node` (throws InputError on a repeated key). Returns the nodes aliases add
  // under it, counting each use of an anchor once more.
  std::uint64_t scan(const YAML::Node& node);
  // Throws InputError when the map `node` repeats a key.
  static void check_keys(const YAML::Node& node, const std::string& file);
  // The error for a value whose aliases expand too far, naming the largest anchor used
  // in the last scan(): "anchor 'h' ...", at the anchor's position.
  InputError too_large(const std::string& where, std::uint64_t added) const;

 private:
  std::uint64_t walk(const YAML::Node& node, std::uint64_t& added);
  std::string anchor_name(std::size_t pos) const;

  const std::string& text_;
  std::string file_;
  std::unordered_map<std::size_t, std::uint64_t> size_;  // collection position -> expanded nodes
  std::unordered_set<std::size_t> open_;                  // collections being walked (cycle check)
  std::size_t worst_pos_ = 0;       // largest anchor reused in the last scan
  std::uint64_t worst_size_ = 0;
  YAML::Mark worst_mark_;
};

}  // namespace llmsim
