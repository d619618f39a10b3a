// [faults] Serving with a replica failing mid-run (docs/faults.md "Serving"): every request
// completes on the replicas left, retries and the time lost are in requests.csv; the same
// for a device of a disaggregated prefill or decode pool, and exit 3 when a pool is gone.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "cli_support.h"

namespace test_inference_failover {

using namespace llmsim_test;

namespace {

struct Row {
  std::string status;
  long replica = -1, retries = 0;
  double e2e = 0, lost = 0, arrival = 0, first_token = 0;
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

// requests.csv by column name (new columns are appended, so names, not positions).
std::vector<Row> read_requests(const std::string& csv, std::string& header) {
  std::stringstream ss(csv);
  std::getline(ss, header);
  const std::vector<std::string> names = split(header);
  auto col = [&](const char* n) {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == n) return i;
    FAIL("no column " << n);
    return size_t(0);
  };
  const size_t st = col("status"), rep = col("replica"), ret = col("retries"), e2e = col("e2e_s"), lost = col("retry_lost_s");
  const size_t arr = col("arrival_s"), ft = col("first_token_s");
  std::vector<Row> rows;
  for (std::string line; std::getline(ss, line);) {
    const auto c = split(line);
    Row r;
    r.status = c[st];
    if (!c[rep].empty()) r.replica = std::stol(c[rep]);
    r.retries = std::stol(c[ret]);
    if (!c[e2e].empty()) r.e2e = std::stod(c[e2e]);
    r.lost = std::stod(c[lost]);
    r.arrival = std::stod(c[arr]);
    if (!c[ft].empty()) r.first_token = std::stod(c[ft]);
    rows.push_back(r);
  }
  return rows;
}

int serve(const std::string& flags, std::vector<Row>& rows, std::string& header, std::string& log,
          const std::string& workload = "test/data/faults/serve-4-replicas.yaml", nlohmann::json* summary = nullptr) {
  const std::string dir = make_tmpdir("failover");
  const int rc = run_llmsim(
      "run -t test/data/netdyn/ring4.yaml -w " + workload + " -o '" + dir + "/out' --quiet " + flags, dir + "/log");
  log = slurp(dir + "/log");
  if (exists(dir + "/out/requests.csv")) rows = read_requests(slurp(dir + "/out/requests.csv"), header);
  if (summary && exists(dir + "/out/summary.json")) *summary = nlohmann::json::parse(slurp(dir + "/out/summary.json"));
  std::system(("rm -rf '" + dir + "'").c_str());
  return rc;
}

const std::string kDisagg = "test/data/faults/serve-disagg-4.yaml";

}  // namespace

TEST_CASE("failover: 4 replicas, one failing mid-run: every request completes", "[faults][cli][inference]") {
  std::vector<Row> plain, failed;
  std::string header, log;
  REQUIRE(serve("", plain, header, log) == 0);
  // The new columns come last, after the contract's.
  CHECK(header.size() > 20);
  CHECK(header.substr(header.size() - 20) == "retries,retry_lost_s");
  REQUIRE(plain.size() == 200);
  for (const Row& r : plain) CHECK(r.retries == 0);

  REQUIRE(serve("--fault device-down:gpu2@1s", failed, header, log) == 0);
  INFO(log);
  REQUIRE(failed.size() == 200);
  long retried = 0;
  for (const Row& r : failed) {
    CHECK(r.status == "completed");  // none lost
    if (r.retries == 0) {
      CHECK(r.lost == 0);
      continue;
    }
    ++retried;
    CHECK(r.retries == 1);
    CHECK(r.replica != 2);  // served again by a replica still up
    // The failed attempt's time is part of the request's end-to-end latency.
    CHECK(r.lost > 0);
    CHECK(r.e2e > r.lost);
  }
  // Round-robin sends every fourth request to replica 2; by 1 s (50 arrivals) it holds
  // some running or queued: at least one is re-queued.
  CHECK(retried >= 1);
  CHECK(retried <= 50);
}

TEST_CASE("failover: a replica back after its outage serves again", "[faults][cli][inference]") {
  std::vector<Row> rows;
  std::string header, log;
  REQUIRE(serve("--fault device-down:gpu2@1s+1s", rows, header, log) == 0);
  INFO(log);
  long on_two = 0;
  for (const Row& r : rows) {
    CHECK(r.status == "completed");
    on_two += r.replica == 2;
  }
  CHECK(on_two > 0);  // arrivals after 2 s are routed to it again
}

// A decode engine's requests (decoding, queued, or with their KV on the way in) lost their
// KV: each starts over at a prefill engine and is handed off again, so the hand-offs are
// exactly one per request plus one per retried request.
TEST_CASE("failover: a decode device failing mid-run: its requests start over, every one completes",
          "[faults][cli][inference]") {
  std::vector<Row> rows;
  std::string header, log;
  nlohmann::json s;
  REQUIRE(serve("--fault device-down:gpu2@1s", rows, header, log, kDisagg, &s) == 0);
  INFO(log);
  REQUIRE(rows.size() == 100);
  long retried = 0;
  for (const Row& r : rows) {
    CHECK(r.status == "completed");
    CHECK(r.retries <= 1);
    retried += r.retries;
    if (r.retries == 1) CHECK(r.e2e > r.lost);
  }
  // By 1 s about 50 requests arrived; the decode pool's round-robin gave half of those
  // past prefill to gpu2, and 128 output tokens keep them there for a while.
  CHECK(retried >= 1);
  CHECK(retried <= 50);
  CHECK(s["inference"]["kv_transfers"].get<long>() == 100 + retried);
}

TEST_CASE("failover: a prefill device failing mid-run: its requests prefill again elsewhere",
          "[faults][cli][inference]") {
  std::vector<Row> plain, rows;
  std::string header, log;
  nlohmann::json s;
  REQUIRE(serve("", plain, header, log, kDisagg) == 0);
  // A prefill takes ~14 ms every ~40 ms per engine: fail gpu0 half-way through the prefill
  // of its first request arriving after 0.5 s, so at least that one is caught.
  REQUIRE(plain.size() == 100);
  size_t k = 0;
  while (k < plain.size() && !(plain[k].replica == 0 && plain[k].arrival >= 0.5)) ++k;
  REQUIRE(k < plain.size());
  char flag[96];
  std::snprintf(flag, sizeof flag, "--fault device-down:gpu0@%.9fs", 0.5 * (plain[k].arrival + plain[k].first_token));
  REQUIRE(serve(flag, rows, header, log, kDisagg, &s) == 0);
  INFO(log);
  REQUIRE(rows.size() == 100);
  long retried = 0;
  for (const Row& r : rows) {
    CHECK(r.status == "completed");
    retried += r.retries;
    if (r.retries > 0) CHECK(r.replica == 1);  // the prefill engine left
  }
  CHECK(rows[k].retries == 1);
  CHECK(retried >= 1);
  // A retried request was either still in prefill (no hand-off yet) or had its KV moving
  // out when gpu0 failed (a second hand-off).
  CHECK(s["inference"]["kv_transfers"].get<long>() >= 100);
  CHECK(s["inference"]["kv_transfers"].get<long>() <= 100 + retried);
}

TEST_CASE("failover: a pool losing its last instance exits 3 naming the pool", "[faults][cli][inference]") {
  std::vector<Row> rows;
  std::string header, log;
  CHECK(serve("--fault device-down:gpu2@1s --fault device-down:gpu3@1.5s", rows, header, log, kDisagg) == 3);
  CHECK(log.find("device-down:gpu3") != std::string::npos);
  CHECK(log.find("decode pool has no instance left") != std::string::npos);
  CHECK(serve("--fault device-down:gpu1@0.5s --fault device-down:gpu0@1s", rows, header, log, kDisagg) == 3);
  CHECK(log.find("prefill pool has no instance left") != std::string::npos);
}

}  // namespace test_inference_failover
