// A one-device simulation for tests of device-level models (streams, tiers, arbiter): the
// device runs on the Simulation's EventQueue, driven by queue().run() without SystemC.
#pragma once
#include <cstdint>
#include <string>

#include "models/device.h"
#include "sim/engine/simulation.h"

namespace llmsim_test {

// A one-vertex topology (no links) holding `chip` as device `name`.
inline llmsim::Topology one_device(const llmsim::ChipSpec& chip, const std::string& name = "gpu0") {
  llmsim::Topology t;
  t.name = "single";
  t.device_chip.push_back(&chip);
  llmsim::VertexInfo v;
  v.name = name;
  v.device = 0;
  t.vertices.push_back(v);
  return t;
}

// SystemC module names must be unique in a process: each rig gets its own.
inline std::string unique_module_name(const std::string& stem) {
  static int n = 0;
  return stem + std::to_string(++n);
}

// The shipped catalog, loaded once per test process.
inline llmsim::ChipCatalog& catalog() {
  static llmsim::ChipCatalog c(llmsim::default_catalog_dir());
  return c;
}

// An m x n x k GEMM in the chip's 16-bit type.
inline llmsim::Op gemm(std::int64_t m, std::int64_t n, std::int64_t k) {
  llmsim::Op op;
  op.kind = llmsim::OpKind::Gemm;
  op.m = m;
  op.n = n;
  op.k = k;
  op.dtype = "auto";
  return op;
}

struct DeviceRig {
  llmsim::Topology topo;
  llmsim::Simulation sim;
  llmsim::Device dev;
  explicit DeviceRig(const llmsim::ChipSpec& chip, const std::string& stem = "rig")
      : topo(one_device(chip)), sim(topo, llmsim::RunOptions{}), dev(unique_module_name(stem).c_str(), 0, chip, sim) {}
};

}  // namespace llmsim_test
