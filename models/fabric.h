// Links and switches as SystemC modules, bound per the Boost.Graph topology. One
// `FabricModule` per fabric of the topology (top-level, named after it: `nvlink`, `ib`,
// `ici`), holding a `SwitchModule` per switch vertex it created (`nvlink.sw0`) and a
// `LinkModule` per link (`nvlink.gpu0-sw0`). Every device has one `NetworkPort` child per
// incident link (`gpu0.nvlink0`). A link's two sc_ports bind to the sc_exports of its
// endpoints (a device port or a switch), so the module graph is the topology graph and
// SystemC checks it is fully bound before the run. Timing stays in the flow-level
// FlowNet (sim/net/flow_net.h); a link module is where a link's state is addressed by
// name (bandwidth, up/down: the fault and power issues drive it through here).
#pragma once
#include <systemc>

#include <memory>
#include <string>
#include <vector>

#include "sim/topo/module_names.h"

namespace llmsim {

class Topology;

// What a link end sees of the thing it is plugged into.
class LinkEndIf : public virtual sc_core::sc_interface {
 public:
  virtual int vertex() const = 0;  // topology vertex id
};

// A device's network port, or a switch: an sc_export other modules' links bind to.
class LinkEnd : public sc_core::sc_module, public LinkEndIf {
 public:
  LinkEnd(const sc_core::sc_module_name& name, int vertex);
  int vertex() const override { return vertex_; }
  sc_core::sc_export<LinkEndIf> end;

 private:
  int vertex_;
};

using NetworkPort = LinkEnd;   // gpu0.nvlink0
using SwitchModule = LinkEnd;  // nvlink.sw0

class LinkModule : public sc_core::sc_module {
 public:
  LinkModule(const sc_core::sc_module_name& name, int link);
  int link() const { return link_; }
  sc_core::sc_port<LinkEndIf> a, b;  // bound to the link's endpoints (direction 0 = a -> b)

 private:
  int link_;
};

class FabricModule : public sc_core::sc_module {
 public:
  // `link_names`: link_module_names(topo), computed once for every fabric.
  FabricModule(const sc_core::sc_module_name& name, const Topology& topo, int fabric,
               const std::vector<std::string>& link_names);
  const std::vector<std::unique_ptr<SwitchModule>>& switches() const { return switches_; }
  const std::vector<std::unique_ptr<LinkModule>>& links() const { return links_; }

 private:
  std::vector<std::unique_ptr<SwitchModule>> switches_;
  std::vector<std::unique_ptr<LinkModule>> links_;
};


}  // namespace llmsim
