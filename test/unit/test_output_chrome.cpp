// Chrome trace sink, driven by hand through a Recorder (no simulation needed): the file is
// parsed by a real JSON parser and checked for the fields and ordering Perfetto needs.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/engine/workload.h"
#include "sim/output/chrome_trace.h"
#include "sim/output/progress.h"
#include "test_output_util.h"

namespace test_output_chrome {

using namespace llmsim;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string tmpdir(const std::string& tag) {
  fs::path p = fs::temp_directory_path() / ("llmsim_out_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

SimTime us(double v) { return to_simtime(v * 1e-6); }

// A small two-device cluster: spans arrive at their end time (out of begin order).
void drive(Recorder& r) {
  int c0 = r.track("gpu0", "compute", 0);
  int h0 = r.track("gpu0", "hbm", 1);
  int c1 = r.track("gpu1", "compute", 0);
  int l01 = r.track("link gpu0->gpu1", "tx", 0);
  r.counter(h0, "occupancy", 0, 1e9);
  r.span(c0, "gemm \"big\"", "compute", us(2), us(5), "{\"flops\":1e12}");
  r.span(c0, "attention", "compute", us(0), us(2));
  r.counter(c0, "busy", us(0), 1);
  r.counter(c0, "busy", us(5), 0);
  r.span(l01, "send", "net", us(5), us(7));
  r.flow(c0, us(5), c1, us(7), 42);
  r.span(c1, "gemm", "compute", us(7), us(9.5));
  r.counter(h0, "occupancy", us(6), 3e9);
  r.async_span("queued", "request", 8, us(1), us(1));  // admitted at once: zero-length
  r.async_span("prefill", "request", 8, us(1), us(3));
  r.async_span("queued", "request", 7, us(0), us(1));
  r.async_span("prefill", "request", 7, us(1), us(5));
  r.async_span("decode", "request", 7, us(5), us(9.5));
}

}  // namespace

TEST_CASE("ps_to_us formats exact microseconds", "[output]") {
  CHECK(ps_to_us(0) == "0.000000");
  CHECK(ps_to_us(1) == "0.000001");
  CHECK(ps_to_us(1500000) == "1.500000");
  CHECK(ps_to_us(kPsPerSecond) == "1000000.000000");
  CHECK(json_escape("a\"b\\c\n") == "a\\\"b\\\\c\\n");
}

TEST_CASE("timeline.json: structure, names, per-track time order", "[output]") {
  std::string dir = tmpdir("chrome");
  Recorder r;
  ChromeTraceOptions o;
  o.path = dir + "/timeline.json";
  r.add(std::make_unique<ChromeTraceSink>(o));
  drive(r);
  CHECK_FALSE(fs::exists(o.path));  // nothing until finish: the file appears whole
  r.finish(false);
  REQUIRE(fs::exists(o.path));
  json j = json::parse(slurp(o.path));
  REQUIRE(j["traceEvents"].is_array());

  std::map<int, std::string> proc;
  std::map<std::pair<int, int>, std::string> thread;
  std::map<std::pair<int, int>, double> last_ts;
  std::map<std::string, int> count;
  for (const auto& e : j["traceEvents"]) {
    REQUIRE(e.contains("ph"));
    REQUIRE(e.contains("pid"));
    REQUIRE(e.contains("tid"));
    REQUIRE(e.contains("name"));
    std::string ph = e["ph"];
    ++count[ph];
    if (ph == "M") {
      if (e["name"] == "process_name") proc[e["pid"]] = e["args"]["name"];
      if (e["name"] == "thread_name") thread[{e["pid"], e["tid"]}] = e["args"]["name"];
      continue;
    }
    REQUIRE(e.contains("ts"));
    auto key = std::make_pair(e["pid"].get<int>(), e["tid"].get<int>());
    double ts = e["ts"];
    if (last_ts.count(key)) CHECK(ts >= last_ts[key]);
    last_ts[key] = ts;
  }
  REQUIRE(proc.size() == 4);  // gpu0, gpu1, the link, requests
  CHECK(proc[1] == "gpu0");
  CHECK(proc[2] == "gpu1");
  CHECK(proc[3] == "link gpu0->gpu1");
  CHECK(proc[4] == "requests");
  CHECK(thread[{1, 1}] == "compute");
  CHECK(thread[{1, 2}] == "hbm");
  CHECK(count["X"] == 4);
  CHECK(count["C"] == 4);
  CHECK(count["s"] == 1);
  CHECK(count["f"] == 1);
  CHECK(count["b"] == 5);
  CHECK(count["e"] == 5);
  // Phases of one request never overlap in the file: every "e" closes the span opened
  // last for that id (a zero-length phase closes before the next phase opens).
  std::map<std::string, std::vector<std::string>> open_phases;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "b") open_phases[e["id"]].push_back(e["name"]);
    if (e["ph"] == "e") {
      auto& st = open_phases[e["id"]];
      REQUIRE(!st.empty());
      CHECK(st.back() == e["name"]);
      st.pop_back();
      CHECK(st.empty());
    }
  }

  // Exact values: the span that arrived first (at its end) is second in time.
  std::vector<json> gpu0;
  for (const auto& e : j["traceEvents"])
    if (e["ph"] == "X" && e["pid"] == 1) gpu0.push_back(e);
  REQUIRE(gpu0.size() == 2);
  CHECK(gpu0[0]["name"] == "attention");
  CHECK(gpu0[0]["ts"].get<double>() == Approx(0.0));
  CHECK(gpu0[1]["name"] == "gemm \"big\"");
  CHECK(gpu0[1]["ts"].get<double>() == Approx(2.0));
  CHECK(gpu0[1]["dur"].get<double>() == Approx(3.0));
  CHECK(gpu0[1]["args"]["flops"].get<double>() == Approx(1e12));
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "C" && e["name"] == "hbm.occupancy" && e["ts"].get<double>() > 1) {
      CHECK(e["args"]["value"].get<double>() == Approx(3e9));
      CHECK(e["ts"].get<double>() == Approx(6.0));
    }
    if (e["ph"] == "f") {
      CHECK(e["id"] == 42);
      CHECK(e["bp"] == "e");
      CHECK(e["pid"] == 2);
      CHECK(e["ts"].get<double>() == Approx(7.0));
    }
  }
  CHECK(j["otherData"]["sampled"] == false);
  CHECK(j["otherData"]["events_written"] == 20);
  CHECK(llmsim_test::improperly_nested(j) == 0);
  fs::remove_all(dir);
}

TEST_CASE("timeline.json is byte-identical for identical input", "[output]") {
  std::string dir = tmpdir("chrome_det");
  std::string text[2];
  for (int i = 0; i < 2; ++i) {
    Recorder r;
    ChromeTraceOptions o;
    o.path = dir + "/t" + std::to_string(i) + ".json";
    r.add(std::make_unique<ChromeTraceSink>(o));
    drive(r);
    r.finish(false);
    text[i] = slurp(o.path);
  }
  CHECK(text[0].size() > 1000);
  CHECK(text[0] == text[1]);
  fs::remove_all(dir);
}

TEST_CASE("timeline filter: whole-name regex and time window", "[output]") {
  std::string dir = tmpdir("chrome_filter");
  Recorder r;
  ChromeTraceOptions o;
  o.path = dir + "/timeline.json";
  o.filter = "gpu0@0.000003:0.000008";  // gpu0 only, 3..8 us
  r.add(std::make_unique<ChromeTraceSink>(o));
  drive(r);
  r.finish(false);
  json j = json::parse(slurp(o.path));
  int spans = 0, counters = 0;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "process_name") CHECK((e["args"]["name"] == "gpu0" || e["args"]["name"] == "requests"));
    if (e["ph"] == "X") {
      ++spans;
      CHECK(e["name"] == "gemm \"big\"");  // attention (0..2 us) lies outside the window
    }
    if (e["ph"] == "C" && e["name"] == "hbm.occupancy") {
      ++counters;
      // The value in force when the window opens is carried to its start.
      if (e["ts"].get<double>() < 4) CHECK(e["args"]["value"].get<double>() == Approx(1e9));
    }
  }
  CHECK(spans == 1);
  CHECK(counters == 2);
  CHECK(j["otherData"]["filter"] == o.filter);
  CHECK_THROWS_AS(TrackFilter::parse("gpu[0-"), std::invalid_argument);
  CHECK_THROWS_AS(TrackFilter::parse("gpu0@1"), std::invalid_argument);
  CHECK_THROWS_AS(TrackFilter::parse("gpu0@2:1"), std::invalid_argument);
  TrackFilter f = TrackFilter::parse("gpu[0-3]@:0.5");
  CHECK(f.keeps_name("gpu3"));
  CHECK_FALSE(f.keeps_name("gpu12"));
  CHECK(f.t0 == 0);
  CHECK(f.t1 == to_simtime(0.5));
  fs::remove_all(dir);
}

TEST_CASE("size guard samples past max_events, deterministically, and says so", "[output]") {
  std::string dir = tmpdir("chrome_sample");
  Recorder r;
  std::ostringstream warn;
  ChromeTraceOptions o;
  o.path = dir + "/timeline.json";
  o.max_events = 1000;
  o.warn = &warn;
  auto sink = std::make_unique<ChromeTraceSink>(o);
  ChromeTraceSink* raw = sink.get();
  r.add(std::move(sink));
  int t = r.track("gpu0", "compute", 0);
  int h = r.track("gpu0", "hbm", 1);
  const int n = 10000;
  for (int i = 0; i < n; ++i) {
    // 1 us busy, 1 us idle: utilisation 0.5.
    r.counter(t, "busy", us(2 * i), 1);
    r.span(t, "op" + std::to_string(i), "compute", us(2 * i), us(2 * i + 1));
    r.counter(t, "busy", us(2 * i + 1), 0);
  }
  r.counter(h, "occupancy", us(1), 5);
  r.finish(false);
  CHECK(warn.str().find("warning: timeline exceeds 1000 events") != std::string::npos);
  CHECK(raw->events_seen() == 3 * n + 1);
  std::uint64_t k = raw->stride();
  CHECK(k == 32);  // 30001 events into 1000: halved until they fit
  json j = json::parse(slurp(o.path));
  CHECK(j["otherData"]["sampled"] == true);
  CHECK(j["otherData"]["sample_stride"] == k);
  int spans = 0, counters = 0;
  double mean_sum = 0;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "X") {
      // Every k-th span by emission order: op0, op32, op64, ...
      CHECK(e["name"] == "op" + std::to_string(spans * static_cast<int>(k)));
      ++spans;
    }
    if (e["ph"] == "C" && e["name"] == "compute.busy") {
      ++counters;
      mean_sum += e["args"]["value"].get<double>();
    }
  }
  CHECK(spans == (n + static_cast<int>(k) - 1) / static_cast<int>(k));
  CHECK(j["otherData"]["events_written"].get<int>() <= 1000);
  // Sampled busy reads as utilisation (time-weighted mean), not a stuck 0 or 1.
  REQUIRE(counters > 100);
  CHECK(mean_sum / counters == Approx(0.5).margin(0.02));
  fs::remove_all(dir);
}

// Numbers follow names too: tracks a model opens lazily in one instant (whichever core
// started first) must not renumber the file (--debug-tie-shuffle).
TEST_CASE("processes are numbered and ordered by natural name order, not creation order", "[output]") {
  std::string dir = tmpdir("chrome_order");
  Recorder r;
  ChromeTraceOptions o;
  o.path = dir + "/timeline.json";
  r.add(std::make_unique<ChromeTraceSink>(o));
  for (const char* p : {"gpu10", "links", "gpu2", "gpu1"}) r.span(r.track(p, "compute", 0), "op", "op", 0, 10);
  r.finish(false);
  json j = json::parse(slurp(o.path));
  std::map<int, std::string> name;
  std::map<std::string, int> rank;
  for (const auto& e : j["traceEvents"]) {
    if (e["name"] == "process_name") name[e["pid"]] = e["args"]["name"];
  }
  for (const auto& e : j["traceEvents"]) {
    if (e["name"] == "process_sort_index") rank[name[e["pid"]]] = e["args"]["sort_index"];
  }
  CHECK(name[1] == "gpu1");  // pids follow names, not creation order
  CHECK(name[3] == "gpu10");
  CHECK(rank["gpu1"] == 1);
  CHECK(rank["gpu2"] == 2);
  CHECK(rank["gpu10"] == 3);
  CHECK(rank["links"] == 4);
  fs::remove_all(dir);
}

TEST_CASE("progress line: sim time, work, events/s, ETA, silent before 2 s", "[output]") {
  WorkProgress w{500, 2000, "requests"};
  CHECK(ProgressLine::format(10.0, to_simtime(1.5), 2500000, w, EventQueue::kNever) ==
        "llmsim: sim 1.500000 s | 500/2.0k requests | 2.5M events, 250.0k events/s | ETA 0:30");
  // No workload total: the ETA comes from --max-sim-time.
  CHECK(ProgressLine::format(4.0, to_simtime(1.0), 100, WorkProgress{}, to_simtime(5.0)) ==
        "llmsim: sim 1.000000 s | 100 events, 25 events/s | ETA 0:16");
  std::ostringstream os;
  ProgressLine p(true, false, &os);
  p.update(1.0, 0, 10, w, EventQueue::kNever);
  CHECK(os.str().empty());
  p.update(2.5, 0, 10, w, EventQueue::kNever);
  p.update(3.0, 0, 10, w, EventQueue::kNever);  // within a second of the last: skipped
  p.finish();
  CHECK(os.str() == "\rllmsim: sim 0.000000 s | 500/2.0k requests | 10 events, 4 events/s | ETA 0:08\n");
  CHECK_FALSE(ProgressLine(true, true, &os).enabled());  // --quiet wins
}

TEST_CASE("spans overlapping without nesting go to extra lanes, so every thread nests", "[output]") {
  std::string dir = tmpdir("chrome_lanes");
  Recorder r;
  ChromeTraceOptions o;
  o.path = dir + "/timeline.json";
  r.add(std::make_unique<ChromeTraceSink>(o));
  int t = r.track("links", "gpu0->sw0", 0);
  r.track("links", "sw0->gpu0", 1);
  r.span(t, "A", "net", us(0), us(10));
  r.span(t, "B", "net", us(5), us(15));  // overlaps A, not inside it
  r.span(t, "C", "net", us(6), us(8));   // inside A
  r.span(t, "D", "net", us(12), us(14)); // after A, inside B's time but lane 0 is free
  r.counter(t, "utilisation", us(0), 1);
  r.finish(false);
  json j = json::parse(slurp(o.path));
  std::map<int, std::string> thread;
  std::map<std::string, int> tid_of;
  for (const auto& e : j["traceEvents"]) {
    if (e["name"] == "thread_name") thread[e["tid"]] = e["args"]["name"];
    if (e["ph"] == "X") tid_of[e["name"]] = e["tid"];
  }
  CHECK(thread[1] == "gpu0->sw0");
  CHECK(thread[2] == "sw0->gpu0");
  CHECK(thread[3] == "gpu0->sw0 (2)");  // a new tid after the process's own threads
  CHECK(tid_of["A"] == 1);
  CHECK(tid_of["B"] == 3);
  CHECK(tid_of["C"] == 1);
  CHECK(tid_of["D"] == 1);
  CHECK(llmsim_test::improperly_nested(j) == 0);
  fs::remove_all(dir);
}

}  // namespace test_output_chrome
