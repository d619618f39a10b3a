// Tokenized training data (docs/training.md "Data"): document token counts in dataset
// order, read from a lengths trace (JSON lines or CSV) or drawn from a seeded lognormal,
// and packed into seq_len sequences. Timing needs only the lengths: a packed sequence's
// GEMMs cost seq_len tokens whatever it holds, its attention (with document masking) the
// sum over its documents, and padding costs compute without training on anything.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sim/core/params.h"
#include "sim/core/yaml_doc.h"

namespace llmsim {

struct TrainingData {
  std::string source = "none";                // none (every sequence one full document) | file | synthetic
  std::string file;                           // resolved path (source file)
  std::string format = "jsonl";               // jsonl | csv
  std::string packing = "concat";             // concat | pad | best-fit
  std::int64_t window = 1000;                 // best-fit: documents packed together
  std::string attention = "document-masked";  // document-masked | causal (over the whole packed sequence)
  double median = 0, sigma = 0;               // synthetic: lognormal document lengths
  std::int64_t max_tokens = 0;                // synthetic: longer draws are clamped
  std::vector<std::int64_t> documents;        // source file: token counts in dataset order
  bool enabled() const { return source != "none"; }
  // Document masking changes the attention cost; padding and plain causal attention do not.
  bool masks_documents() const { return enabled() && packing != "pad" && attention == "document-masked"; }
};

// Parses `data:` (Params child of the workload). Reads the trace file (InputError at the
// offending line) so a bad file fails before the run.
TrainingData parse_training_data(Params& f, const Doc& doc);

// Token counts of a lengths trace: JSONL lines `{"tokens": N}`, `{"input_ids": [...]}` or a
// bare integer; CSV with a `tokens` column. `name` positions errors.
std::vector<std::int64_t> read_document_lengths_text(const std::string& text, const std::string& name,
                                                     const std::string& format);

// One packed sequence: the lengths of the document pieces it holds, in order, and its real
// (non-padding) tokens.
struct PackedSequence {
  std::vector<std::int64_t> pieces;
  std::int64_t real = 0;
};

// What packing did over the sequences drawn so far.
struct DataStats {
  double sequences = 0, positions = 0, real_tokens = 0;
  double attention_pairs = 0;       // sum over pieces of piece^2 (document-masked work)
  double full_attention_pairs = 0;  // sum over sequences of seq_len^2 (causal over the sequence)
  double documents = 0;             // pieces started (a split document counts once per piece)
  double splits = 0;                // cuts of a document across sequences (truncations)
  std::int64_t epochs = 0;          // passes over the trace begun (1 = it did not wrap)
  double padding_waste() const { return positions > 0 ? 1 - real_tokens / positions : 0; }
  // Share of the causal attention over whole sequences that document masking skips.
  double masked_attention() const { return full_attention_pairs > 0 ? 1 - attention_pairs / full_attention_pairs : 0; }
};

// The packed sequence stream, sequence after sequence (the trace repeats when it runs out,
// as another epoch). concat: documents back to back, split at seq_len boundaries
// (Megatron-LM GPTDataset); pad: one document per sequence, padded to seq_len (a longer
// document fills several sequences); best-fit: `window` documents at a time, those longer
// than seq_len cut into seq_len chunks, then every chunk placed by best-fit decreasing
// ([BFD-PACK]), the sequences emitted in the order they were opened, padded.
class SequenceStream {
 public:
  SequenceStream(const TrainingData& data, std::int64_t seq_len, std::uint64_t seed);
  PackedSequence next();
  const DataStats& stats() const { return stats_; }

 private:
  std::int64_t next_document();
  void pack_window();  // best-fit: fills pending_ with the next window's sequences
  const TrainingData& data_;
  std::vector<PackedSequence> pending_;  // best-fit: packed, not drawn yet (drawn from the back)
  std::int64_t seq_len_;
  std::mt19937_64 rng_;
  std::size_t index_ = 0;
  std::int64_t carry_ = 0;  // tokens of the current document not placed yet
  DataStats stats_;
};

}  // namespace llmsim
