#include "sim/workloads/training/data.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "sim/core/paths.h"
#include "sim/spec/chip.h"
#include "sim/traces/request.h"
#include "sim/traces/trace_rows.h"

namespace llmsim {
namespace {

[[noreturn]] void bad_lengths(const std::string& file, int line, int col, const std::string& msg) {
  throw InputError({file, line, col}, msg);
}

// A token count: a whole number in [1, kMaxTokensPerRequest].
std::int64_t count_of(const std::string& text, const std::string& file, int line, int col) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != 0 || errno == ERANGE) {
    bad_lengths(file, line, col, "expected a whole number of tokens, got '" + text + "'");
  }
  if (v < 1) bad_lengths(file, line, col, "a document has at least 1 token, got " + text);
  if (v > kMaxTokensPerRequest) {
    bad_lengths(file, line, col,
                text + " tokens in one document is beyond any model's context (max " +
                    std::to_string(kMaxTokensPerRequest) + "): not a token count");
  }
  return v;
}

std::int64_t jsonl_count(const std::string& line, const std::string& file, int lineno) {
  const nlohmann::json j = parse_json_line(line, file, lineno);
  if (j.is_number()) return count_of(j.dump(), file, lineno, 1);
  if (j.is_object() && j.contains("tokens")) {
    if (!j["tokens"].is_number()) bad_lengths(file, lineno, 1, "'tokens' must be a number, got " + j["tokens"].dump());
    return count_of(j["tokens"].dump(), file, lineno, 1);
  }
  if (j.is_object() && j.contains("input_ids")) {
    const auto& ids = j["input_ids"];
    if (!ids.is_array()) bad_lengths(file, lineno, 1, "'input_ids' must be a list of token ids");
    for (const auto& id : ids) {
      if (!id.is_number_integer()) bad_lengths(file, lineno, 1, "'input_ids' holds a non-integer: " + id.dump());
    }
    return count_of(std::to_string(ids.size()), file, lineno, 1);
  }
  bad_lengths(file, lineno, 1, "expected {\"tokens\": N}, {\"input_ids\": [...]} or a bare token count");
}

}  // namespace

std::vector<std::int64_t> read_document_lengths_text(const std::string& text, const std::string& name,
                                                     const std::string& format) {
  std::vector<std::int64_t> out;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  std::size_t column = std::string::npos;  // CSV: index of the `tokens` column
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (lineno == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line = line.substr(3);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (format == "jsonl") {
      out.push_back(jsonl_count(line, name, lineno));
      continue;
    }
    std::vector<std::string> cells;
    std::vector<int> cols;
    for (std::size_t start = 0;;) {
      const std::size_t c = line.find(',', start);
      std::string cell = line.substr(start, c == std::string::npos ? std::string::npos : c - start);
      const std::size_t a = cell.find_first_not_of(" \t"), b = cell.find_last_not_of(" \t");
      cells.push_back(a == std::string::npos ? "" : cell.substr(a, b - a + 1));
      cols.push_back(static_cast<int>(start + (a == std::string::npos ? 0 : a)) + 1);
      if (c == std::string::npos) break;
      start = c + 1;
    }
    if (column == std::string::npos) {
      for (std::size_t i = 0; i < cells.size(); ++i) {
        if (cells[i] == "tokens") column = i;
      }
      if (column == std::string::npos)
        bad_lengths(name, lineno, 1, "expected a header row with a 'tokens' column (format: csv)");
      continue;
    }
    if (column >= cells.size()) {
      bad_lengths(
          name, lineno, 1,
          "expected at least " + std::to_string(column + 1) + " columns, found " + std::to_string(cells.size()));
    }
    out.push_back(count_of(cells[column], name, lineno, cols[column]));
  }
  if (out.empty()) bad_lengths(name, lineno, 1, "the trace holds no documents");
  return out;
}

TrainingData parse_training_data(Params& f, const Doc& doc) {
  TrainingData d;
  Params p = f.child("data");
  const bool file = p.has("trace"), synthetic = p.has("synthetic");
  if (file && synthetic) p.fail("synthetic", "give either trace (a lengths file) or synthetic, not both");
  if (!file && !synthetic) {
    // Packing and attention describe documents. Without a source they are refused, and not
    // read: config.resolved.yaml would otherwise record defaults that a rerun refuses.
    if (p.has("packing") || p.has("attention")) {
      p.fail(p.has("packing") ? "packing" : "attention", "needs a document source: data.trace or data.synthetic");
    }
    p.finish();
    return d;
  }
  d.packing = p.choice("packing");
  // Read (and so written to config.resolved.yaml) only where it means something: a
  // defaulted window recorded for another packing would be refused when the file is rerun.
  if (d.packing == "best-fit") {
    d.window = p.positive("window");
    if (d.window > 1000000) p.fail("window", "at most 1,000,000 documents per best-fit window");
  } else if (p.has("window")) {
    p.fail("window", "only packing: best-fit uses a window");
  }
  d.attention = p.choice("attention");
  if (file) {
    d.source = "file";
    Params t = p.child("trace");
    const std::string rel = t.str("file");
    d.file = doc.resolve(rel);
    if (!std::ifstream(d.file) && !rel.empty() && rel[0] != '/' && std::ifstream(project_root() + "/" + rel)) {
      d.file = project_root() + "/" + rel;  // shipped workloads name traces from the project root
    }
    std::ifstream in(d.file, std::ios::binary);
    if (!in) t.fail("file", "trace file '" + rel + "' not found (relative to the workload or the project root)");
    if (const std::string abs = real_path(d.file); !abs.empty()) t.set_resolved("file", abs);
    d.format = t.choice("format");
    t.finish();
    std::stringstream ss;
    ss << in.rdbuf();
    d.documents = read_document_lengths_text(ss.str(), d.file, d.format);
  } else if (synthetic) {
    d.source = "synthetic";
    Params s = p.child("synthetic");
    d.median = static_cast<double>(s.positive("median_tokens"));
    d.sigma = s.num("sigma");
    if (!(d.sigma >= 0 && d.sigma <= 5)) s.fail("sigma", "lognormal sigma must be in [0, 5]");
    d.max_tokens = s.positive("max_tokens");
    s.finish();
  }
  p.finish();
  return d;
}

SequenceStream::SequenceStream(const TrainingData& data, std::int64_t seq_len, std::uint64_t seed)
    : data_(data), seq_len_(seq_len), rng_(seed) {}

std::int64_t SequenceStream::next_document() {
  if (data_.source == "synthetic") {
    // Lognormal with the given median: exp(ln(median) + sigma z), at least 1 token.
    const double v = std::exp(std::log(data_.median) + data_.sigma * standard_normal(rng_));
    const double clamped = std::min(static_cast<double>(data_.max_tokens), std::max(1.0, std::round(v)));
    if (stats_.epochs == 0) stats_.epochs = 1;
    return static_cast<std::int64_t>(clamped);
  }
  if (index_ == 0) ++stats_.epochs;
  const std::int64_t n = data_.documents[index_];
  index_ = (index_ + 1) % data_.documents.size();
  return n;
}

// Best-fit decreasing (Ding et al., [BFD-PACK]): chunks longest first, each into the open
// sequence with the least room that still holds it (a multiset of (room, sequence) keeps
// this O(n log n)), else into a new sequence. Ties go to the earlier sequence and the
// earlier chunk, so the packing is deterministic.
void SequenceStream::pack_window() {
  std::vector<std::pair<std::int64_t, std::size_t>> chunks;  // (length, order in window)
  for (std::int64_t i = 0; i < data_.window; ++i) {
    std::int64_t n = next_document();
    stats_.splits += static_cast<double>((n - 1) / seq_len_);
    for (; n > 0; n -= seq_len_) chunks.emplace_back(std::min(n, seq_len_), chunks.size());
  }
  std::stable_sort(chunks.begin(), chunks.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<PackedSequence> bins;
  std::multiset<std::pair<std::int64_t, std::size_t>> room;  // (free tokens, bin)
  for (const auto& c : chunks) {
    auto it = room.lower_bound({c.first, 0});
    std::size_t bin = bins.size();
    if (it == room.end()) {
      bins.emplace_back();
    } else {
      bin = it->second;
      room.erase(it);
    }
    bins[bin].pieces.push_back(c.first);
    bins[bin].real += c.first;
    if (bins[bin].real < seq_len_) room.emplace(seq_len_ - bins[bin].real, bin);
  }
  pending_.assign(bins.rbegin(), bins.rend());
}

PackedSequence SequenceStream::next() {
  PackedSequence s;
  if (data_.packing == "best-fit") {
    if (pending_.empty()) pack_window();
    s = std::move(pending_.back());
    pending_.pop_back();
  } else if (data_.packing == "pad") {
    if (carry_ == 0) carry_ = next_document();
    s.real = std::min(carry_, seq_len_);
    s.pieces.push_back(s.real);
    carry_ -= s.real;
    if (carry_ > 0) stats_.splits += 1;
  } else {
    while (s.real < seq_len_) {
      if (carry_ == 0) carry_ = next_document();
      const std::int64_t piece = std::min(carry_, seq_len_ - s.real);
      s.pieces.push_back(piece);
      s.real += piece;
      carry_ -= piece;
    }
    if (carry_ > 0) stats_.splits += 1;  // the last document continues in the next sequence
  }
  const double L = static_cast<double>(seq_len_);
  stats_.sequences += 1;
  stats_.positions += L;
  stats_.real_tokens += static_cast<double>(s.real);
  stats_.full_attention_pairs += L * L;
  for (std::int64_t piece : s.pieces) {
    stats_.attention_pairs += static_cast<double>(piece) * static_cast<double>(piece);
    stats_.documents += 1;
  }
  return s;
}

}  // namespace llmsim
