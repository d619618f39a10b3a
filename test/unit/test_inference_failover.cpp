// [faults] Serving with a replica failing mid-run (docs/faults.md "Serving"): every request
// completes on the replicas left, retries and the time lost are in requests.csv.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "cli_support.h"

using namespace llmsim_test;

namespace {

struct Row {
  std::string status;
  long replica = -1, retries = 0;
  double e2e = 0, lost = 0;
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
  std::vector<Row> rows;
  for (std::string line; std::getline(ss, line);) {
    const auto c = split(line);
    Row r;
    r.status = c[st];
    if (!c[rep].empty()) r.replica = std::stol(c[rep]);
    r.retries = std::stol(c[ret]);
    if (!c[e2e].empty()) r.e2e = std::stod(c[e2e]);
    r.lost = std::stod(c[lost]);
    rows.push_back(r);
  }
  return rows;
}

int serve(const std::string& flags, std::vector<Row>& rows, std::string& header, std::string& log) {
  const std::string dir = make_tmpdir("failover");
  const int rc = run_llmsim("run -t test/data/netdyn/ring4.yaml -w test/data/faults/serve-4-replicas.yaml -o '" + dir +
                                "/out' --quiet " + flags,
                            dir + "/log");
  log = slurp(dir + "/log");
  if (exists(dir + "/out/requests.csv")) rows = read_requests(slurp(dir + "/out/requests.csv"), header);
  std::system(("rm -rf '" + dir + "'").c_str());
  return rc;
}

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
