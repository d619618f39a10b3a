// Trace readers. Every row is checked: a bad row is a positioned InputError (FILE:LINE:COL),
// never a silently skipped request.
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/core/paths.h"
#include "sim/spec/chip.h"
#include "sim/traces/request.h"
#include "sim/traces/trace_rows.h"

namespace llmsim {
namespace {

struct Field {
  std::string text;
  int col = 1;  // 1-based column where it starts
};

std::vector<Field> split_csv(const std::string& line) {
  std::vector<Field> out;
  size_t start = 0;
  while (true) {
    size_t c = line.find(',', start);
    Field f;
    f.col = static_cast<int>(start) + 1;
    f.text = line.substr(start, c == std::string::npos ? std::string::npos : c - start);
    // Trim blanks so "1, 2, 3" reads.
    size_t a = f.text.find_first_not_of(" \t"), b = f.text.find_last_not_of(" \t");
    if (a == std::string::npos) {
      f.text.clear();
    } else {
      f.col += static_cast<int>(a);
      f.text = f.text.substr(a, b - a + 1);
    }
    out.push_back(f);
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

[[noreturn]] void bad(const std::string& file, int line, int col, const std::string& msg) {
  throw InputError({file, line, col}, msg);
}

std::int64_t tokens(const std::string& file, int line, const Field& f, const char* what) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(f.text.c_str(), &end, 10);
  if (f.text.empty() || *end != 0 || errno == ERANGE) {
    bad(file, line, f.col, std::string(what) + ": expected a whole number of tokens, got '" + f.text + "'");
  }
  if (v < 1) bad(file, line, f.col, std::string(what) + ": must be at least 1 token, got " + f.text);
  if (v > kMaxTokensPerRequest) {
    bad(file, line, f.col, std::string(what) + ": " + f.text + " tokens is beyond any model's context (max " +
                               std::to_string(kMaxTokensPerRequest) + ")");
  }
  return v;
}

double seconds(const std::string& file, int line, const Field& f) {
  char* end = nullptr;
  double v = std::strtod(f.text.c_str(), &end);
  if (f.text.empty() || *end != 0 || !std::isfinite(v)) {
    bad(file, line, f.col, "arrival_s: expected seconds, got '" + f.text + "'");
  }
  if (v < 0) bad(file, line, f.col, "arrival_s: negative timestamp " + f.text);
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// "2023-11-16 18:15:46.6805900" -> 100 ns ticks since the epoch (integers keep the 7
// fractional digits exact; a double of ~1.7e9 s would round them).
std::int64_t azure_ticks(const std::string& file, int line, const Field& f) {
  int y, mo, d, h, mi, s, n = 0;
  if (std::sscanf(f.text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || mo < 1 ||
      mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    bad(file, line, f.col, "TIMESTAMP: expected 'YYYY-MM-DD HH:MM:SS.fffffff', got '" + f.text + "'");
  }
  std::int64_t frac = 0;
  std::string rest = f.text.substr(static_cast<size_t>(n));
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() < 2 || rest.size() > 8 ||
        rest.find_first_not_of("0123456789", 1) != std::string::npos) {
      bad(file, line, f.col + n, "TIMESTAMP: bad fraction '" + rest + "'");
    }
    std::string digits = rest.substr(1) + std::string(8 - rest.size(), '0');
    frac = std::stoll(digits);
  }
  std::int64_t secs = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                      h * 3600 + mi * 60 + s;
  return secs * 10000000 + frac;
}

}  // namespace

TraceOptions parse_trace_options(Params& f, const Doc& doc) {
  TraceOptions o;
  std::string rel = f.str("file");
  o.file = doc.resolve(rel);
  if (FILE* fp = std::fopen(o.file.c_str(), "r")) {
    std::fclose(fp);
  } else if (!rel.empty() && rel[0] != '/') {
    // Shipped workloads name traces relative to the project root.
    std::string alt = project_root() + "/" + rel;
    if (FILE* fp2 = std::fopen(alt.c_str(), "r")) {
      std::fclose(fp2);
      o.file = alt;
    } else {
      f.fail("file", "trace file '" + rel + "' not found (relative to the workload or the project root)");
    }
  }
  // Absolute in config.resolved.yaml, so the file is found from anywhere.
  if (const std::string abs = real_path(o.file); !abs.empty()) f.set_resolved("file", abs);
  o.format = f.choice("format");
  o.offset = f.integer("offset");
  if (o.offset < 0) f.fail("offset", "must be >= 0");
  o.limit = f.integer("limit");
  if (o.limit < 0) f.fail("limit", "must be >= 0 (0 = the whole trace)");
  o.time_scale = f.num("time_scale");
  if (!(o.time_scale > 0)) f.fail("time_scale", "must be > 0 (0.5 replays the trace twice as fast)");
  o.start = f.qty("start");
  if (o.start < 0) f.fail("start", "must be >= 0");
  f.finish();
  return o;
}

nlohmann::json parse_json_line(const std::string& line, const std::string& name, int lineno) {
  try {
    return nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    bad(name, lineno, static_cast<int>(e.byte), std::string("malformed JSON line: ") + e.what());
  } catch (const nlohmann::json::exception& e) {
    // Not a parse_error: number overflow ("1e400") is out_of_range.406 (found by
    // fuzz/trace_jsonl_fuzz.cpp).
    bad(name, lineno, 1, std::string("malformed JSON line: ") + e.what());
  }
}

namespace {

// A JSON-lines row: {"arrival_s", "prompt_tokens", "output_tokens"} (jsonl) or Mooncake's
// {timestamp, input_length, output_length, hash_ids} (its block ids into `ids`). Returns
// the row's time in seconds.
double read_json_row(const std::string& line, const std::string& name, int lineno, const TraceOptions& o, Request& r,
                     std::vector<std::uint64_t>& ids) {
  const nlohmann::json j = parse_json_line(line, name, lineno);
  if (o.format == "mooncake") return read_mooncake_row(j, name, lineno, r, ids);
  if (!j.is_object()) bad(name, lineno, 1, "expected an object {\"arrival_s\", \"prompt_tokens\", \"output_tokens\"}");
  for (const char* k : {"arrival_s", "prompt_tokens", "output_tokens"}) {
    if (!j.contains(k) || !j[k].is_number()) bad(name, lineno, 1, std::string("missing or non-numeric '") + k + "'");
  }
  const double t = seconds(name, lineno, {j["arrival_s"].dump(), 1});
  r.prompt_tokens = tokens(name, lineno, {j["prompt_tokens"].dump(), 1}, "prompt_tokens");
  r.output_tokens = tokens(name, lineno, {j["output_tokens"].dump(), 1}, "output_tokens");
  return t;
}

// Azure's clock: 100 ns ticks, taken relative to the first row kept (`row` == offset).
struct AzureClock {
  std::int64_t first = 0, prev = -1;
};

// A CSV row: arrival_s,prompt_tokens,output_tokens (csv) or Azure's
// TIMESTAMP,ContextTokens,GeneratedTokens. Returns the row's time in seconds (Azure's
// already relative to the first row kept).
double read_csv_row(const std::string& line, const std::string& name, int lineno, const TraceOptions& o,
                    std::int64_t row, AzureClock& clock, Request& r) {
  auto fs = split_csv(line);
  if (fs.size() != 3) bad(name, lineno, 1, "expected 3 columns, found " + std::to_string(fs.size()));
  double t = 0;
  if (o.format == "azure") {
    std::int64_t ticks = azure_ticks(name, lineno, fs[0]);
    if (clock.prev >= 0 && ticks < clock.prev) bad(name, lineno, fs[0].col, "TIMESTAMP goes backwards");
    clock.prev = ticks;
    if (row == o.offset) clock.first = ticks;
    t = static_cast<double>(ticks - clock.first) * 1e-7;
  } else {
    t = seconds(name, lineno, fs[0]);
  }
  const char* pn = o.format == "azure" ? "ContextTokens" : "prompt_tokens";
  const char* on = o.format == "azure" ? "GeneratedTokens" : "output_tokens";
  r.prompt_tokens = tokens(name, lineno, fs[1], pn);
  r.output_tokens = tokens(name, lineno, fs[2], on);
  return t;
}

// The first non-blank line of a CSV trace: its header, or (plain csv only) a first data row.
// True when the line is a header to skip.
bool skip_csv_header(const std::string& line, const std::string& name, int lineno, const TraceOptions& o) {
  std::string want =
      o.format == "azure" ? "TIMESTAMP,ContextTokens,GeneratedTokens" : "arrival_s,prompt_tokens,output_tokens";
  bool numeric = o.format == "csv" && (std::isdigit(static_cast<unsigned char>(line[0])) || line[0] == '-');
  if (numeric) return false;
  if (line != want) bad(name, lineno, 1, "expected the header '" + want + "' (format: " + o.format + ")");
  return true;
}

}  // namespace

std::vector<Request> read_trace_text(const std::string& text, const std::string& name, const TraceOptions& o,
                                     PrefixKeys* keys) {
  std::vector<Request> out;
  std::vector<std::uint64_t> ids;  // a mooncake row's block ids
  if (keys) *keys = PrefixKeys{o.format == "mooncake" ? kMooncakeBlockTokens : 0, {}};
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  std::int64_t row = 0;  // data rows seen
  AzureClock azure;
  double first_s = 0, prev_s = -1;
  const bool json_lines = o.format == "jsonl" || o.format == "mooncake";
  bool header_done = json_lines;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (lineno == 1 && line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line = line.substr(3);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (!header_done) {
      header_done = true;
      if (skip_csv_header(line, name, lineno, o)) continue;
    }
    // Rows past the limit are not read (nor validated): a slice of a big trace is cheap.
    if (o.limit > 0 && static_cast<std::int64_t>(out.size()) >= o.limit) break;
    Request r;
    double t =
        json_lines ? read_json_row(line, name, lineno, o, r, ids) : read_csv_row(line, name, lineno, o, row, azure, r);
    if (o.format != "azure") {
      if (prev_s >= 0 && t < prev_s) {
        bad(name, lineno, 1, std::string(o.format == "mooncake" ? "timestamp" : "arrival_s") +
                                 " goes backwards (rows must be in arrival order)");
      }
      prev_s = t;
      if (row == o.offset) first_s = t;
      t -= first_s;
    }
    if (row++ < o.offset) continue;
    r.id = out.size();
    r.arrival = o.start + t * o.time_scale;
    if (!representable_time(r.arrival)) {
      bad(name, lineno, 1, "arrival at " + format_quantity(r.arrival, Dim::Time) + " (after start and time_scale) is past " +
                               horizon_text());
    }
    if (keys && o.format == "mooncake") append_prefix_keys(ids, name, lineno, r, *keys);
    out.push_back(r);
  }
  if (out.empty()) bad(name, lineno, 1, "trace has no requests" + std::string(o.offset ? " after offset" : ""));
  return out;
}

std::vector<Request> read_trace(const TraceOptions& o, PrefixKeys* keys) {
  std::ifstream f(o.file, std::ios::binary);
  if (!f) throw InputError({o.file, 0, 0}, "cannot read trace file");
  std::stringstream ss;
  ss << f.rdbuf();
  return read_trace_text(ss.str(), o.file, o, keys);
}

}  // namespace llmsim
