// Mooncake traces (Qin et al. FAST 2025 [MOONCAKE-TRACE]): JSON lines with the prompt's
// 512-token KV blocks as remapped hash ids. Every field is checked; a row whose hash_ids
// do not cover its input_length is refused rather than guessed at.
#include <climits>
#include <cmath>

#include "sim/core/error.h"
#include "sim/traces/trace_rows.h"

namespace llmsim {
namespace {

[[noreturn]] void bad(const std::string& file, int line, const std::string& msg) {
  throw InputError({file, line, 1}, msg);
}

std::int64_t whole(const nlohmann::json& j, const char* key, const std::string& file, int line, std::int64_t min) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) bad(file, line, std::string("missing or non-integer '") + key + "'");
  // Unsigned values above INT64_MAX read as negative here and are refused below.
  std::int64_t v = it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)
                       ? -1
                       : it->get<std::int64_t>();
  if (v < min) bad(file, line, std::string(key) + ": must be at least " + std::to_string(min) + ", got " + it->dump());
  return v;
}

std::uint64_t mix64(std::uint64_t x) {
  // splitmix64's finalizer (Steele et al. OOPSLA 2014): a bijection with good avalanche.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

std::uint64_t chain_block_key(std::uint64_t parent, std::uint64_t block_id) {
  return mix64(parent * 0x9e3779b97f4a7c15ULL + mix64(block_id + 0x632be59bd9b4e019ULL));
}

double read_mooncake_row(const nlohmann::json& j, const std::string& name, int line, Request& r,
                         std::vector<std::uint64_t>& ids) {
  if (!j.is_object()) bad(name, line, "expected an object {\"timestamp\", \"input_length\", \"output_length\", \"hash_ids\"}");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k != "timestamp" && k != "input_length" && k != "output_length" && k != "hash_ids") {
      bad(name, line, "unknown field '" + k + "' (mooncake rows have timestamp, input_length, output_length, hash_ids)");
    }
  }
  auto ts = j.find("timestamp");
  if (ts == j.end() || !ts->is_number()) bad(name, line, "missing or non-numeric 'timestamp' (milliseconds)");
  const double ms = ts->get<double>();
  if (!std::isfinite(ms) || ms < 0) bad(name, line, "timestamp: expected milliseconds >= 0, got " + ts->dump());
  r.prompt_tokens = whole(j, "input_length", name, line, 1);
  r.output_tokens = whole(j, "output_length", name, line, 1);
  for (auto [v, k] : {std::pair{r.prompt_tokens, "input_length"}, std::pair{r.output_tokens, "output_length"}}) {
    if (v > kMaxTokensPerRequest) {
      bad(name, line, std::string(k) + ": " + std::to_string(v) + " tokens is beyond any model's context (max " +
                          std::to_string(kMaxTokensPerRequest) + ")");
    }
  }
  auto h = j.find("hash_ids");
  if (h == j.end() || !h->is_array()) bad(name, line, "missing 'hash_ids' (a list of block ids)");
  const std::int64_t want = (r.prompt_tokens + kMooncakeBlockTokens - 1) / kMooncakeBlockTokens;
  if (static_cast<std::int64_t>(h->size()) != want) {
    bad(name, line, "hash_ids: " + std::to_string(h->size()) + " blocks, but input_length " +
                        std::to_string(r.prompt_tokens) + " needs ceil(" + std::to_string(r.prompt_tokens) + " / " +
                        std::to_string(kMooncakeBlockTokens) + ") = " + std::to_string(want));
  }
  ids.clear();
  for (const auto& x : *h) {
    if (!x.is_number_integer() || (!x.is_number_unsigned() && x.get<std::int64_t>() < 0)) {
      bad(name, line, "hash_ids: expected non-negative integers, got " + x.dump());
    }
    ids.push_back(x.get<std::uint64_t>());
  }
  return ms * 1e-3;
}

void append_prefix_keys(const std::vector<std::uint64_t>& ids, const std::string& name, int line, Request& r,
                        PrefixKeys& keys) {
  if (keys.keys.size() + ids.size() > UINT32_MAX) bad(name, line, "more than 2^32 prefix blocks in one trace");
  r.key_begin = static_cast<std::uint32_t>(keys.keys.size());
  r.key_count = static_cast<std::uint32_t>(ids.size());
  std::uint64_t parent = 0;
  for (std::uint64_t id : ids) keys.keys.push_back(parent = chain_block_key(parent, id));
}

}  // namespace llmsim
