#pragma once
// Where palsim's own data is (configs/, workloads/): the defaults of --hw,
// table2's configurations and the paper's figures are files in it. An
// installed palsim finds it beside its binary (<prefix>/share/palsim); a
// palsim run from its build tree uses the source tree.
#include <string>

namespace palsim {

// The data directory (no trailing slash).
const std::string& data_dir();
// data_dir() + "/" + relative, e.g. data_path("configs/bitfusion.yaml").
std::string data_path(const std::string& relative);

// Tells where the binary holding palsim's code was loaded from and where the
// data directory is relative to the binary's directory; called before the
// first data_dir(). The executables need not call it: they are at
// /proc/self/exe, with the data at PALSIM_DATA_FROM_BIN. The Python module,
// a shared object, tells its own path and relative location.
void set_binary_location(const std::string& binary_path, const std::string& data_from_binary);

}  // namespace palsim
