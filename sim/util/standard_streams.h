// The process's standard streams: descriptors it was started without, and standard output
// whose failed writes must not pass for success.
#pragma once

namespace pciesim {

// A process started with standard input, output or error closed (`2>&-`) gives the number
// to the next file it opens, and what it then prints to that stream would land in that file:
// a message in a lock file, the summary table in results.json. Each closed one is held open on
// /dev/null the other way round, so that using it fails as before (EBADF) and no file takes
// its number. Call it before anything opens a file.
void hold_closed_standard_descriptors();

// Sends std::cout through a buffer that keeps the reason a write to standard output failed.
void install_checked_standard_output();
// Flushes std::cout; 0, or the errno of a write to standard output that failed (EIO when the
// reason is unknown).
int standard_output_error();

} // namespace pciesim
