// [offload][inference] KV offload tiers through the binary (issue 14 item 4 checks): a
// working set larger than HBM keeps more hits with a host DDR tier; every fetch costs
// latency + bytes / bandwidth with the bytes of a cache entry derived by hand from the
// model; bad tiers are input errors with their position.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "cli_outcome.h"

namespace test_kv_offload_cli {

using namespace llmsim_test;

namespace {

struct Scratch {
  std::string path;
  explicit Scratch(const std::string& tag) : path(make_tmpdir(tag)) {}
  ~Scratch() { std::system(("rm -rf '" + path + "'").c_str()); }
};

// The first 600 requests of the conversation trace, Llama 3.1 70B fp8, TP 2 x 4 replicas
// on a DGX H100: ~0.4M tokens of KV per replica against 7M prompt tokens.
std::string workload(const std::string& dir, const std::string& name, const std::string& offload) {
  std::ofstream(dir + "/" + name) << "kind: inference\nmodel: llama-3.1-70b\ndtype: fp8\nparallelism: {tp: 2}\n"
                                     "scheduler: {prefix_caching: true"
                                  << offload
                                  << "}\ntrace: {file: workloads/traces/mooncake-conversation-2025.jsonl, format: "
                                     "mooncake, limit: 600}\n";
  return dir + "/" + name;
}

nlohmann::json run_summary(const std::string& wl, const std::string& out) {
  Outcome o = run_cli("run --quiet -t topologies/dgx-h100.yaml -w " + wl + " -o " + out);
  INFO(o.text);
  REQUIRE(o.rc == 0);
  return nlohmann::json::parse(slurp(out + "/summary.json"));
}

// Blocks of the first n trace rows found by an unbounded cache per replica: leading full
// blocks whose id an earlier row routed to the same replica had (round-robin over
// `replicas`: row i goes to replica i mod replicas, every request being accepted).
long long unbounded_hits(int n, int replicas) {
  std::ifstream in(kRoot + "/workloads/traces/mooncake-conversation-2025.jsonl");
  std::string line;
  std::vector<std::set<long long>> seen(static_cast<std::size_t>(replicas));
  long long hits = 0;
  for (int r = 0; r < n && std::getline(in, line); ++r) {
    auto j = nlohmann::json::parse(line);
    auto& s = seen[static_cast<std::size_t>(r % replicas)];
    const long long full = j["input_length"].get<long long>() / 512;
    long long i = 0;
    while (i < full && s.count(j["hash_ids"][i].get<long long>())) ++i;
    hits += i;
    for (long long k = 0; k < full; ++k) s.insert(j["hash_ids"][k].get<long long>());
  }
  return hits;
}

}  // namespace

TEST_CASE("kv offload: a DDR tier keeps the hits HBM cannot hold and each fetch costs bytes over bandwidth",
          "[offload][inference]") {
  Scratch scratch("offload-ddr");
  const std::string& d = scratch.path;
  auto none = run_summary(workload(d, "none.yaml", ""), d + "/none");
  // Host DDR at 50 GB/s (below the H100's 64 GB/s PCIe Gen5 x16, which then does not
  // bound it) with 20 us per fetch; an SSD behind it at 100 GB/s, which the PCIe port
  // bounds to 64 GB/s.
  auto ddr = run_summary(workload(d, "ddr.yaml",
                                  ", kv_offload: {tiers: [{tier: ddr, capacity: 8 GB, bandwidth: 50 GB/s, latency: 20 us}, "
                                  "{tier: ssd, capacity: 1 TB, bandwidth: 100 GB/s, latency: 100 us}]}"),
                         d + "/ddr");
  const auto& pn = none["inference"]["prefix_cache"];
  const auto& pd = ddr["inference"]["prefix_cache"];
  REQUIRE(none["inference"]["completed"] == 600);
  REQUIRE(ddr["inference"]["completed"] == 600);
  const double h_none = pn["block_hit_rate"].get<double>(), h_ddr = pd["block_hit_rate"].get<double>();
  const long long unbounded = unbounded_hits(600, 4);
  INFO("hit rate without offload " << h_none << ", with " << h_ddr << "; unbounded hits " << unbounded << ", run "
                                   << pd["block_hits"]);
  REQUIRE(ddr["inference"]["replicas"] == 4);
  CHECK(h_ddr > 1.2 * h_none);
  // With 1 TB of SSD per device nothing is dropped: every evicted entry is still found, so
  // the hierarchy finds exactly what an unbounded cache per replica would.
  CHECK(pd["block_hits"].get<long long>() == unbounded);
  CHECK(pn["block_hits"].get<long long>() < unbounded);
  const auto& tiers = pd["offload"]["tiers"];
  REQUIRE(tiers.size() == 2);
  CHECK(tiers[1]["entries_dropped"] == 0);
  // One cache entry per device: 512 tokens x 80 layers x (8 KV heads / tp 2) x 128 x 2 (K
  // and V) x 1 byte (fp8) = 41,943,040 bytes; over the replica's 2 devices, twice that.
  const double entry = 512.0 * 80 * 4 * 128 * 2;
  CHECK(pd["offload"]["entry_bytes_per_device"].get<double>() == Approx(entry));
  const double bw[2] = {50e9, 64e9}, lat[2] = {20e-6, 100e-6};
  long long fetched_blocks = 0;
  for (int t = 0; t < 2; ++t) {
    const auto& x = tiers[t];
    const double n = x["entries_fetched"].get<double>(), f = x["fetches"].get<double>();
    INFO("tier " << x["tier"] << ": " << f << " fetches of " << n << " entries");
    CHECK(x["fetch_s"].get<double>() == Approx(f * lat[t] + n * entry / bw[t]).epsilon(1e-9));
    CHECK(x["bytes_fetched"].get<double>() == Approx(n * 2 * entry));
    CHECK(x["bandwidth_bytes_per_s"].get<double>() == bw[t]);
    // Stores cost time too: each device writes its share of every stored entry at the
    // tier's bandwidth (over PCIe into DDR, host-side from DDR down to the SSD).
    CHECK(x["store_s"].get<double>() == Approx(x["bytes_stored"].get<double>() / 2 / bw[t]).epsilon(1e-9));
    fetched_blocks += x["block_hits"].get<long long>();
  }
  CHECK(tiers[0]["fetches"].get<long long>() > 0);
  CHECK(tiers[0]["bytes_stored"].get<double>() > 0);
  // Every offload hit of a first admission was fetched (re-admissions fetch too).
  CHECK(tiers[0]["entries_fetched"].get<long long>() + tiers[1]["entries_fetched"].get<long long>() >= fetched_blocks);
  // Fetches at 50 GB/s cost less than recomputing those blocks: mean TTFT does not rise.
  CHECK(ddr["inference"]["ttft_s"]["mean"].get<double>() <= none["inference"]["ttft_s"]["mean"].get<double>());
}

TEST_CASE("disaggregated prefix caching: the decode pool receives the whole prompt's KV, cached prefix included",
          "[offload][inference]") {
  Scratch scratch("offload-disagg");
  const std::string& d = scratch.path;
  std::ofstream(d + "/dis.yaml") << "kind: inference\nmodel: llama-3.1-70b\ndtype: fp8\nparallelism: {tp: 2}\n"
                                    "scheduler: {prefix_caching: true}\ndisaggregation: {prefill_replicas: 2}\n"
                                    "trace: {file: workloads/traces/mooncake-conversation-2025.jsonl, format: "
                                    "mooncake, limit: 100}\n";
  auto s = run_summary(d + "/dis.yaml", d + "/out");
  const auto& inf = s["inference"];
  REQUIRE(inf["completed"] == 100);
  // Every request with more than one output token moves: its prompt x the KV of a token
  // over the whole model, 80 layers x 8 KV heads x 128 x 2 (K, V) x 1 byte (fp8).
  std::ifstream in(kRoot + "/workloads/traces/mooncake-conversation-2025.jsonl");
  std::string line;
  double tokens = 0;
  long long moved = 0;
  for (int r = 0; r < 100 && std::getline(in, line); ++r) {
    auto j = nlohmann::json::parse(line);
    if (j["output_length"].get<long long>() <= 1) continue;
    tokens += j["input_length"].get<double>();
    ++moved;
  }
  CHECK(inf["kv_transfers"].get<long long>() == moved);
  CHECK(inf["prefix_cache"]["prefill_tokens_saved"].get<double>() > 0);  // the prefill pool did hit
  CHECK(inf["kv_transfer_bytes"].get<double>() == Approx(tokens * 80 * 8 * 128 * 2));
}

TEST_CASE("kv offload input errors name the field", "[offload][inference]") {
  Scratch scratch("offload-err");
  const std::string& d = scratch.path;
  std::ofstream(d + "/t.yaml") << "device: nvidia-h100-sxm\ncount: 1\n";
  std::ofstream(d + "/sn.yaml") << "device: sambanova-sn40l\ncount: 1\n";
  auto run = [&](const std::string& topo, const std::string& offload) {
    std::ofstream(d + "/w.yaml") << "kind: inference\nmodel: llama-3.1-8b\nscheduler: {prefix_caching: true, kv_offload: "
                                 << offload
                                 << "}\nrequests: {count: 2, arrival: at-once, prompt_tokens: 10, output_tokens: 2, "
                                    "shared_prefix: {tokens: 64}}\n";
    return run_cli("run --quiet -t " + d + "/" + topo + " -w " + d + "/w.yaml -o " + d + "/o");
  };
  one_error_line(run("t.yaml", "{tiers: [{tier: hdd, capacity: 1 TB, bandwidth: 1 GB/s}]}"),
                 "unknown tier 'hdd' (known: ddr, cxl, ssd, remote, or a memory tier of nvidia-h100-sxm: sram, hbm)");
  one_error_line(run("t.yaml", "{tiers: [{tier: ddr, capacity: 50 GB/s, bandwidth: 50 GB/s}]}"), "capacity");
  one_error_line(run("t.yaml", "{tiers: [{tier: ddr, capacity: 1 TB}]}"), "an off-chip tier needs its bandwidth");
  one_error_line(run("t.yaml", "{tiers: [{tier: hbm}]}"), "'hbm' is nvidia-h100-sxm's KV cache tier itself");
  one_error_line(run("t.yaml", "{tiers: [{tier: ddr, capacity: 1 TB, bandwidth: 50 GB/s, link: nvlink-c2c}]}"),
                 "nvidia-h100-sxm lists no 'nvlink-c2c' port");
  one_error_line(run("sn.yaml", "{tiers: [{tier: ddr, link: pcie}]}"), "'ddr' is on the chip");
  one_error_line(run("t.yaml", "{tier: [{tier: ddr}]}"), "tier");
  std::ofstream(d + "/w.yaml") << "kind: inference\nmodel: llama-3.1-8b\nscheduler: {kv_offload: {tiers: [{tier: ddr, "
                                  "capacity: 1 TB, bandwidth: 50 GB/s}]}}\nrequests: {count: 2, arrival: at-once, "
                                  "prompt_tokens: 10, output_tokens: 2}\n";
  one_error_line(run_cli("run --quiet -t " + d + "/t.yaml -w " + d + "/w.yaml -o " + d + "/o"),
                 "set prefix_caching: true");
}

}  // namespace test_kv_offload_cli
