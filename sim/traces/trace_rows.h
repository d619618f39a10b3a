// Row parsers shared by the trace readers (sim/traces) and the training data reader
// (sim/workloads/training/data.cpp).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/traces/request.h"

namespace llmsim {

// One JSON line; a malformed one (or a number JSON cannot hold, "1e400") is a positioned
// InputError at the parser's byte (name:lineno:col).
nlohmann::json parse_json_line(const std::string& line, const std::string& name, int lineno);

// One Mooncake row {"timestamp" (ms), "input_length", "output_length", "hash_ids"}: fills
// the token counts, returns the arrival in seconds and the row's block ids in `ids`.
// Positioned InputError on anything else.
double read_mooncake_row(const nlohmann::json& j, const std::string& name, int line, Request& r,
                         std::vector<std::uint64_t>& ids);

// Appends the chained keys of `ids` to the pool and points `r` at them.
void append_prefix_keys(const std::vector<std::uint64_t>& ids, const std::string& name, int line, Request& r,
                        PrefixKeys& keys);

}  // namespace llmsim
