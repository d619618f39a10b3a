// `llmsim devices` and the chip part of `llmsim check`. (Owner: catalog work, issue 2.)
#include <iostream>

#include "sim/cli/commands.h"

namespace llmsim {

void check_chip_doc(const Doc& doc, std::ostream& out) {
  ChipSpec c = load_chip(doc);
  out << doc.path << ": chip " << c.name << " ok\n";
}

int cmd_devices(const DevicesArgs& args, std::ostream& out) {
  (void)args;
  ChipCatalog catalog(default_catalog_dir());
  for (const ChipSpec* c : catalog.all()) out << c->name << "\n";
  return 0;
}

}  // namespace llmsim
