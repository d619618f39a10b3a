// Request streams for serving workloads: recorded traces (Azure LLM 2023, plain CSV,
// JSON lines, Mooncake with prefix-block hashes) and synthetic arrivals. All readers validate every row (InputError FILE:LINE).
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sim/core/params.h"
#include "sim/core/units.h"
#include "sim/core/yaml_doc.h"

namespace llmsim {

struct Request {
  std::uint64_t id = 0;          // 0-based, in arrival order
  Seconds arrival = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t output_tokens = 0;
  // The prompt's prefix-block keys: PrefixKeys::keys[key_begin, key_begin + key_count)
  // (an offset into one shared pool keeps Request small for hour-long traces; 0 = none).
  std::uint32_t key_begin = 0, key_count = 0;
};

// Prefix-block keys of a request stream (Mooncake hash_ids, or the shared-prefix
// generator's). Key i of a request identifies its block i TOGETHER with every block before
// it (a chained hash, as vLLM hashes a block with its parent's hash), so equal keys mean
// equal prefixes and a prefix cache can match key by key.
struct PrefixKeys {
  std::int64_t block_tokens = 0;     // tokens per hashed block (Mooncake: 512); 0 = no keys
  std::vector<std::uint64_t> keys;
  const std::uint64_t* of(const Request& r) const { return keys.data() + r.key_begin; }
};

// Chains a block id onto its parent's key (splitmix64 finalizer of the pair).
std::uint64_t chain_block_key(std::uint64_t parent, std::uint64_t block_id);

// Beyond any context window shipped to date (Llama 3.1: 131,072; Gemini 1.5: 2M tokens):
// a larger count in a trace row is a corrupt row, not a request.
constexpr std::int64_t kMaxTokensPerRequest = 10000000;

struct TraceOptions {
  std::string file;              // resolved path
  std::string format = "azure";  // azure | csv | jsonl | mooncake
  std::int64_t offset = 0;       // rows skipped first
  std::int64_t limit = 0;        // rows kept (0 = all)
  double time_scale = 1.0;       // inter-arrival times multiplied by this (0.5 = twice the load)
  Seconds start = 0;             // arrival of the first kept row
};

// Parses `trace:` (file resolved against the workload's directory, then the project root).
TraceOptions parse_trace_options(Params& f, const Doc& doc);
// `keys` (optional) receives the prefix-block keys of a mooncake trace.
std::vector<Request> read_trace(const TraceOptions& o, PrefixKeys* keys = nullptr);
// Same, from text (tests); `name` is used in error positions.
std::vector<Request> read_trace_text(const std::string& text, const std::string& name, const TraceOptions& o,
                                     PrefixKeys* keys = nullptr);
// Tokens per block of a Mooncake trace's hash_ids (Qin et al. FAST 2025 [MOONCAKE-TRACE]).
constexpr std::int64_t kMooncakeBlockTokens = 512;

// Token-count distribution of synthetic requests.
struct TokenDist {
  std::string kind = "fixed";    // fixed | uniform | lognormal
  double value = 0;              // fixed
  double min = 1, max = 0;       // uniform bounds (inclusive); also clamps lognormal when max > 0
  double mu = 0, sigma = 0;      // lognormal in log space
  std::int64_t sample(std::mt19937_64& rng) const;
  double mean() const;           // analytic mean (before rounding/clamping)
};

struct SyntheticSpec {
  std::int64_t count = 0;
  std::string arrival = "poisson";  // poisson | gamma | fixed | at-once
  double rate = 0;                  // requests per second (not for at-once)
  double cv = 1.0;                  // gamma: coefficient of variation of inter-arrival times
  TokenDist prompt, output;
  std::uint64_t seed = 1;
  // Shared system prompts: each request starts with one of `groups` prefixes of
  // `prefix_tokens` tokens (then its own prompt_tokens), hashed in blocks of prefix_block
  // tokens so prefix caching can be exercised without a trace. 0 = no keys.
  std::int64_t prefix_tokens = 0, prefix_groups = 0, prefix_block = 16;
};

SyntheticSpec parse_synthetic(Params& f);
// `keys` (optional) receives the shared-prefix block keys (when prefix_tokens > 0).
std::vector<Request> generate_requests(const SyntheticSpec& s, std::uint64_t seed, PrefixKeys* keys = nullptr);

// Deterministic samplers (own implementations: std:: distributions are implementation-defined).
double uniform01(std::mt19937_64& rng);             // [0, 1), 53 bits
double standard_normal(std::mt19937_64& rng);       // Box-Muller
double gamma_sample(std::mt19937_64& rng, double shape, double scale);  // Marsaglia-Tsang

}  // namespace llmsim
