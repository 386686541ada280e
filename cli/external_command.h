#pragma once
// Runs another program (sbatch, gnuplot) directly, without a shell: each
// argument reaches it as one word whatever it holds (a path with a quote or a
// space cannot become a second command), and the child starts with the
// default signal dispositions and an empty signal mask (palsim ignores SIGPIPE
// for itself so that a closed stdout is an error it reports; a child that
// inherited that would not stop on a closed pipe).
#include <string>
#include <vector>

namespace palsim::cli {

// The child's exit status; 127 when it could not be started (not installed),
// 128 + N when it was killed by signal N.
int run_external(const std::vector<std::string>& argv, bool discard_stderr = false);

}  // namespace palsim::cli
