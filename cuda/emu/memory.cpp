// Emulated device memory: host memory laid out so that out-of-bounds accesses show.
//
//   [guard page][front pad | allocation | back pad][guard page]
//
// The allocation is 256-byte aligned (as cuMemAlloc's) and ends less than 256 bytes before the
// guard page after it; a kernel reading or writing past either guard page faults (the scheduler
// turns that into CUDA_ERROR_ILLEGAL_ADDRESS). The pads hold a canary, checked after every kernel
// and GEMM that was given a pointer into the allocation: a write into them is reported the same
// way, a read from them gives NaN. The allocation itself starts as a NaN pattern: device memory is
// uninitialised, and a kernel that reads what nobody wrote gets NaN, not a convenient zero.
#include <sys/mman.h>
#include <unistd.h>

#include "emu.h"

namespace emu {
namespace {

constexpr uint32_t UNINITIALISED = 0x7fc0baddu;  // a quiet NaN as float
// The pads' canary: this word at every 4-byte aligned address, so that a float read from a pad is a
// NaN too (another quiet NaN than UNINITIALISED, telling the two apart in a dump).
constexpr uint32_t CANARY = 0x7fcdcdcdu;

struct Allocation {
    uint8_t* region;       // mmap'd, guard pages included
    size_t regionBytes;
    uint64_t base;         // what cuMemAlloc returned
    uint64_t bytes;
};

std::map<uint64_t, Allocation>& table() {
    static std::map<uint64_t, Allocation> t;
    return t;
}

uint64_t inUse = 0;

size_t page() {
    static size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return p;
}

// The allocation holding p (p in [base, base + bytes + extra)), or null.
const Allocation* find(uint64_t p, uint64_t extra) {
    auto& t = table();
    auto it = t.upper_bound(p);
    if (it == t.begin()) {
        return nullptr;
    }
    --it;
    const Allocation& a = it->second;
    return p < a.base + a.bytes + extra ? &a : nullptr;
}

// The canary's byte at address p (little-endian x86-64).
uint8_t canaryByte(const uint8_t* p) {
    return static_cast<uint8_t>(CANARY >> (8 * (reinterpret_cast<uintptr_t>(p) % 4)));
}

bool padsIntact(const Allocation& a) {
    const uint8_t* dataStart = a.region + page();
    const uint8_t* dataEnd = a.region + a.regionBytes - page();
    const uint8_t* base = reinterpret_cast<const uint8_t*>(a.base);
    for (const uint8_t* p = dataStart; p < base; p++) {
        if (*p != canaryByte(p)) return false;
    }
    for (const uint8_t* p = base + a.bytes; p < dataEnd; p++) {
        if (*p != canaryByte(p)) return false;
    }
    return true;
}

}  // namespace

uint64_t allocate(uint64_t bytes) {
    if (bytes == 0 || bytes > DEVICE_BYTES - inUse) {
        return 0;
    }
    size_t pg = page();
    size_t data = (bytes + 255 + pg - 1) / pg * pg;  // room for the 256-byte alignment below
    size_t regionBytes = data + 2 * pg;
    void* m = mmap(nullptr, regionBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        return 0;
    }
    uint8_t* region = static_cast<uint8_t*>(m);
    if (mprotect(region + pg, data, PROT_READ | PROT_WRITE) != 0) {
        munmap(m, regionBytes);
        return 0;
    }
    uint8_t* dataEnd = region + pg + data;
    uint64_t base = (reinterpret_cast<uint64_t>(dataEnd) - bytes) & ~uint64_t{255};
    uint32_t* pads = reinterpret_cast<uint32_t*>(region + pg);  // page-aligned
    for (size_t k = 0; k < data / 4; k++) {
        pads[k] = CANARY;
    }
    uint32_t* words = reinterpret_cast<uint32_t*>(base);
    for (uint64_t k = 0; k < bytes / 4; k++) {
        words[k] = UNINITIALISED;
    }
    table()[base] = Allocation{region, regionBytes, base, bytes};
    inUse += bytes;
    return base;
}

bool release(uint64_t p) {
    auto it = table().find(p);
    if (it == table().end()) {
        return false;
    }
    if (!padsIntact(it->second)) {
        report("cuMemFree: the bytes around the allocation at 0x%llx (%llu bytes) were overwritten: something wrote "
               "out of its bounds", static_cast<unsigned long long>(p),
               static_cast<unsigned long long>(it->second.bytes));
    }
    munmap(it->second.region, it->second.regionBytes);
    inUse -= it->second.bytes;
    table().erase(it);
    return true;
}

void release_all() {
    for (auto& e : table()) {
        munmap(e.second.region, e.second.regionBytes);
    }
    table().clear();
    inUse = 0;
}

uint64_t bytes_in_use() {
    return inUse;
}

bool in_allocation(uint64_t p, uint64_t bytes) {
    const Allocation* a = find(p, 0);
    return a != nullptr && bytes <= a->base + a->bytes - p;
}

bool points_into_allocation(uint64_t p) {
    // permissive: one past the end is a valid pointer to hold (a kernel may never dereference it)
    return find(p, 1) != nullptr;
}

bool canaries_intact(const std::vector<uint64_t>& pointers, std::string* which) {
    for (uint64_t p : pointers) {
        const Allocation* a = find(p, 1);
        if (a != nullptr && !padsIntact(*a)) {
            char buf[160];
            snprintf(buf, sizeof buf, "the allocation at 0x%llx (%llu bytes)", static_cast<unsigned long long>(a->base),
                     static_cast<unsigned long long>(a->bytes));
            *which = buf;
            return false;
        }
    }
    return true;
}

}  // namespace emu
