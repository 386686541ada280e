#pragma once
// Names of the temporary files atomic writes go through, chosen so that a
// later run can tell which are left over: ".NAME.palsim-tmp.PID.N.HOST" beside
// the file NAME they will replace (PID the writing process, N its count of
// temporary files, HOST the machine, since directories may be shared).
#include <string>

namespace palsim {

// A new temporary name for replacing `target` (a path), unique within this
// process and among live processes on this host.
std::string temp_path_for(const std::string& target);

// This machine's host name ("localhost" when it has none): files on shared
// directories record it beside a pid.
const std::string& host_name();

// Whether process `pid` of this host exists (a zombie counts).
bool process_exists(long pid);

// Removes the temporary files of `target` that processes of this host which
// no longer exist left behind (killed between create and rename). Best
// effort: a file that cannot be removed is left alone.
void remove_stale_temps(const std::string& target);

}  // namespace palsim
