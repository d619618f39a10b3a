#include "sim/spec/tier_model_names.h"

#include <map>
#include <set>

namespace llmsim {
namespace {
// Function-local statics: models register during static initialisation of other
// translation units, in an order C++ does not define.
std::set<std::string>& model_set() {
  static std::set<std::string> s;
  return s;
}
std::map<std::string, std::vector<std::string>>& override_map() {
  static std::map<std::string, std::vector<std::string>> m;
  return m;
}
std::set<std::string>& target_set() {
  static std::set<std::string> s;
  return s;
}
}  // namespace

bool TierModelNames::add_target(const std::string& target) {
  target_set().insert(target);
  return true;
}

std::vector<std::string> TierModelNames::targets() { return {target_set().begin(), target_set().end()}; }

bool TierModelNames::add(const std::string& model) {
  model_set().insert(model);
  return true;
}

bool TierModelNames::add_overrides(const std::string& model, const std::vector<std::string>& params) {
  override_map()[model] = params;
  return true;
}

std::vector<std::string> TierModelNames::models() { return {model_set().begin(), model_set().end()}; }

std::vector<std::string> TierModelNames::overrides(const std::string& model) {
  auto it = override_map().find(model);
  return it == override_map().end() ? std::vector<std::string>{} : it->second;
}

}  // namespace llmsim
