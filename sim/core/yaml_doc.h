// The configuration layer: YAML documents with source positions, `include:`,
// `--set` overrides, and a strict field reader that rejects unknown keys.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/core/units.h"

namespace llmsim {

// One loaded YAML document. Top-level keys merged from `include:` files remember their file
// so positions stay true.
struct Doc {
  std::string path;                              // as given (used in messages)
  YAML::Node root;                               // a map
  std::map<std::string, std::string> key_file;  // top-level key -> file it came from
  // Top-level keys whose aliases expand past kMaxAliasNodes (sim/core/yaml_tree_scan.h):
  // reading one through Fields throws this error; an unknown one is still reported as
  // an unknown field first.
  std::map<std::string, InputError> blocked;

  std::string dir() const;                        // directory of `path`
  std::string resolve(const std::string& rel) const;  // path relative to this file
  std::string file_of(const std::string& top_key) const;
};

// Largest input file accepted; larger ones are refused before parsing (bad input, exit 2).
constexpr std::size_t kMaxInputFileBytes = 64u << 20;

// Reads and parses a file. Errors (missing file, a directory, YAML syntax, empty document,
// not a map, binary garbage, oversize, repeated keys, aliases past kMaxAliasNodes) throw
// InputError with a position.
Doc load_doc(const std::string& path);
// Parses text as if it were the file `name` (tests, fuzzers).
Doc parse_doc(const std::string& text, const std::string& name);

// Nodes parsed from `--set` arguments carry the tag "!llmsim-set:N:C[:q]" (N-th argument,
// C = column where its value starts, q = the scalar was quoted), so errors in them read
// "--set:N:COL" (pos_of) instead of a position in the file they were spliced into.
extern const char* const kOverrideTag;

// `--set` override: "topology.fabrics.0.link.bandwidth=400 GB/s".
struct Override {
  std::string target;               // "topology" | "workload" | ...
  std::vector<std::string> path;    // remaining dotted components
  std::string value;                // YAML text of the new value
  std::string text;                 // the whole argument, for messages
};
// Throws InputError (file "--set") on a malformed argument.
Override parse_override(const std::string& arg);
// Applies every override whose target matches to doc.root (creating map keys as needed).
// An index past the end of a sequence, or a path through a scalar, is an InputError.
void apply_overrides(Doc& doc, const std::string& target, const std::vector<Override>& overrides);

// Position of a node inside a file (1-based line/col; 0 when the node has no mark).
SourcePos pos_of(const YAML::Node& node, const std::string& file);

// Scalar converters that throw positioned InputErrors.
std::string as_string(const YAML::Node& node, const std::string& file, const std::string& what);
double as_number(const YAML::Node& node, const std::string& file, const std::string& what);
std::int64_t as_int(const YAML::Node& node, const std::string& file, const std::string& what);
bool as_bool(const YAML::Node& node, const std::string& file, const std::string& what);
double as_quantity(const YAML::Node& node, const std::string& file, Dim dim, const std::string& what);

// Strict reader of one YAML map. Every key read is marked used; finish() rejects the rest
// with the position of the unknown key and the nearest known name as a hint.
class Fields {
 public:
  Fields(const YAML::Node& node, std::string file, std::string what);
  // Root-level reader: keys merged from includes report their own file.
  Fields(const Doc& doc, std::string what);

  bool has(const std::string& key) const;
  YAML::Node get(const std::string& key);  // required: missing -> InputError at the map
  YAML::Node opt(const std::string& key);  // undefined node when absent

  std::string str(const std::string& key);
  std::string str(const std::string& key, const std::string& def);
  double num(const std::string& key);
  double num(const std::string& key, double def);
  std::int64_t integer(const std::string& key);
  std::int64_t integer(const std::string& key, std::int64_t def);
  // Positive integer (>= 1), the usual count/shape check.
  std::int64_t positive(const std::string& key);
  std::int64_t positive(const std::string& key, std::int64_t def);
  bool boolean(const std::string& key, bool def);
  double qty(const std::string& key, Dim dim);
  double qty(const std::string& key, Dim dim, double def);
  // One of `choices`.
  std::string choice(const std::string& key, const std::vector<std::string>& choices,
                     const std::string& def);

  void finish();  // rejects unknown keys

  const std::string& file() const { return file_; }
  std::string file_for(const std::string& key) const;
  SourcePos pos() const { return pos_of(node_, file_); }
  SourcePos pos(const std::string& key) const;  // position of key's value (or the map)
  const YAML::Node& node() const { return node_; }
  [[noreturn]] void fail(const std::string& key, const std::string& msg) const;

 private:
  YAML::Node lookup(const std::string& key) const;
  void misspelt(const std::string& key) const;  // throws when an unread key is a typo of `key`
  YAML::Node node_;
  std::string file_;
  std::string what_;
  std::map<std::string, std::string> key_file_;
  std::map<std::string, InputError> blocked_;
  std::set<std::string> used_;
};

// Levenshtein-nearest candidate, for "did you mean" hints ("" if nothing close).
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace llmsim
