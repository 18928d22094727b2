// Injected I/O failures, for tests of what a failed write leaves behind.
//
// Every datastore I/O primitive (the writes of a file's bytes, fsyncs, renames into place,
// hard and symbolic links, directory creation, removals) first calls io_fault(step). A file
// whose bytes a caller's writer wrote into an AtomicFile (cfitsio, a formatter) counts as one
// write step when the AtomicFile is committed. When a
// fault is armed for that kind of step and its count comes due, the primitive fails as the
// system call would with EIO, with a message that says the failure was injected, and a
// warning "injected I/O fault" is logged. Nothing else changes: the code under test takes the
// same error path as on a failing disk.
//
// A fault is armed by arm_io_fault() (unit tests) or, at the first datastore I/O of the
// process, from the environment variable MAJORDOME_TEST_FAIL_IO=<step>:<n> (end-to-end tests
// of the real binary), e.g. `rename:3` fails the third rename. One fault at a time; it fires
// once. Process-wide and thread-safe; costs one relaxed atomic load per step when unarmed.
#pragma once

#include <string_view>

namespace majordome::datastore {

enum class IoStep { kWrite, kSync, kRename, kLink, kMkdir, kRemove };

// "write", "sync", "rename", "link", "mkdir", "remove".
std::string_view io_step_name(IoStep step);

// Arms a fault: the `nth` step of kind `step` from now on fails (nth >= 1). Replaces any
// armed fault.
void arm_io_fault(IoStep step, int nth);
// Disarms it (and ignores the environment from now on).
void disarm_io_fault();

// Called by the primitives before they act: returns EIO when the armed fault fires now, 0
// otherwise.
int io_fault(IoStep step);

}  // namespace majordome::datastore
