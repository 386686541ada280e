#pragma once
// Refusing up front a run that would need more memory than the machine has,
// with a clear message, rather than being killed by the kernel hours later.
#include <cstdint>
#include <string>

namespace palsim {

// Physical memory of this machine in bytes.
uint64_t physical_memory_bytes();

// Throws InputError naming `what` (the option or setting responsible) when
// `needed_bytes` exceed the machine's physical memory.
void check_memory_budget(uint64_t needed_bytes, const std::string& what);

}  // namespace palsim
