#include "sim/core/params.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>

namespace llmsim {
namespace {

struct DeclaredSections {
  std::vector<std::unique_ptr<ParamSection>> order;  // declaration order, for describe
  std::map<std::string, ParamSection*> by_path;
};

DeclaredSections& declared_sections() {
  static DeclaredSections r;
  return r;
}

const char* base_unit(Dim d) {
  switch (d) {
    case Dim::Size: return "B";
    case Dim::Bandwidth: return "B/s";
    case Dim::Time: return "s";
    case Dim::Power: return "W";
    case Dim::Frequency: return "Hz";
    case Dim::Rate: return "/s";
    case Dim::Flops: return "FLOPS";
    case Dim::Energy: return "J";
  }
  return "";
}

void strip_tags(YAML::Node node) {
  node.SetTag("");
  // An empty map or list is written `{}` / `[]` on the key's line whatever style it was
  // built with, as it reads back: a resolved file resolved again must not change.
  if ((node.IsMap() || node.IsSequence()) && node.size() == 0) node.SetStyle(YAML::EmitterStyle::Flow);
  if (node.IsMap()) {
    for (auto kv : node) {
      strip_tags(kv.first);  // keys added by --set carry its position too
      strip_tags(kv.second);
    }
  } else if (node.IsSequence()) {
    for (auto item : node) strip_tags(item);
  }
}

}  // namespace

const char* param_type_name(ParamType t) {
  switch (t) {
    case ParamType::String: return "string";
    case ParamType::Integer: return "integer";
    case ParamType::Positive: return "integer >= 1";
    case ParamType::Number: return "number";
    case ParamType::Boolean: return "boolean";
    case ParamType::Quantity: return "quantity";
    case ParamType::Choice: return "choice";
    case ParamType::Map: return "map";
    case ParamType::List: return "list";
    case ParamType::Any: return "scalar or map";
  }
  return "?";
}

ParamDecl ParamDecl::req(std::string name, ParamType t, std::string doc) {
  ParamDecl d;
  d.name = std::move(name);
  d.type = t;
  d.doc = std::move(doc);
  return d;
}

ParamDecl ParamDecl::opt(std::string name, ParamType t, std::string def, std::string doc) {
  ParamDecl d = req(std::move(name), t, std::move(doc));
  d.required = false;
  d.def = std::move(def);
  return d;
}

ParamDecl ParamDecl::derive(std::string name, ParamType t, std::string how, std::string doc) {
  ParamDecl d = opt(std::move(name), t, std::move(how), std::move(doc));
  d.derived = true;
  return d;
}

std::string ParamDecl::unit_text() const { return type == ParamType::Quantity ? base_unit(dim) : ""; }

const ParamDecl* ParamSection::find(const std::string& name) const {
  for (const auto& p : params) if (p.name == name) return &p;
  return nullptr;
}

bool ParamRegistry::add(ParamSection s) {
  DeclaredSections& r = declared_sections();
  if (r.by_path.count(s.path)) throw std::logic_error("parameter section '" + s.path + "' declared twice");
  r.order.push_back(std::make_unique<ParamSection>(std::move(s)));
  r.by_path[r.order.back()->path] = r.order.back().get();
  return true;
}

namespace {
// Registries fill in during static initialisation, in no defined order relative to the
// tables, so their names are read at the first look-up, when all have registered.
ParamSection* with_registered_choices(ParamSection* s) {
  for (auto& d : s->params) {
    if (d.registered_choices && d.choices.empty()) d.choices = d.registered_choices();
  }
  return s;
}
}  // namespace

const ParamSection& ParamRegistry::section(const std::string& path) {
  auto it = declared_sections().by_path.find(path);
  if (it == declared_sections().by_path.end())
    throw std::logic_error("parameter section '" + path + "' is not declared");
  return *with_registered_choices(it->second);
}

std::vector<const ParamSection*> ParamRegistry::of_kind(const std::string& kind) {
  std::vector<const ParamSection*> out;
  for (const auto& s : declared_sections().order)
    if (s->kind == kind) out.push_back(with_registered_choices(s.get()));
  return out;
}

std::vector<std::string> ParamRegistry::kinds() {
  std::vector<std::string> out;
  for (const auto& s : declared_sections().order) {
    if (std::find(out.begin(), out.end(), s->kind) == out.end()) out.push_back(s->kind);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string resolved_number(double v) {
  // Shortest text that reads back to the same double, so a resolved file reruns exactly.
  char buf[40];
  // Whole numbers in plain digits ("700", "80000000000"): easier to read than 7e+02.
  if (std::fabs(v) < 1e17 && v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    if (std::strtod(buf, nullptr) == v) return buf;
  }
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string resolved_quantity(double v, Dim dim) { return resolved_number(v) + " " + base_unit(dim); }

YAML::Node clean_copy(const YAML::Node& node) {
  YAML::Node c = YAML::Clone(node);
  strip_tags(c);
  return c;
}

namespace {
// The resolved copy of a document, less the top-level values whose aliases expand too far
// (doc.blocked, "billion laughs"): cloning those is the exponential walk the loader
// refuses; reading such a key is the positioned error, and an unknown one is reported first.
YAML::Node resolved_copy(const Doc& doc) {
  if (doc.blocked.empty() || !doc.root.IsMap()) return clean_copy(doc.root);
  YAML::Node c(YAML::NodeType::Map);
  for (const auto& kv : doc.root) {
    const std::string k = kv.first.Scalar();
    c[k] = doc.blocked.count(k) ? YAML::Node("(not expanded)") : clean_copy(kv.second);
  }
  return c;
}
}  // namespace

Params::Params(const std::string& section, const Doc& doc, std::string what)
    : s_(&ParamRegistry::section(section)), f_(doc, what), what_(what), out_(resolved_copy(doc)) {}

Params::Params(const std::string& section, const YAML::Node& node, std::string file, std::string what,
               YAML::Node resolved)
    : s_(&ParamRegistry::section(section)), f_(node, std::move(file), what), what_(what), out_(resolved) {}

const ParamDecl& Params::decl(const std::string& key, bool derived_given) const {
  const ParamDecl* d = s_->find(key);
  if (!d) throw std::logic_error("field '" + key + "' of " + s_->path + " is read but not declared");
  if (d->derived != derived_given) {
    throw std::logic_error("field '" + key + "' of " + s_->path +
                           (d->derived ? " has a derived default: pass it" : " has a declared default: do not pass one"));
  }
  return *d;
}

YAML::Node Params::value_or_default(const ParamDecl& d) {
  if (d.required) return f_.get(d.name);
  YAML::Node n = f_.opt(d.name);
  if (n) return n;
  return YAML::Node(d.def);  // declared default text, read by the same converter
}

Params Params::child(const std::string& key, const std::string& what) {
  const ParamDecl& d = decl(key, false);
  if ((d.type != ParamType::Map && d.type != ParamType::Any) || d.section.empty())
    throw std::logic_error(s_->path + "." + key + " is not a section");
  YAML::Node in = d.required ? f_.get(key) : f_.opt(key);
  if (!in) {
    in = YAML::Node(YAML::NodeType::Map);  // absent optional section: its defaults apply
    out_[key] = YAML::Node(YAML::NodeType::Map);
  }
  return Params(d.section, in, f_.file_for(key), what.empty() ? what_ + "." + key : what, out_[key]);
}

Params Params::item(const std::string& key, std::size_t i, const std::string& what) {
  const ParamDecl& d = decl(key, false);
  if (d.type != ParamType::List || d.section.empty()) throw std::logic_error(s_->path + "." + key + " is not a list of sections");
  YAML::Node list = f_.get(key);
  return Params(d.section, list[i], f_.file_for(key), what.empty() ? what_ + "." + key + "[]" : what, out_[key][i]);
}

bool Params::has(const std::string& key) const {
  if (!s_->find(key)) throw std::logic_error("field '" + key + "' of " + s_->path + " is tested but not declared");
  return f_.has(key);
}

// Raw access needs a declaration, whatever its default.
YAML::Node Params::get(const std::string& key) {
  if (!s_->find(key)) throw std::logic_error("field '" + key + "' of " + s_->path + " is read but not declared");
  return f_.get(key);
}

YAML::Node Params::opt(const std::string& key) {
  if (!s_->find(key)) throw std::logic_error("field '" + key + "' of " + s_->path + " is read but not declared");
  return f_.opt(key);
}

std::string Params::str(const std::string& key) {
  const ParamDecl& d = decl(key, false);
  std::string v = as_string(value_or_default(d), f_.file_for(key), what_ + "." + key);
  record(key, v);
  return v;
}

std::string Params::str(const std::string& key, const std::string& derived) {
  decl(key, true);
  YAML::Node n = f_.opt(key);
  std::string v = n ? as_string(n, f_.file_for(key), what_ + "." + key) : derived;
  record(key, v);
  return v;
}

std::int64_t Params::integer(const std::string& key) {
  const ParamDecl& d = decl(key, false);
  std::int64_t v = as_int(value_or_default(d), f_.file_for(key), what_ + "." + key);
  record(key, std::to_string(v));
  return v;
}

std::int64_t Params::positive(const std::string& key) {
  std::int64_t v = integer(key);
  if (v < 1) fail(key, "must be a positive integer, got " + std::to_string(v));
  return v;
}

std::int64_t Params::positive(const std::string& key, std::int64_t derived) {
  decl(key, true);
  YAML::Node n = f_.opt(key);
  std::int64_t v = n ? as_int(n, f_.file_for(key), what_ + "." + key) : derived;
  if (v < 1) fail(key, "must be a positive integer, got " + std::to_string(v));
  record(key, std::to_string(v));
  return v;
}

double Params::num(const std::string& key) {
  const ParamDecl& d = decl(key, false);
  double v = as_number(value_or_default(d), f_.file_for(key), what_ + "." + key);
  record(key, resolved_number(v));
  return v;
}

double Params::num(const std::string& key, double derived) {
  decl(key, true);
  YAML::Node n = f_.opt(key);
  double v = n ? as_number(n, f_.file_for(key), what_ + "." + key) : derived;
  record(key, resolved_number(v));
  return v;
}

bool Params::boolean(const std::string& key) {
  const ParamDecl& d = decl(key, false);
  bool v = as_bool(value_or_default(d), f_.file_for(key), what_ + "." + key);
  record(key, v ? "true" : "false");
  return v;
}

double Params::qty(const std::string& key) {
  const ParamDecl& d = decl(key, false);
  if (d.type != ParamType::Quantity) throw std::logic_error(s_->path + "." + key + " is not a quantity");
  double v = as_quantity(value_or_default(d), f_.file_for(key), d.dim, what_ + "." + key);
  record(key, resolved_quantity(v, d.dim));
  return v;
}

void Params::check_choice(const ParamDecl& d, const std::string& v) const {
  if (std::find(d.choices.begin(), d.choices.end(), v) != d.choices.end()) return;
  std::string list;
  for (const auto& c : d.choices) list += (list.empty() ? "" : ", ") + c;
  fail(d.name, "'" + v + "' is not one of: " + list);
}

double Params::qty(const std::string& key, double derived) {
  const ParamDecl& d = decl(key, true);
  if (d.type != ParamType::Quantity) throw std::logic_error(s_->path + "." + key + " is not a quantity");
  YAML::Node n = f_.opt(key);
  double v = n ? as_quantity(n, f_.file_for(key), d.dim, what_ + "." + key) : derived;
  record(key, resolved_quantity(v, d.dim));
  return v;
}

std::string Params::choice(const std::string& key) {
  const ParamDecl& d = decl(key, false);
  std::string v = as_string(value_or_default(d), f_.file_for(key), what_ + "." + key);
  check_choice(d, v);
  record(key, v);
  return v;
}

std::string Params::choice(const std::string& key, const std::string& derived) {
  const ParamDecl& d = decl(key, true);
  YAML::Node n = f_.opt(key);
  std::string v = n ? as_string(n, f_.file_for(key), what_ + "." + key) : derived;
  if (n) check_choice(d, v);
  record(key, v);
  return v;
}

void Params::set_resolved(const std::string& key, const std::string& text) {
  if (!s_->find(key)) throw std::logic_error("field '" + key + "' of " + s_->path + " is not declared");
  record(key, text);
}

}  // namespace llmsim
