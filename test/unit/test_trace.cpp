// [trace] Trace readers (Azure 2023, CSV, JSONL) and synthetic arrivals.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include "sim/traces/request.h"

namespace test_trace {

using namespace llmsim;

namespace {
TraceOptions opts(const std::string& fmt) {
  TraceOptions o;
  o.format = fmt;
  return o;
}
std::string located(const std::string& text, const std::string& fmt) {
  try {
    read_trace_text(text, "t.csv", opts(fmt));
  } catch (const InputError& e) {
    return e.located();
  }
  return "no error";
}
SyntheticSpec synth(const std::string& yaml) {
  Doc d = parse_doc(yaml, "w.yaml");
  Params f("workload:inference.requests", d, "requests");
  return parse_synthetic(f);
}
}  // namespace

TEST_CASE("azure trace: the shipped conversation trace", "[trace]") {
  TraceOptions o = opts("azure");
  o.file = std::string(LLMSIM_SOURCE_DIR) + "/workloads/traces/azure-conv-2023.csv";
  auto all = read_trace(o);
  REQUIRE(all.size() == 19366);  // the last row has no trailing newline
  CHECK(all[0].arrival == 0.0);
  CHECK(all[0].prompt_tokens == 374);
  CHECK(all[0].output_tokens == 44);
  // Second row 18:15:50.9951690 - 18:15:46.6805900 = 4.3145790 s, exact to 100 ns.
  CHECK(all[1].arrival == Approx(4.314579).margin(1e-9));
  // Last row 19:14:08.4025270: 58 min 21.72 s after the first.
  CHECK(all.back().arrival == Approx(3501.721937).margin(1e-6));
  o.offset = 1;
  o.limit = 2;
  o.time_scale = 0.5;
  o.start = 10;
  auto s = read_trace(o);
  REQUIRE(s.size() == 2);
  CHECK(s[0].id == 0);
  CHECK(s[0].arrival == 10.0);
  CHECK(s[0].prompt_tokens == 396);
  CHECK(s[1].arrival == Approx(10 + 0.5 * (all[2].arrival - all[1].arrival)));
}

TEST_CASE("csv and jsonl traces", "[trace]") {
  auto c = read_trace_text("arrival_s,prompt_tokens,output_tokens\n0.5,100,10\n1.25,200,20\n", "t.csv", opts("csv"));
  REQUIRE(c.size() == 2);
  CHECK(c[1].arrival == 0.75);  // re-based to the first kept row
  CHECK(c[1].output_tokens == 20);
  auto j = read_trace_text("{\"arrival_s\": 0, \"prompt_tokens\": 7, \"output_tokens\": 3}\n"
                           "{\"arrival_s\": 2, \"prompt_tokens\": 8, \"output_tokens\": 4}\n",
                           "t.jsonl", opts("jsonl"));
  REQUIRE(j.size() == 2);
  CHECK(j[1].arrival == 2.0);
  CHECK(j[1].prompt_tokens == 8);
}

TEST_CASE("bad trace rows are FILE:LINE:COL errors", "[trace]") {
  const std::string h = "arrival_s,prompt_tokens,output_tokens\n";
  CHECK(located(h + "1,10,10\n0.5,10,10\n", "csv") == "t.csv:3:1: arrival_s goes backwards (rows must be in arrival order)");
  CHECK(located(h + "-1,10,10\n", "csv").rfind("t.csv:2:1: arrival_s: negative", 0) == 0);
  CHECK(located(h + "0,0,10\n", "csv").rfind("t.csv:2:3: prompt_tokens: must be at least 1", 0) == 0);
  CHECK(located(h + "0,10,99999999999\n", "csv").rfind("t.csv:2:6: output_tokens:", 0) == 0);
  CHECK(located(h + "0,10\n", "csv").rfind("t.csv:2:1: expected 3 columns", 0) == 0);
  CHECK(located(h + "0,ten,10\n", "csv").rfind("t.csv:2:3: prompt_tokens: expected a whole", 0) == 0);
  const std::string a = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  CHECK(located(a + "2023-11-16 18:15:46.6805900,1,1\n2023-11-16 18:15:45.0,1,1\n", "azure").rfind("t.csv:3:1: TIMESTAMP goes backwards", 0) == 0);
  CHECK(located(a + "2023-13-16 18:15:46,1,1\n", "azure").rfind("t.csv:2:1: TIMESTAMP: expected", 0) == 0);
  CHECK(located("time,p,o\n", "azure").rfind("t.csv:1:1: expected the header", 0) == 0);
  CHECK(located("{\"arrival_s\": 0}\n", "jsonl").rfind("t.csv:1:1: missing", 0) == 0);
  CHECK(located(a, "azure").find("no requests") != std::string::npos);
}

TEST_CASE("synthetic arrivals: rates, burstiness, token distributions", "[trace]") {
  auto p = synth("count: 20000\narrival: poisson\nrate: 10/s\nprompt_tokens: 512\noutput_tokens: {dist: uniform, min: 1, max: 99}\n");
  auto r = generate_requests(p, 7);
  REQUIRE(r.size() == 20000);
  double span = r.back().arrival;
  CHECK(19999.0 / span == Approx(10.0).epsilon(0.03));
  double out_mean = 0;
  std::int64_t lo = 1000, hi = 0;
  for (const auto& q : r) {
    CHECK(q.prompt_tokens == 512);
    out_mean += static_cast<double>(q.output_tokens) / r.size();
    lo = std::min(lo, q.output_tokens);
    hi = std::max(hi, q.output_tokens);
  }
  CHECK(out_mean == Approx(50.0).epsilon(0.02));
  CHECK(lo == 1);
  CHECK(hi == 99);
  // Same seed, same stream; another seed, another stream.
  auto r2 = generate_requests(p, 7);
  CHECK(r2[12345].arrival == r[12345].arrival);
  CHECK(generate_requests(p, 8)[5].arrival != r[5].arrival);

  // Gamma with CV 4: same mean rate, inter-arrival CV ~4.
  auto g = generate_requests(synth("count: 50000\narrival: gamma\nrate: 5/s\ncv: 4\nprompt_tokens: 1\noutput_tokens: 1\n"), 3);
  double m = 0, m2 = 0;
  for (size_t i = 1; i < g.size(); ++i) {
    double d = g[i].arrival - g[i - 1].arrival;
    m += d;
    m2 += d * d;
  }
  m /= (g.size() - 1);
  m2 /= (g.size() - 1);
  CHECK(m == Approx(0.2).epsilon(0.05));
  CHECK(std::sqrt(m2 - m * m) / m == Approx(4.0).epsilon(0.1));

  auto ln = generate_requests(synth("count: 40000\narrival: fixed\nrate: 100/s\nprompt_tokens: {dist: lognormal, mean: 1000, sigma: 0.8}\noutput_tokens: {dist: lognormal, median: 200, sigma: 0.5}\n"), 1);
  CHECK(ln[3].arrival == Approx(0.03));
  double pm = 0;
  std::vector<std::int64_t> outs;
  for (const auto& q : ln) {
    pm += static_cast<double>(q.prompt_tokens) / ln.size();
    outs.push_back(q.output_tokens);
  }
  std::nth_element(outs.begin(), outs.begin() + outs.size() / 2, outs.end());
  CHECK(pm == Approx(1000).epsilon(0.03));
  CHECK(static_cast<double>(outs[outs.size() / 2]) == Approx(200).epsilon(0.03));

  auto once = generate_requests(synth("count: 3\narrival: at-once\nprompt_tokens: 1\noutput_tokens: 1\n"), 1);
  CHECK(once[2].arrival == 0.0);
  CHECK_THROWS_WITH(synth("count: 3\narrival: gamma\nrate: 1/s\nprompt_tokens: 1\noutput_tokens: 1\n"), Catch::Contains("cv"));
  CHECK_THROWS_WITH(synth("count: 3\nrate: 1\nprompt_tokens: 1\noutput_tokens: 1\n"), Catch::Contains("rate"));
}

TEST_CASE("trace: options from YAML, file resolution, and `llmsim check` reporting a bad row", "[trace]") {
  std::string dir = "/tmp/llmsim-trace-" + std::to_string(::getpid());
  REQUIRE(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()) == 0);
  {
    std::ofstream(dir + "/t.csv") << "arrival_s,prompt_tokens,output_tokens\n0,10,5\n0.5,20,5\n0.25,30,5\n";
  }
  Doc d = parse_doc("file: t.csv\nformat: csv\nlimit: 2\ntime_scale: 2\nstart: 1 s\n", dir + "/w.yaml");
  Params f("workload:inference.trace", d, "trace");
  TraceOptions o = parse_trace_options(f, d);
  CHECK(o.file == dir + "/t.csv");  // relative to the workload file
  CHECK(o.limit == 2);
  CHECK(o.start == 1.0);
  auto r = read_trace(o);  // the bad 3rd row is past the limit: never read
  REQUIRE(r.size() == 2);
  CHECK(r[1].arrival == 2.0);  // 1 s + 0.5 s x 2
  Doc bad = parse_doc("file: nope.csv\n", dir + "/w.yaml");
  Params fb("workload:inference.trace", bad, "trace");
  CHECK_THROWS_WITH(parse_trace_options(fb, bad), Catch::Contains("not found"));
  Doc typo = parse_doc("file: t.csv\nlimt: 3\n", dir + "/w.yaml");
  Params ft("workload:inference.trace", typo, "trace");
  CHECK_THROWS_WITH(parse_trace_options(ft, typo), Catch::Contains("limt"));

  // Whole trace through `llmsim check`: the backwards timestamp is reported at its row.
  {
    std::ofstream(dir + "/w.yaml") << "kind: inference\nmodel: llama-3.1-8b\ntrace: {file: t.csv, format: csv}\n";
  }
  std::string cmd = std::string(LLMSIM_BINARY) + " check " + dir + "/w.yaml 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[1024];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  CHECK(WEXITSTATUS(pclose(p)) == 2);
  CHECK_THAT(out, Catch::Contains(dir + "/t.csv:4:1: arrival_s goes backwards"));
  CHECK(std::system(("rm -rf " + dir).c_str()) == 0);
}

}  // namespace test_trace
