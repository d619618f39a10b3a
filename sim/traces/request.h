// Request streams for serving workloads: recorded traces (Azure LLM 2023, plain CSV,
// JSON lines) and synthetic arrivals. All readers validate every row (InputError FILE:LINE).
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
};

// Beyond any context window shipped to date (Llama 3.1: 131,072; Gemini 1.5: 2M tokens):
// a larger count in a trace row is a corrupt row, not a request.
constexpr std::int64_t kMaxTokensPerRequest = 10000000;

struct TraceOptions {
  std::string file;              // resolved path
  std::string format = "azure";  // azure | csv | jsonl
  std::int64_t offset = 0;       // rows skipped first
  std::int64_t limit = 0;        // rows kept (0 = all)
  double time_scale = 1.0;       // inter-arrival times multiplied by this (0.5 = twice the load)
  Seconds start = 0;             // arrival of the first kept row
};

// Parses `trace:` (file resolved against the workload's directory, then the project root).
TraceOptions parse_trace_options(Params& f, const Doc& doc);
std::vector<Request> read_trace(const TraceOptions& o);
// Same, from text (tests); `name` is used in error positions.
std::vector<Request> read_trace_text(const std::string& text, const std::string& name, const TraceOptions& o);

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
};

SyntheticSpec parse_synthetic(Params& f);
std::vector<Request> generate_requests(const SyntheticSpec& s, std::uint64_t seed);

// Deterministic samplers (own implementations: std:: distributions are implementation-defined).
double uniform01(std::mt19937_64& rng);             // [0, 1), 53 bits
double standard_normal(std::mt19937_64& rng);       // Box-Muller
double gamma_sample(std::mt19937_64& rng, double shape, double scale);  // Marsaglia-Tsang

}  // namespace llmsim
