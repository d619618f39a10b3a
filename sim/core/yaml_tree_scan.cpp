#include "sim/core/yaml_tree_scan.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace llmsim {
namespace {

constexpr std::uint64_t kSaturate = std::uint64_t{1} << 62;

std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) { return std::min(kSaturate, a + std::min(kSaturate, b)); }

SourcePos at(const YAML::Mark& m, const std::string& file) {
  if (m.is_null()) return {file, 1, 1};
  return {file, m.line + 1, m.column + 1};
}

// Length of the valid UTF-8 sequence at text[i] (1 for ASCII), or 0.
std::size_t utf8_length(const std::string& t, std::size_t i) {
  const unsigned char c = static_cast<unsigned char>(t[i]);
  if (c < 0x80) return 1;
  std::size_t n;
  std::uint32_t cp, min;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1Fu; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0Fu; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07u; min = 0x10000; }
  else return 0;
  if (i + n > t.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const unsigned char d = static_cast<unsigned char>(t[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (d & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

std::string hex_byte(unsigned char c) {
  char b[8];
  std::snprintf(b, sizeof b, "%02x", c);
  return b;
}

}  // namespace

// Binary garbage makes a poor YAML error; catch it before the parser. So is text that is
// not UTF-8: it reached summary.json and failed there, after the run.
void reject_bad_text(const std::string& text, const std::string& name) {
  const std::size_t bad_utf8 = first_invalid_utf8(text);
  int line = 1, col = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (i == bad_utf8) {
      throw InputError({name, line, col}, "invalid UTF-8 (byte 0x" + hex_byte(c) + "): YAML files must be UTF-8");
    }
    if (c == '\n') { ++line; col = 1; continue; }
    if (c == 0 || (c < 0x20 && c != '\t' && c != '\r')) {
      throw InputError({name, line, col}, "binary data in a YAML file (byte 0x" + hex_byte(c) + ")");
    }
    ++col;
  }
}

void scan_doc(Doc& doc, const std::string& text) {
  TreeScan::check_keys(doc.root, doc.path);
  TreeScan scan(text, doc.path);
  std::uint64_t total = 0;
  for (auto kv : doc.root) {
    std::uint64_t added = scan.scan(kv.second);
    if (added == 0) continue;
    total += added;
    if (total > kMaxAliasNodes) doc.blocked.emplace(kv.first.Scalar(), scan.too_large(kv.first.Scalar(), added));
  }
}

std::size_t first_invalid_utf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_length(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string::npos;
}

std::uint64_t TreeScan::scan(const YAML::Node& node) {
  worst_size_ = 0;
  worst_pos_ = 0;
  std::uint64_t added = 0;
  walk(node, added);
  return added;
}

// Expanded node count of `node`; a collection seen before (an alias of it) adds its
// whole size to `added` and is not walked again.
std::uint64_t TreeScan::walk(const YAML::Node& node, std::uint64_t& added) {
  if (!node.IsMap() && !node.IsSequence()) return 1;
  const YAML::Mark mark = node.Mark();
  const bool keyed = !mark.is_null() && mark.pos >= 0;
  const std::size_t pos = keyed ? static_cast<std::size_t>(mark.pos) : 0;
  if (keyed) {
    auto it = size_.find(pos);
    if (it != size_.end()) {
      added = sat_add(added, it->second);
      if (it->second > worst_size_) {
        worst_size_ = it->second;
        worst_pos_ = pos;
        worst_mark_ = mark;
      }
      return it->second;
    }
  }
  // An alias inside the collection its anchor names (`x: &c [*c]`) makes the tree a
  // cycle that every later reader would follow forever: refuse it here.
  if (keyed && !open_.insert(pos).second) {
    const std::string name = anchor_name(pos);
    throw InputError(at(mark, file_), "alias of " + (name.empty() ? std::string("an anchor") : "anchor '" + name + "'") +
                                          " inside the collection it names (a cycle)");
  }
  std::uint64_t total = 1;
  if (node.IsMap()) {
    check_keys(node, file_);
    for (auto kv : node) {
      total = sat_add(total, sat_add(walk(kv.first, added), walk(kv.second, added)));
    }
  } else {
    for (auto item : node) total = sat_add(total, walk(item, added));
  }
  if (keyed) {
    open_.erase(pos);
    size_[pos] = total;
  }
  return total;
}

// yaml-cpp keeps both copies of a repeated key and lookups see only one: a silent typo
// source, so a repeated key is bad input.
void TreeScan::check_keys(const YAML::Node& node, const std::string& file) {
  std::map<std::string, YAML::Mark> seen;
  for (auto kv : node) {
    if (!kv.first.IsScalar()) continue;
    auto [first, fresh] = seen.emplace(kv.first.Scalar(), kv.first.Mark());
    if (!fresh) {
      throw InputError(at(kv.first.Mark(), file), "duplicate key '" + kv.first.Scalar() + "' (first at line " +
                                                     std::to_string(first->second.line + 1) + ")");
    }
  }
}

std::string TreeScan::anchor_name(std::size_t pos) const {
  // The mark of an anchored node is its '&' (after a tag, if the tag comes first).
  std::size_t i = pos;
  if (i < text_.size() && text_[i] == '!') {
    while (i < text_.size() && text_[i] != ' ' && text_[i] != '\t') ++i;
    while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t')) ++i;
  }
  if (i >= text_.size() || text_[i] != '&') return "";
  std::size_t end = i + 1;
  while (end < text_.size() && std::string(" \t\r\n,[]{}").find(text_[end]) == std::string::npos) ++end;
  return text_.substr(i + 1, end - i - 1);
}

InputError TreeScan::too_large(const std::string& where, std::uint64_t added) const {
  std::string name = anchor_name(worst_pos_);
  std::string anchor = name.empty() ? "an anchor" : "anchor '" + name + "'";
  return InputError(at(worst_mark_, file_),
                    "aliases under '" + where + "' expand to " + std::to_string(added) + " nodes through " + anchor +
                        " (defined here, " + std::to_string(worst_size_) + " nodes once expanded); at most " +
                        std::to_string(kMaxAliasNodes) + " may come from aliases (a \"billion laughs\" document?)");
}

}  // namespace llmsim
