// Parameters declared once (gem5 Params / ns-3 Attributes style). Each YAML section has a
// table of ParamDecl {name, type, unit, default, doc, source}; the same table drives the
// loader (Params reads a field's type, unit and default from its declaration), `llmsim
// describe` (prints the tables) and OUTDIR/config.resolved.yaml (Params records every value
// as read, given or defaulted, normalised to SI base units). Reading a field that has no
// declaration is a programming error (std::logic_error), so a loader cannot accept a field
// that `describe` does not list.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/core/units.h"
#include "sim/core/yaml_doc.h"

namespace llmsim {

enum class ParamType {
  String,    // any text
  Integer,   // whole number
  Positive,  // whole number >= 1
  Number,    // real number, no unit
  Boolean,   // true | false
  Quantity,  // number with a unit of `dim` (contract "Units")
  Choice,    // one of `choices`
  Map,       // a nested section (its own table) or a free-form map
  List,      // a list (of sections or scalars)
  Any,       // a scalar or a map (e.g. a token count or a distribution)
};
const char* param_type_name(ParamType t);

struct ParamDecl {
  std::string name;
  ParamType type = ParamType::String;
  Dim dim = Dim::Size;                 // Quantity only
  bool required = true;
  // Default, as YAML text in the field's own unit ("1.0", "0 s", "hbm"). When `derived`,
  // the default is computed by the loader from other fields and `def` says how.
  std::string def;
  bool derived = false;
  std::string doc;                     // one sentence
  std::string source;                  // where the default / meaning comes from (a source key)
  std::vector<std::string> choices;    // Choice only
  // Choice whose values are a registry's names (topology shapes): read into `choices` when
  // the section is first looked up, after static initialisation has registered them all.
  std::function<std::vector<std::string>()> registered_choices;
  std::string section;                 // Map / List of maps: path of the nested table

  // Builders keep the tables one line per field.
  static ParamDecl req(std::string name, ParamType t, std::string doc);
  static ParamDecl opt(std::string name, ParamType t, std::string def, std::string doc);
  static ParamDecl derive(std::string name, ParamType t, std::string how, std::string doc);
  ParamDecl& unit(Dim d) { dim = d; return *this; }
  ParamDecl& one_of(std::vector<std::string> c) { choices = std::move(c); return *this; }
  ParamDecl& one_of_registered(std::function<std::vector<std::string>()> names) {
    registered_choices = std::move(names);
    return *this;
  }
  ParamDecl& from(std::string key) { source = std::move(key); return *this; }
  ParamDecl& nested(std::string path) { section = std::move(path); return *this; }
  std::string unit_text() const;       // "GHz" style base unit, "" when unitless
};

// One YAML map's fields: `path` is "chip", "chip.power", "chip.memory[]",
// "workload:microbench.ops[] (gemm)", ...; `kind` is what `describe KIND` selects.
struct ParamSection {
  std::string kind;  // chip | topology | workload:microbench | workload:inference
  std::string path;
  std::string doc;
  std::vector<ParamDecl> params;
  const ParamDecl* find(const std::string& name) const;  // nullptr if undeclared
};

// Sections register themselves at static-initialisation time (like workload kinds).
class ParamRegistry {
 public:
  static bool add(ParamSection s);
  // logic_error when the path was never declared (a programming error).
  static const ParamSection& section(const std::string& path);
  static std::vector<const ParamSection*> of_kind(const std::string& kind);  // declaration order
  static std::vector<std::string> kinds();
};

#define LLMSIM_DECLARE_PARAMS(ID, ...) \
  static const bool llmsim_params_##ID = ::llmsim::ParamRegistry::add(::llmsim::ParamSection __VA_ARGS__)

// Normalised text of a value as config.resolved.yaml writes it: the shortest decimal that
// reads back to the same double, in the dimension's SI base unit ("1830000000 Hz").
std::string resolved_number(double v);
std::string resolved_quantity(double v, Dim dim);

// A copy of `node` without yaml-cpp tags (the `--set` position tags) for writing out.
YAML::Node clean_copy(const YAML::Node& node);

// A strict reader of one map driven by its section's declarations. Wraps Fields (unknown
// keys, positions, did-you-mean) and writes each value it reads into `resolved()`, a copy
// of the input map in which every declared field read is replaced by its normalised value.
// Fields not read through Params (sections not migrated yet) keep their input text there.
class Params {
 public:
  Params(const std::string& section, const Doc& doc, std::string what);
  Params(const std::string& section, const YAML::Node& node, std::string file, std::string what,
         YAML::Node resolved);

  // Nested section under `key` (a Map field, or an Any field given as a map), or item `i`
  // of a List field. `what` names it in messages (default: parent's what + "." + key).
  Params child(const std::string& key, const std::string& what = "");
  Params item(const std::string& key, std::size_t i, const std::string& what = "");

  bool has(const std::string& key) const;
  YAML::Node get(const std::string& key);  // Map / List / Any fields, raw (copied as given)
  YAML::Node opt(const std::string& key);

  // Scalars: default from the declaration; the `derived` overloads supply the default of a
  // field declared with ParamDecl::derive.
  std::string str(const std::string& key);
  std::string str(const std::string& key, const std::string& derived);
  std::int64_t integer(const std::string& key);
  std::int64_t positive(const std::string& key);
  std::int64_t positive(const std::string& key, std::int64_t derived);
  double num(const std::string& key);
  double num(const std::string& key, double derived);
  bool boolean(const std::string& key);
  double qty(const std::string& key);
  double qty(const std::string& key, double derived);
  std::string choice(const std::string& key);
  std::string choice(const std::string& key, const std::string& derived);

  void finish() { f_.finish(); }
  [[noreturn]] void fail(const std::string& key, const std::string& msg) const { f_.fail(key, msg); }
  SourcePos pos() const { return f_.pos(); }
  SourcePos pos(const std::string& key) const { return f_.pos(key); }
  std::string file_for(const std::string& key) const { return f_.file_for(key); }
  const std::string& file() const { return f_.file(); }
  // For code that reads a declared Map / List field with the plain reader.
  Fields& fields() { return f_; }
  YAML::Node resolved() { return out_; }
  // Overwrites a field's resolved text (e.g. a path made absolute so the file reads back).
  void set_resolved(const std::string& key, const std::string& text);

 private:
  const ParamDecl& decl(const std::string& key, bool derived_given) const;
  YAML::Node value_or_default(const ParamDecl& d);
  void check_choice(const ParamDecl& d, const std::string& v) const;
  void record(const std::string& key, const std::string& text) { out_[key] = text; }
  const ParamSection* s_;
  Fields f_;
  std::string what_;
  YAML::Node out_;
};

}  // namespace llmsim
