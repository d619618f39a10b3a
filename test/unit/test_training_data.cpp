// [training] Tokenized training data (sim/workloads/training/data.h): the lengths trace
// readers, packing into seq_len sequences, and document-masked attention cost, each
// checked against numbers worked out here by hand.
#include <catch2/catch.hpp>

#include "sim/core/error.h"
#include "sim/core/yaml_doc.h"
#include "sim/spec/chip.h"
#include "sim/workloads/training/config.h"
#include "sim/workloads/training/data.h"
#include "sim/workloads/training/lowering.h"

namespace test_training_data {

using namespace llmsim;

namespace {

// "FILE:LINE:COL: message" of the error reading `text`, "" when it reads.
std::string error_of(const std::string& text, const std::string& name, const std::string& format) {
  try {
    read_document_lengths_text(text, name, format);
  } catch (const InputError& e) {
    return e.located();
  }
  return "";
}

TrainingData docs(std::vector<std::int64_t> lengths, const std::string& packing) {
  TrainingData d;
  d.source = "file";
  d.packing = packing;
  d.documents = std::move(lengths);
  return d;
}

}  // namespace

TEST_CASE("lengths traces read JSONL counts, id lists, bare integers and a CSV tokens column", "[training]") {
  CHECK(read_document_lengths_text("{\"tokens\": 5}\n{\"input_ids\": [1, 2, 3]}\n\n7\n", "t.jsonl", "jsonl") ==
        std::vector<std::int64_t>{5, 3, 7});
  CHECK(read_document_lengths_text("id,tokens\na,12\nb, 30\n", "t.csv", "csv") == std::vector<std::int64_t>{12, 30});
  CHECK_THAT(error_of("{\"tokens\": 5}\n{\"text\": \"hi\"}\n", "t.jsonl", "jsonl"),
             Catch::StartsWith("t.jsonl:2:1: ") && Catch::Contains("expected {\"tokens\": N}"));
  CHECK_THAT(error_of("4\nfour\n", "t.jsonl", "jsonl"), Catch::StartsWith("t.jsonl:2:"));
  CHECK_THROWS_WITH(read_document_lengths_text("0\n", "t.jsonl", "jsonl"), Catch::Contains("at least 1 token"));
  CHECK_THROWS_WITH(read_document_lengths_text("{\"input_ids\": [1, \"x\"]}\n", "t.jsonl", "jsonl"),
                    Catch::Contains("non-integer"));
  CHECK_THROWS_WITH(read_document_lengths_text("id,len\n1,2\n", "t.csv", "csv"), Catch::Contains("'tokens' column"));
  CHECK_THAT(error_of("tokens\n12\n1.5\n", "t.csv", "csv"), Catch::StartsWith("t.csv:3:1: "));
  CHECK_THROWS_WITH(read_document_lengths_text("\n", "t.jsonl", "jsonl"), Catch::Contains("no documents"));
}

TEST_CASE("concat packing fills every sequence, splitting documents at seq_len", "[training]") {
  const TrainingData d = docs({3000, 6000, 9000}, "concat");
  SequenceStream s(d, 8192, 1);
  // 3000 + 5192 of 6000 | 808 + 7384 of 9000 | 1616 of 9000, then the trace repeats: 3000 + 3576 of 6000.
  CHECK(s.next().pieces == std::vector<std::int64_t>{3000, 5192});
  CHECK(s.next().pieces == std::vector<std::int64_t>{808, 7384});
  const PackedSequence third = s.next();
  CHECK(third.pieces == std::vector<std::int64_t>{1616, 3000, 3576});
  CHECK(third.real == 8192);
  CHECK(s.stats().epochs == 2);
  CHECK(s.stats().padding_waste() == 0);
  const double pairs = 3000.0 * 3000 + 5192.0 * 5192 + 808.0 * 808 + 7384.0 * 7384 + 1616.0 * 1616 + 3000.0 * 3000 + 3576.0 * 3576;
  CHECK(s.stats().masked_attention() == Approx(1 - pairs / (3 * 8192.0 * 8192)));
}

TEST_CASE("best-fit packing places whole documents by best-fit decreasing within a window", "[training]") {
  // Window of 6 documents into 8192-token sequences, by hand: 10000 is cut into 8192 +
  // 1808 (the only cut); then longest first: 8192 opens #0 (full), 5000 opens #1 (3192
  // left), 4000 opens #2 (4192 left), 3000 goes where the least room still holds it (#1:
  // 192 left), 2500 into #2 (1692 left), 1808 into #2 does not fit (1692) nor #1 (192):
  // opens #3, 1000 into #2 (692 left).
  TrainingData d = docs({5000, 10000, 3000, 2500, 4000, 1000}, "best-fit");
  d.window = 6;
  SequenceStream s(d, 8192, 1);
  CHECK(s.next().pieces == std::vector<std::int64_t>{8192});
  CHECK(s.next().pieces == std::vector<std::int64_t>{5000, 3000});
  CHECK(s.next().pieces == std::vector<std::int64_t>{4000, 2500, 1000});
  CHECK(s.next().pieces == std::vector<std::int64_t>{1808});
  CHECK(s.stats().splits == 1);
  CHECK(s.stats().real_tokens == 25500);
  CHECK(s.stats().padding_waste() == Approx(1 - 25500.0 / (4 * 8192)));
}

TEST_CASE("best-fit places every token once and truncates no more documents than concat", "[training]") {
  // A lognormal trace (median 1,000 tokens, sigma 1.2, a tail past seq_len): over whole
  // windows, best-fit emits each document's tokens exactly once, cuts only documents
  // longer than seq_len (ceil(n / seq_len) - 1 cuts each, the minimum any packing into
  // seq_len sequences needs), which concat cuts too, plus concat's cut at almost every
  // sequence boundary [BFD-PACK].
  TrainingData synth;
  synth.source = "synthetic";
  synth.median = 1000;
  synth.sigma = 1.2;
  synth.max_tokens = 131072;
  std::vector<std::int64_t> lengths;
  synth.packing = "pad";
  SequenceStream draw(synth, 1 << 30, 7);  // one whole document per sequence: the raw lengths
  for (int i = 0; i < 2000; ++i) lengths.push_back(draw.next().real);
  const std::int64_t L = 4096;
  double tokens = 0, minimum_cuts = 0;
  for (std::int64_t n : lengths) {
    tokens += static_cast<double>(n);
    minimum_cuts += static_cast<double>((n - 1) / L);
  }
  TrainingData bf = docs(lengths, "best-fit");
  bf.window = 500;  // four whole windows
  SequenceStream b(bf, L, 1);
  double placed = 0;
  while (b.stats().epochs < 2 && placed < tokens) {
    const PackedSequence q = b.next();
    std::int64_t sum = 0;
    for (std::int64_t x : q.pieces) sum += x;
    CHECK(sum == q.real);
    CHECK(q.real <= L);
    placed += static_cast<double>(q.real);
  }
  CHECK(placed == tokens);  // every token once: none lost, none twice
  CHECK(b.stats().splits == minimum_cuts);
  const TrainingData cd = docs(lengths, "concat");  // the stream keeps a reference
  SequenceStream c(cd, L, 1);
  while (c.stats().real_tokens < tokens) c.next();
  CHECK(b.stats().splits <= c.stats().splits);
  // Padding: best-fit's is a few percent on such a trace; pad packing (one document per
  // sequence) wastes most of each sequence.
  const TrainingData pd = docs(lengths, "pad");
  SequenceStream p(pd, L, 1);
  while (p.stats().real_tokens < tokens) p.next();
  CHECK(b.stats().padding_waste() < 0.05);
  CHECK(b.stats().padding_waste() < p.stats().padding_waste());
}

TEST_CASE("pad packing puts one document per sequence and reports the padding", "[training]") {
  const TrainingData d = docs({1000, 2000, 10000}, "pad");
  SequenceStream s(d, 4096, 1);
  for (int i = 0; i < 4; ++i) s.next();  // 1000 | 2000 | 4096 | 4096 (of 10000); 1808 left
  CHECK(s.stats().real_tokens == 1000 + 2000 + 4096 + 4096);
  CHECK(s.stats().padding_waste() == Approx(1 - (1000.0 + 2000 + 4096 + 4096) / (4 * 4096.0)));
  CHECK(s.next().real == 10000 - 2 * 4096);
}

TEST_CASE("synthetic document lengths have the requested median and are reproducible", "[training]") {
  TrainingData d;
  d.source = "synthetic";
  d.packing = "pad";
  d.median = 500;
  d.sigma = 1.0;
  d.max_tokens = 1000000;
  SequenceStream a(d, 1000000, 7), b(d, 1000000, 7);
  std::vector<std::int64_t> v;
  for (int i = 0; i < 4001; ++i) {
    const auto x = a.next().real;
    CHECK(x == b.next().real);
    v.push_back(x);
  }
  std::nth_element(v.begin(), v.begin() + 2000, v.end());
  // The median of exp(ln 500 + z) is 500; 4,001 draws put the sample median within ~4 %.
  CHECK(static_cast<double>(v[2000]) == Approx(500).epsilon(0.1));
}

TEST_CASE("document-masked attention over many short documents costs what their causal blocks cost", "[training]") {
  ChipCatalog cat(std::string(LLMSIM_SOURCE_DIR) + "/topologies/devices");
  Topology none;
  const TrainingConfig c = parse_training(
      parse_doc("kind: training\nmodel: llama-3.1-8b\nseq_len: 8192\nglobal_batch: 8\n", "t.yaml"), none);
  TrainingLowering low(c, cat.get("nvidia-h100-sxm"));
  const AttentionCost whole = low.attention_cost({8192});
  const AttentionCost eight = low.attention_cost(std::vector<std::int64_t>(8, 1024));
  // Causal attention over L tokens covers L(L+1)/2 query-key pairs: eight 1,024-token
  // documents cover 8 x 1024 x 1025 / 2 against 8192 x 8193 / 2, about 1/8.
  const double ratio = 8.0 * 1024 * 1025 / (8192.0 * 8193);
  CHECK(eight.forward.flops / whole.forward.flops == Approx(ratio).epsilon(0.02));
  CHECK(eight.forward.compute < whole.forward.compute / 4);
  CHECK(eight.backward.compute < whole.backward.compute / 4);
  // Backward: FlashAttention-2's 2.5x the forward (no recompute configured).
  CHECK(whole.backward.flops == Approx(2.5 * whole.forward.flops));
}

}  // namespace test_training_data
