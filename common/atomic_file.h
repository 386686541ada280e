#pragma once
// Where results are written, decided by what the output name is:
//   a regular file (or a new name)  written atomically: a temporary file in the
//                                   same directory, flushed to disk, renamed
//                                   over the destination, so a crash leaves
//                                   the previous complete file or nothing;
//   a symbolic link                 the file it names is written that way
//                                   (the link stays a link);
//   a character device, a FIFO      written directly, as a stream;
//   "-"                             standard output, checked like a file;
//   anything else                   refused (a directory, a block device, a
//                                   socket), as is an empty name.
// Temporary files are named ".NAME.palsim-tmp.PID.N.HOST" and removed when a
// write fails; one left by a killed process is removed by the next write of
// the same file on the same host once that process is gone.
#include <string>

namespace palsim {

// Writes `contents` to `path` as above. Throws InputError naming the path
// when it cannot; the destination is then unchanged (for regular files).
void write_file_atomically(const std::string& path, const std::string& contents);

// Checks up front that `path` can be written (as above: its kind, its
// directory exists and is writable), so a long run fails before it starts
// rather than at the end. `option` names the option in messages.
void check_output_path(const std::string& path, const std::string& option);

// The file a symbolic link chain at `path` ends at (`path` itself when it is
// no link); the result may not exist yet (a dangling link is written through).
std::string resolve_output_links(const std::string& path);

// Writes `contents` to standard output and flushes it; throws InputError
// when the write fails (a full disk, a closed pipe, /dev/full).
void write_stdout(const std::string& contents);

}  // namespace palsim
