// Internal interface of the CUDA emulator (cuda/emu/README.md): the types the driver API, the
// block scheduler, the memory table and the cuBLAS emulation share. Not a CUDA header: only the
// few values rnnrt's JCuda calls pass are defined, with the numbers of CUDA 12's cuda.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct EmuContext* CUcontext;
typedef struct EmuModule* CUmodule;
typedef struct EmuFunction* CUfunction;
typedef struct EmuStream* CUstream;
typedef struct EmuEvent* CUevent;
typedef struct EmuGraph* CUgraph;
typedef struct EmuGraphExec* CUgraphExec;

enum : int {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_CONTEXT = 201,
    CUDA_ERROR_INVALID_PTX = 218,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_NOT_READY = 600,
    CUDA_ERROR_ILLEGAL_ADDRESS = 700,
    CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    CUDA_ERROR_CONTEXT_IS_DESTROYED = 709,
    CUDA_ERROR_LAUNCH_FAILED = 719,
    CUDA_ERROR_NOT_SUPPORTED = 801,
    CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
    CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901,
    CUDA_ERROR_STREAM_CAPTURE_UNMATCHED = 903,
    CUDA_ERROR_STREAM_CAPTURE_IMPLICIT = 906,
    CUDA_ERROR_CAPTURED_EVENT = 907,
    CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD = 908,
    CUDA_ERROR_UNKNOWN = 999,
};

namespace emu {

// Prints one line "cuda-emu: ..." on stderr (printf-style): every refusal names what was wrong.
void report(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// The one lock: every API call of the driver and cuBLAS emulation holds it while it runs.
std::recursive_mutex& lock();

// ---- device memory (memory.cpp) ----
// The emulated device's size (cuMemGetInfo's total); allocations past it fail as on a full GPU.
constexpr uint64_t DEVICE_BYTES = 4ULL << 30;
// A new allocation of `bytes` (> 0) with guard pages, filled with a NaN pattern; 0 when full.
uint64_t allocate(uint64_t bytes);
// Frees an allocation by its base pointer; false when p is not one.
bool release(uint64_t p);
// Frees every allocation (the primary context was destroyed).
void release_all();
uint64_t bytes_in_use();
// Whether [p, p + bytes) lies inside one live allocation.
bool in_allocation(uint64_t p, uint64_t bytes);
// Whether p points into a live allocation or one past its end (a pointer kernels may hold).
bool points_into_allocation(uint64_t p);
// Checks the canaries around the allocations holding these pointers: a kernel wrote out of bounds.
bool canaries_intact(const std::vector<uint64_t>& pointers, std::string* which);

// ---- kernels (the host-compiled cuda/*.cu, registered by the generated kernel table) ----
struct Kernel {
    std::string name;
    bool interleaved = false;                 // threads run as fibers (barriers or warp shuffles)
    std::vector<size_t> paramSizes;           // bytes of each C++ parameter
    std::vector<bool> paramIsPointer;
    void (*fn)() = nullptr;                   // the kernel, cast
    void (*invoke)(void (*fn)(), void* const* params) = nullptr;  // unpacks params and calls it
};

std::map<std::string, Kernel>& kernels();

template <typename T>
T load_param(const void* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <typename... A, size_t... I>
void invoke_with(void (*fn)(A...), void* const* params, std::index_sequence<I...>) {
    fn(load_param<std::remove_cv_t<A>>(params[I])...);
}

template <typename... A>
void invoke_kernel(void (*fn)(), void* const* params) {
    invoke_with(reinterpret_cast<void (*)(A...)>(fn), params, std::index_sequence_for<A...>{});
}

// One per kernel, built by the generated table: records the kernel's C++ signature.
struct Registrar {
    template <typename... A>
    Registrar(const char* name, void (*fn)(A...), bool interleaved) {
        Kernel k;
        k.name = name;
        k.interleaved = interleaved;
        k.paramSizes = {sizeof(A)...};
        k.paramIsPointer = {std::is_pointer<A>::value...};
        k.fn = reinterpret_cast<void (*)()>(fn);
        k.invoke = &invoke_kernel<A...>;
        kernels()[name] = k;
    }
};

// ---- running a grid (scheduler.cpp) ----
struct Grid {
    const Kernel* kernel;
    unsigned grid[3];
    unsigned block[3];
    size_t dynamicShared;
    void* const* params;
};
// Runs every block of the grid, one block after another. On failure returns false with a message
// (a deadlock at a barrier, a fault reading or writing memory).
bool run_grid(const Grid& g, std::string* error);

// ---- streams, for the cuBLAS emulation (driver.cpp) ----
// Runs `work` on `stream` now, or records it into the stream's capture; the work returns a CUresult
// (CUDA_ERROR_ILLEGAL_ADDRESS makes the context's error sticky). `what` names it in messages.
CUresult submit(CUstream stream, const char* what, std::function<CUresult()> work);
// Retains the device's primary context for the calling library (as the CUDA runtime does).
CUresult retain_primary_for_runtime();

}  // namespace emu

namespace emu {

// ---- PTX (ptx.cpp): what the emulator reads of rnnrt's PTX, to check it against the C++ ----
struct PtxEntry {
    std::string name;
    std::vector<size_t> paramSizes;  // bytes of each .param
    unsigned maxThreads = 0;         // .maxntid (product of its dimensions), 0 when absent
    size_t staticShared = 0;         // bytes of the entry's own .shared variables
};
// The .entry functions of a PTX text; false with a message when it cannot be read.
bool parse_ptx(const std::string& text, std::vector<PtxEntry>* entries, std::string* error);

}  // namespace emu
