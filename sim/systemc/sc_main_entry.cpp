// libsystemc.so references sc_main, and sanitizer builds link the library in
// full (Debian's gcc drops --as-needed with -fsanitize). palsim drives SystemC
// through sc_core::sc_elab_and_sim-free elaboration from its own main, so
// sc_main is never the entry point: this definition only satisfies the link.
#include <cstdio>

extern "C" int sc_main(int, char**) {
  std::fprintf(stderr, "palsim: sc_main is not an entry point of this program\n");
  return 1;
}
