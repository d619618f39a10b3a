// libsystemc.so defines main() calling sc_main(). llmsim owns main() (sim/cli/main.cpp)
// and the test runner owns its own, so SystemC's main is never used; the symbol must still
// resolve at link time. See docs/architecture.md ("SystemC and the process").
extern "C" int sc_main(int, char**) { return 1; }
