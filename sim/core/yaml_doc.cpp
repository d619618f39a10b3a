#include "sim/core/yaml_doc.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sim/core/yaml_tree_scan.h"

namespace llmsim {
namespace {

std::string dirname_of(const std::string& p) {
  auto slash = p.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

SourcePos mark_pos(const YAML::Mark& m, const std::string& file) {
  SourcePos p;
  p.file = file;
  if (!m.is_null()) {
    p.line = m.line + 1;
    p.col = m.column + 1;
  }
  return p;
}

// A plain (unquoted) scalar starts at its mark, so a unit error can point inside it.
bool is_plain_scalar(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  if (tag == "!") return false;
  return !(tag.rfind(kOverrideTag, 0) == 0 && tag.size() > 2 && tag.compare(tag.size() - 2, 2, ":q") == 0);
}

Doc parse_text(const std::string& text, const std::string& name, int depth);

void merge_includes(Doc& doc, int depth) {
  YAML::Node inc = static_cast<const YAML::Node&>(doc.root)["include"];
  if (!inc) return;
  if (depth > 16) throw InputError(pos_of(inc, doc.path), "include nesting deeper than 16 (a cycle?)");
  std::vector<YAML::Node> items;
  if (inc.IsScalar()) items.push_back(inc);
  else if (inc.IsSequence()) for (auto n : inc) items.push_back(n);
  else throw InputError(pos_of(inc, doc.path), "include must be a file name or a list of file names");
  YAML::Node merged(YAML::NodeType::Map);
  std::map<std::string, std::string> files;
  std::map<std::string, InputError> blocked;
  auto take = [&](const std::string& k, const YAML::Node& v, const Doc& from) {
    merged[k] = v;
    files[k] = from.file_of(k);
    blocked.erase(k);
    auto b = from.blocked.find(k);
    if (b != from.blocked.end()) blocked.emplace(k, b->second);
  };
  for (auto& item : items) {
    std::string rel = as_string(item, doc.path, "include");
    std::string path = doc.resolve(rel);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(pos_of(item, doc.path), "cannot open included file '" + path + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    Doc sub = parse_text(ss.str(), path, depth + 1);
    for (auto kv : sub.root) take(kv.first.as<std::string>(), kv.second, sub);
  }
  for (auto kv : doc.root) {
    std::string k = kv.first.as<std::string>();
    if (k != "include") take(k, kv.second, doc);
  }
  doc.root = merged;
  doc.key_file = files;
  doc.blocked = blocked;
}

Doc parse_text(const std::string& text, const std::string& name, int depth) {
  if (text.size() > kMaxInputFileBytes) {
    throw InputError({name, 1, 1}, "file is " + std::to_string(text.size() >> 20) +
                                       " MiB; input files are limited to " +
                                       std::to_string(kMaxInputFileBytes >> 20) + " MiB");
  }
  reject_bad_text(text, name);
  Doc doc;
  doc.path = name;
  try {
    doc.root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(mark_pos(e.mark, name), "YAML syntax: " + e.msg);
  }
  if (!doc.root || doc.root.IsNull()) throw InputError({name, 1, 1}, "empty document");
  if (!doc.root.IsMap()) throw InputError(pos_of(doc.root, name), "the document must be a YAML mapping (key: value lines)");
  for (auto kv : doc.root) {
    if (!kv.first.IsScalar()) throw InputError(pos_of(kv.first, name), "keys must be plain strings");
    doc.key_file[kv.first.Scalar()] = name;
  }
  scan_doc(doc, text);
  merge_includes(doc, depth);
  return doc;
}

int edit_distance(const std::string& a, const std::string& b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string Doc::dir() const { return dirname_of(path); }

std::string Doc::resolve(const std::string& rel) const {
  if (rel.empty() || rel[0] == '/') return rel;
  std::string d = dir();
  return d == "." ? rel : d + "/" + rel;
}

std::string Doc::file_of(const std::string& top_key) const {
  auto it = key_file.find(top_key);
  return it == key_file.end() ? path : it->second;
}

Doc parse_doc(const std::string& text, const std::string& name) { return parse_text(text, name, 0); }

Doc load_doc(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw InputError({path, 0, 0}, "is a directory, not a YAML file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError({path, 0, 0}, "cannot open file");
  in.seekg(0, std::ios::end);
  auto size = static_cast<std::size_t>(std::max<std::streamoff>(0, in.tellg()));
  if (size > kMaxInputFileBytes) {
    throw InputError({path, 1, 1}, "file is " + std::to_string(size >> 20) +
                                       " MiB; input files are limited to " +
                                       std::to_string(kMaxInputFileBytes >> 20) + " MiB");
  }
  in.seekg(0);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_text(ss.str(), path, 0);
}

const char* const kOverrideTag = "!llmsim-set:";

SourcePos pos_of(const YAML::Node& node, const std::string& file) {
  if (!node) return {file, 0, 0};
  SourcePos p = mark_pos(node.Mark(), file);
  const std::string& tag = node.Tag();
  if (tag.rfind(kOverrideTag, 0) == 0) {
    int arg = 0, col = 0;
    if (std::sscanf(tag.c_str() + std::strlen(kOverrideTag), "%d:%d", &arg, &col) == 2) {
      p.file = "--set";
      p.line = arg;
      p.col = col + (p.col > 0 ? p.col - 1 : 0);
    }
  }
  return p;
}

std::string as_string(const YAML::Node& node, const std::string& file, const std::string& what) {
  if (!node || !node.IsScalar()) throw InputError(pos_of(node, file), what + ": expected a string");
  return node.Scalar();
}

double as_number(const YAML::Node& node, const std::string& file, const std::string& what) {
  std::string s = as_string(node, file, what);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != 0 || !std::isfinite(v)) {
    throw InputError(pos_of(node, file), what + ": expected a number, got '" + s + "'");
  }
  return v;
}

std::int64_t as_int(const YAML::Node& node, const std::string& file, const std::string& what) {
  std::string s = as_string(node, file, what);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != 0 || errno == ERANGE) {
    // Accept "1e6"-style integers when exact.
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && *end == 0 && std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e18) {
      return static_cast<std::int64_t>(d);
    }
    throw InputError(pos_of(node, file), what + ": expected an integer, got '" + s + "'");
  }
  return v;
}

bool as_bool(const YAML::Node& node, const std::string& file, const std::string& what) {
  std::string s = as_string(node, file, what);
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  throw InputError(pos_of(node, file), what + ": expected true or false, got '" + s + "'");
}

double as_quantity(const YAML::Node& node, const std::string& file, Dim dim, const std::string& what) {
  std::string s = as_string(node, file, what);
  try {
    double v = parse_quantity(s, dim);
    // Times (and the interval of a rate) must fit the integer-picosecond clock.
    if (dim == Dim::Time && !representable_time(v)) {
      throw InputError(pos_of(node, file), what + ": " + s + " is past " + horizon_text());
    }
    if (dim == Dim::Rate && v > 0 && !representable_time(1.0 / v)) {
      throw InputError(pos_of(node, file), what + ": " + s + " is one event every " + format_quantity(1.0 / v, Dim::Time) +
                                               ", past " + horizon_text());
    }
    return v;
  } catch (const UnitError& e) {
    SourcePos p = pos_of(node, file);
    // Plain scalars start at the mark; point at the offending character.
    if (p.line > 0 && is_plain_scalar(node)) p.col += e.offset;
    throw InputError(p, what + ": " + e.message);
  }
}

Fields::Fields(const YAML::Node& node, std::string file, std::string what)
    : node_(node), file_(std::move(file)), what_(std::move(what)) {
  if (!node_ || !node_.IsMap()) {
    throw InputError(pos_of(node_, file_), what_ + ": expected a mapping (key: value)");
  }
}

Fields::Fields(const Doc& doc, std::string what) : Fields(doc.root, doc.path, std::move(what)) {
  key_file_ = doc.key_file;
  blocked_ = doc.blocked;
}

std::string Fields::file_for(const std::string& key) const {
  auto it = key_file_.find(key);
  return it == key_file_.end() ? file_ : it->second;
}

// Lookups go through a const node: yaml-cpp's non-const operator[] can insert the key.
YAML::Node Fields::lookup(const std::string& key) const {
  const YAML::Node& c = node_;
  return c[key];
}

bool Fields::has(const std::string& key) const {
  YAML::Node n = lookup(key);
  return n && !n.IsNull();
}

YAML::Node Fields::get(const std::string& key) {
  used_.insert(key);
  if (auto b = blocked_.find(key); b != blocked_.end()) throw b->second;
  YAML::Node n = lookup(key);
  if (!n || n.IsNull()) {
    misspelt(key);
    throw InputError(pos(), what_ + ": missing required field '" + key + "'");
  }
  return n;
}

// A required key spelt wrong ("devcie:", "bandwith:") reads as missing: name the typo.
// Close means at most 2 edits and fewer than half the key's letters, so "n" is never
// taken for "m".
void Fields::misspelt(const std::string& key) const {
  for (auto kv : node_) {
    if (!kv.first.IsScalar() || used_.count(kv.first.Scalar())) continue;
    const std::string& k = kv.first.Scalar();
    int d = edit_distance(k, key);
    if (d > 0 && d <= 2 && 2 * d < static_cast<int>(key.size())) {
      throw InputError(pos_of(kv.first, file_for(k)),
                       what_ + ": unknown field '" + k + "' (did you mean '" + key + "'? it is required)");
    }
  }
}

YAML::Node Fields::opt(const std::string& key) {
  used_.insert(key);
  if (auto b = blocked_.find(key); b != blocked_.end()) throw b->second;
  YAML::Node n = lookup(key);
  if (!n || n.IsNull()) return YAML::Node(YAML::NodeType::Undefined);  // Node() is truthy
  return n;
}

std::string Fields::str(const std::string& key) { return as_string(get(key), file_for(key), what_ + "." + key); }
std::string Fields::str(const std::string& key, const std::string& def) {
  YAML::Node n = opt(key);
  return n ? as_string(n, file_for(key), what_ + "." + key) : def;
}
double Fields::num(const std::string& key) { return as_number(get(key), file_for(key), what_ + "." + key); }
double Fields::num(const std::string& key, double def) {
  YAML::Node n = opt(key);
  return n ? as_number(n, file_for(key), what_ + "." + key) : def;
}
std::int64_t Fields::integer(const std::string& key) { return as_int(get(key), file_for(key), what_ + "." + key); }
std::int64_t Fields::integer(const std::string& key, std::int64_t def) {
  YAML::Node n = opt(key);
  return n ? as_int(n, file_for(key), what_ + "." + key) : def;
}
std::int64_t Fields::positive(const std::string& key) {
  std::int64_t v = integer(key);
  if (v < 1) fail(key, "must be a positive integer, got " + std::to_string(v));
  return v;
}
std::int64_t Fields::positive(const std::string& key, std::int64_t def) {
  std::int64_t v = integer(key, def);
  if (v < 1) fail(key, "must be a positive integer, got " + std::to_string(v));
  return v;
}
bool Fields::boolean(const std::string& key, bool def) {
  YAML::Node n = opt(key);
  return n ? as_bool(n, file_for(key), what_ + "." + key) : def;
}
double Fields::qty(const std::string& key, Dim dim) {
  return as_quantity(get(key), file_for(key), dim, what_ + "." + key);
}
double Fields::qty(const std::string& key, Dim dim, double def) {
  YAML::Node n = opt(key);
  return n ? as_quantity(n, file_for(key), dim, what_ + "." + key) : def;
}
std::string Fields::choice(const std::string& key, const std::vector<std::string>& choices,
                           const std::string& def) {
  std::string v = def.empty() ? str(key) : str(key, def);
  if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    fail(key, "'" + v + "' is not one of: " + list);
  }
  return v;
}

SourcePos Fields::pos(const std::string& key) const {
  YAML::Node n = lookup(key);
  if (n) return pos_of(n, file_for(key));
  return pos();
}

void Fields::fail(const std::string& key, const std::string& msg) const {
  throw InputError(pos(key), what_ + "." + key + ": " + msg);
}

void Fields::finish() {
  std::vector<std::string> known(used_.begin(), used_.end());
  for (auto kv : node_) {
    std::string k = kv.first.Scalar();
    if (used_.count(k)) continue;
    std::string near = nearest(k, known);
    throw InputError(pos_of(kv.first, file_for(k)), what_ + ": unknown field '" + k + "'" +
                                                        (near.empty() ? "" : " (did you mean '" + near + "'?)"));
  }
}

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  int best_d = 1 << 30;
  for (const auto& c : candidates) {
    int d = edit_distance(word, c);
    if (d < best_d) { best_d = d; best = c; }
  }
  if (best_d <= std::max<int>(2, static_cast<int>(word.size()) / 3)) return best;
  return "";
}

}  // namespace llmsim
