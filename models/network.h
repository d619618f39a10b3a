// The network module: links and switches of the topology, flow-level transfers.
#pragma once
#include <systemc>

namespace llmsim {

class Simulation;

class Network : public sc_core::sc_module {
 public:
  Network(const sc_core::sc_module_name& name, Simulation& sim);

 private:
  Simulation& sim_;
};

}  // namespace llmsim
