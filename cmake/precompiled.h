// Headers precompiled once per build when LLMSIM_PCH is on (CMakeLists.txt): the standard
// library, Boost.Graph's adjacency list, yaml-cpp and nlohmann/json make up most of what
// each translation unit parses (measured: ~60k of ~90k preprocessed lines per file).
// Sources still include what they use: the default build does not precompile, so a
// missing include fails there.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/graph/adjacency_list.hpp>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>
