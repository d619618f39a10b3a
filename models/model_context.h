// What a model sees of the simulation it belongs to: the event queue, the recorder, the
// topology and the other devices (a network delivers to their ports). Simulation
// (sim/engine/simulation.h) implements it; models depend on this narrow view, not on the
// engine, so models/ sits below sim/engine/ (docs/architecture.md "Layers").
#pragma once
#include "sim/core/event_queue.h"
#include "sim/output/trace_sink.h"
#include "sim/topo/topology.h"

namespace llmsim {

class Device;

class ModelContext {
 public:
  virtual ~ModelContext() = default;
  virtual EventQueue& queue() = 0;
  virtual SimTime now() const = 0;
  virtual Recorder& recorder() = 0;
  virtual const Topology& topo() const = 0;
  virtual int num_devices() const = 0;
  virtual Device& device(int i) = 0;
};

}  // namespace llmsim
