// Random small simulations for the `simulate` fuzz target and the [property] tests: bytes
// decode into a topology (2-16 devices, one or two fabrics of any regular shape), a workload
// (a microbench of random ops, collectives, send/recv pairs and `events:` link and clock
// changes, or a small serving run of a generated model with synthetic requests) as YAML
// text, fed through the normal loaders. The decoder is total: any byte string gives a
// scenario (missing bytes read as 0), so libFuzzer mutates scenarios, not YAML syntax.
// Values stay in sane ranges (bandwidths 1-1000 GB/s, sizes up to 64 MiB, up to 12
// requests of a few dozen tokens) so one run takes milliseconds; refusals are fine too.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "fuzz/scenario_workloads.h"

namespace llmsim_fuzz {

namespace detail {

// dims of a torus / mesh over n devices: 1-3 factors multiplying to n.
inline std::vector<int> factor_dims(int n, ByteReader& in) {
  std::vector<int> dims;
  int left = n;
  int want = in.range(1, 3);
  for (int d = 0; d < want - 1; ++d) {
    std::vector<int> divs;
    for (int k = 1; k <= left; ++k) if (left % k == 0) divs.push_back(k);
    int f = in.pick(divs);
    dims.push_back(f);
    left /= f;
  }
  dims.push_back(left);
  return dims;
}

inline std::string list_text(const std::vector<int>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

inline std::string fabric_yaml(int n, const std::string& name, ByteReader& in, Fabric& f) {
  static const std::vector<std::string> shapes = {"switch", "ring", "fully-connected", "torus", "mesh", "fat-tree"};
  f.name = name;
  f.shape = in.pick(shapes);
  std::string s = "  - name: " + name + "\n    type: " + in.pick(std::vector<std::string>{"nvlink", "infiniband", "ici", "pcie"}) +
                  "\n    shape: " + f.shape + "\n";
  s += "    link: {bandwidth: " + std::to_string(in.range(1, 1000)) + " GB/s, latency: " +
       std::to_string(in.range(0, 5000)) + " ns}\n";
  if (in.range(0, 3) == 0) s += "    parallel: " + std::to_string(in.range(1, 3)) + "\n";
  if (in.range(0, 3) == 0) s += "    switch_latency: " + std::to_string(in.range(0, 2000)) + " ns\n";
  if (f.shape == "switch") {
    if (in.range(0, 2) == 0) s += "    planes: " + std::to_string(in.range(1, 2)) + "\n";
    f.group = n;
  } else if (f.shape == "torus" || f.shape == "mesh") {
    s += "    dims: " + list_text(factor_dims(n, in)) + "\n";
  } else if (f.shape == "fat-tree") {
    s += "    radix: " + std::to_string(2 * in.range(2, 8)) + "\n";
    if (in.flip()) s += "    oversubscription: " + std::to_string(in.range(1, 3)) + "\n";
  }
  return s;
}

}  // namespace detail

inline Scenario decode_scenario(const std::uint8_t* data, std::size_t size) {
  ByteReader in(data, size);
  Scenario sc;
  sc.inference = in.range(0, 3) == 0;
  // Chips and (a subset of) the dtypes each runs (topologies/devices/).
  static const std::vector<std::pair<std::string, std::vector<std::string>>> chips = {
      {"nvidia-h100-sxm", {"bf16", "fp16", "fp8", "int8", "fp32"}}, {"nvidia-b200", {"bf16", "fp8", "fp16"}},
      {"amd-mi300x", {"bf16", "fp16", "fp8", "int8"}}, {"google-tpu-v4", {"bf16", "int8"}},
      {"intel-gaudi3", {"bf16", "fp8"}}, {"groq-lpu", {"fp16", "int8"}}};
  int n = in.range(2, 16);
  const auto& chip = in.pick(chips);
  std::vector<detail::Fabric> fabrics(static_cast<std::size_t>(in.range(1, 2)));
  sc.topology = "name: fz\ndevice: " + chip.first + "\ncount: " + std::to_string(n) + "\nfabrics:\n";
  for (std::size_t i = 0; i < fabrics.size(); ++i) {
    sc.topology += detail::fabric_yaml(n, "f" + std::to_string(i), in, fabrics[i]);
  }
  sc.workload = sc.inference ? inference_yaml(n, chip.second, in, sc) : microbench_yaml(n, fabrics, chip.second, in, sc);
  return sc;
}

// Writes topology.yaml, workload.yaml and (serving runs) model.json into `dir`.
inline void write_scenario(const Scenario& sc, const std::string& dir) {
  auto put = [&](const std::string& name, const std::string& text) {
    std::string path = dir + "/" + name;
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
      std::fwrite(text.data(), 1, text.size(), f);
      std::fclose(f);
    }
  };
  put("topology.yaml", sc.topology);
  put("workload.yaml", sc.workload);
  if (!sc.model.empty()) put("model.json", sc.model);
}

}  // namespace llmsim_fuzz

