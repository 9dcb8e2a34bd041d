// libcuda.so.1 for the CUDA emulator (cuda/emu/README.md): the driver API functions rnnrt calls
// through JCuda, on one emulated device whose kernels are rnnrt's cuda/*.cu compiled for the host.
//
// Every call runs synchronously under one lock: a kernel launch, copy or memset on a stream is
// done when the call returns (streams and events keep their ordering trivially; real concurrency
// between streams is not modelled). What the driver checks on a GPU is checked here, and where the
// emulator is unsure what the real driver does it is permissive (README "Strictness").
#include <sys/time.h>

#include <cstdarg>
#include <cstdio>
#include <memory>
#include <set>
#include <thread>

#include "emu.h"

namespace emu {

void report(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "cuda-emu: %s\n", buf);
    fflush(stderr);
}

std::recursive_mutex& lock() {
    static std::recursive_mutex m;
    return m;
}

std::map<std::string, Kernel>& kernels() {
    static std::map<std::string, Kernel> k;
    return k;
}

}  // namespace emu

using namespace emu;

// ---------------------------------------------------------------- objects

// One work item of a stream, recorded into a capture (and so into a graph) or run at once.
struct Node {
    std::string what;
    std::function<CUresult()> run;
};

struct Capture {
    std::thread::id thread;
    int mode;               // 0 global, 1 thread-local, 2 relaxed
    bool invalidated = false;
    std::vector<Node> nodes;
};

struct EmuContext {
    int refs = 0;
    CUresult sticky = CUDA_SUCCESS;  // an illegal address or failed launch: every later call fails
};

struct EmuFunction {
    const Kernel* kernel;
    PtxEntry entry;
    int maxDynamicShared;  // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
};

struct EmuModule {
    std::map<std::string, std::unique_ptr<EmuFunction>> functions;
};

struct EmuStream {
    unsigned flags;
    std::unique_ptr<Capture> capture;
};

struct EmuEvent {
    unsigned flags;
    bool recorded = false;
    double ms = 0;
    Capture* capturedIn = nullptr;  // recorded into this ongoing capture
};

struct EmuGraph {
    std::vector<Node> nodes;
};

struct EmuGraphExec {
    std::vector<Node> nodes;
};

namespace {

constexpr const char* DEVICE_NAME = "rnnrt CUDA emulator (CPU, not a GPU)";
constexpr int SHARED_PER_BLOCK = 48 * 1024;
constexpr int SHARED_PER_BLOCK_OPTIN = 232448;
constexpr int MAX_THREADS_PER_BLOCK = 1024;
const CUstream LEGACY = reinterpret_cast<CUstream>(1);
const CUstream PER_THREAD = reinterpret_cast<CUstream>(2);

bool initialised = false;
EmuContext primary;
bool primaryActive = false;
bool runtimeRetained = false;
thread_local CUcontext current = nullptr;

std::set<EmuModule*> modules;
std::set<EmuFunction*> functions;
std::set<EmuStream*> streams;
std::set<EmuEvent*> events;
std::set<EmuGraph*> graphs;
std::set<EmuGraphExec*> execs;

double nowMs() {
    timeval tv;
    gettimeofday(&tv, nullptr);
    return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

CUresult refuse(CUresult r, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
CUresult refuse(CUresult r, const char* fmt, ...) {
    char buf[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    report("%s", buf);
    return r;
}

// The context checks of every call that works in a context: initialised, the primary context
// current on this thread and active, no sticky error.
CUresult inContext() {
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (current == nullptr) return CUDA_ERROR_INVALID_CONTEXT;
    if (!primaryActive) return CUDA_ERROR_CONTEXT_IS_DESTROYED;
    return primary.sticky;
}

bool isLegacy(CUstream s) {
    return s == nullptr || s == LEGACY || s == PER_THREAD;
}

// The stream behind a handle: null for the legacy stream; *ok false for an unknown handle.
EmuStream* streamOf(CUstream s, bool* ok) {
    *ok = true;
    if (isLegacy(s)) return nullptr;
    if (streams.count(s) == 0) {
        *ok = false;
        return nullptr;
    }
    return s;
}

void invalidate(Capture* c) {
    if (c != nullptr) c->invalidated = true;
}

// The ongoing capture of this thread that forbids unsafe calls (global or thread-local mode), or
// any global-mode capture: cuMemAlloc, synchronous copies, cuCtxSynchronize and the like then
// fail with CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED and invalidate it.
Capture* forbiddingCapture() {
    for (EmuStream* s : streams) {
        Capture* c = s->capture.get();
        if (c == nullptr || c->mode == 2) continue;
        if (c->mode == 0 || c->thread == std::this_thread::get_id()) return c;
    }
    return nullptr;
}

CUresult refuseUnsafe(const char* call) {
    Capture* c = forbiddingCapture();
    if (c == nullptr) return CUDA_SUCCESS;
    invalidate(c);
    return refuse(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED,
                  "%s while a stream is being captured (mode %s): not permitted during capture; the capture is "
                  "invalidated", call, c->mode == 0 ? "global" : "thread-local");
}

// Work on the legacy stream waits for every blocking stream: while one of them captures, that
// would join the capture implicitly, which CUDA refuses (and invalidates the capture).
CUresult refuseImplicit(const char* call) {
    for (EmuStream* s : streams) {
        if (s->capture && (s->flags & 1) == 0) {
            invalidate(s->capture.get());
            return refuse(CUDA_ERROR_STREAM_CAPTURE_IMPLICIT,
                          "%s on the legacy stream while a blocking stream is being captured: an implicit "
                          "dependency on the capture; the capture is invalidated", call);
        }
    }
    return CUDA_SUCCESS;
}

CUresult runNow(const char* what, const std::function<CUresult()>& work) {
    CUresult r = work();
    if (r == CUDA_ERROR_ILLEGAL_ADDRESS || r == CUDA_ERROR_LAUNCH_FAILED) {
        primary.sticky = r;  // as on a GPU, the context is unusable from now on
        report("%s failed: the context now has a sticky error (%d) until its last reference is released", what, r);
    }
    return r;
}

// Runs work on stream s now, or records it when s is capturing.
CUresult enqueue(CUstream handle, const char* what, std::function<CUresult()> work) {
    bool ok;
    EmuStream* s = streamOf(handle, &ok);
    if (!ok) return refuse(CUDA_ERROR_INVALID_HANDLE, "%s on an unknown stream %p", what, static_cast<void*>(handle));
    if (s != nullptr && s->capture) {
        if (s->capture->invalidated) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
        s->capture->nodes.push_back(Node{what, std::move(work)});
        return CUDA_SUCCESS;
    }
    if (s == nullptr) {
        CUresult r = refuseImplicit(what);
        if (r != CUDA_SUCCESS) return r;
    }
    return runNow(what, work);
}

CUresult checkRange(const char* call, uint64_t p, uint64_t bytes) {
    if (bytes == 0 || in_allocation(p, bytes)) return CUDA_SUCCESS;
    return refuse(CUDA_ERROR_INVALID_VALUE, "%s: [0x%llx, +%llu bytes) is not inside one device allocation", call,
                  static_cast<unsigned long long>(p), static_cast<unsigned long long>(bytes));
}

// Destroys what the primary context owned (its last reference was released).
void destroyContextObjects() {
    for (EmuGraphExec* e : execs) delete e;
    for (EmuGraph* g : graphs) delete g;
    for (EmuEvent* e : events) delete e;
    for (EmuStream* s : streams) delete s;
    for (EmuModule* m : modules) delete m;
    execs.clear();
    graphs.clear();
    events.clear();
    streams.clear();
    modules.clear();
    functions.clear();
    release_all();
    primary.sticky = CUDA_SUCCESS;
}

// A launch with its parameters copied, as kept by a graph.
struct LaunchRecord {
    EmuFunction* f;
    unsigned grid[3];
    unsigned block[3];
    size_t shared;
    std::vector<uint64_t> slots;  // one 16-byte slot pair per parameter
};

CUresult launchNow(const LaunchRecord& l) {
    if (functions.count(l.f) == 0) {
        return refuse(CUDA_ERROR_INVALID_HANDLE, "a kernel launch of a function whose module was unloaded");
    }
    const Kernel& k = *l.f->kernel;
    size_t n = k.paramSizes.size();
    std::vector<void*> params(n);
    std::vector<uint64_t> pointers;
    for (size_t i = 0; i < n; i++) {
        params[i] = const_cast<uint64_t*>(&l.slots[2 * i]);
        if (k.paramIsPointer[i]) {
            uint64_t p = l.slots[2 * i];
            if (p != 0 && !points_into_allocation(p)) {
                return refuse(CUDA_ERROR_ILLEGAL_ADDRESS, "kernel %s: parameter %zu is 0x%llx, which points into no "
                              "device allocation (freed, never allocated, or out of bounds)", k.name.c_str(), i,
                              static_cast<unsigned long long>(p));
            }
            if (p != 0) pointers.push_back(p);
        }
    }
    Grid g{&k, {l.grid[0], l.grid[1], l.grid[2]}, {l.block[0], l.block[1], l.block[2]}, l.shared, params.data()};
    std::string error;
    if (!run_grid(g, &error)) {
        bool fault = error.find("faulted") != std::string::npos;
        return refuse(fault ? CUDA_ERROR_ILLEGAL_ADDRESS : CUDA_ERROR_LAUNCH_FAILED, "%s (grid %u x %u x %u, block "
                      "%u x %u x %u)", error.c_str(), l.grid[0], l.grid[1], l.grid[2], l.block[0], l.block[1],
                      l.block[2]);
    }
    std::string which;
    if (!canaries_intact(pointers, &which)) {
        return refuse(CUDA_ERROR_ILLEGAL_ADDRESS, "kernel %s wrote out of the bounds of %s (grid %u x %u x %u, block "
                      "%u x %u x %u)", k.name.c_str(), which.c_str(), l.grid[0], l.grid[1], l.grid[2], l.block[0],
                      l.block[1], l.block[2]);
    }
    return CUDA_SUCCESS;
}

CUresult runNodes(const std::vector<Node>& nodes) {
    for (const Node& n : nodes) {
        CUresult r = n.run();
        if (r != CUDA_SUCCESS) {
            report("graph node '%s' failed (%d)", n.what.c_str(), r);
            return r;
        }
    }
    return CUDA_SUCCESS;
}

}  // namespace

#define LOCKED std::lock_guard<std::recursive_mutex> guard(emu::lock())
#define CHECK(expr)                                  \
    do {                                             \
        CUresult check_r = (expr);                   \
        if (check_r != CUDA_SUCCESS) return check_r; \
    } while (0)

namespace emu {

CUresult submit(CUstream stream, const char* what, std::function<CUresult()> work) {
    LOCKED;
    if (!initialised || !primaryActive) return CUDA_ERROR_NOT_INITIALIZED;
    CHECK(primary.sticky);
    return enqueue(stream, what, std::move(work));
}

CUresult retain_primary_for_runtime() {
    LOCKED;
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (!runtimeRetained) {
        // the CUDA runtime (which cuBLAS uses) holds a reference to the primary context until exit
        runtimeRetained = true;
        if (primary.refs++ == 0) primaryActive = true;
    }
    return CUDA_SUCCESS;
}

}  // namespace emu

extern "C" {

// ---------------------------------------------------------------- init, device

CUresult cuInit(unsigned flags) {
    LOCKED;
    if (flags != 0) return refuse(CUDA_ERROR_INVALID_VALUE, "cuInit: flags must be 0, got %u", flags);
    initialised = true;
    return CUDA_SUCCESS;
}

CUresult cuDriverGetVersion(int* version) {
    if (version == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *version = 12060;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int* count) {
    LOCKED;
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (count == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *count = 1;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice* device, int ordinal) {
    LOCKED;
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (device == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (ordinal != 0) return refuse(CUDA_ERROR_INVALID_DEVICE, "cuDeviceGet: no device %d (the emulator has one)", ordinal);
    *device = 0;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char* name, int len, CUdevice dev) {
    LOCKED;
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (name == nullptr || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    snprintf(name, static_cast<size_t>(len), "%s", DEVICE_NAME);
    return CUDA_SUCCESS;
}

CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice dev) {
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    *bytes = DEVICE_BYTES;
    return CUDA_SUCCESS;
}

// An H100-like device (compute capability 9.0).
CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice dev) {
    LOCKED;
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (value == nullptr) return CUDA_ERROR_INVALID_VALUE;
    static const std::map<int, int> attributes = {
        {1, MAX_THREADS_PER_BLOCK}, {2, 1024}, {3, 1024}, {4, 64}, {5, 2147483647}, {6, 65535}, {7, 65535},
        {8, SHARED_PER_BLOCK}, {9, 65536}, {10, 32}, {11, 2147483647}, {12, 65536}, {13, 1980000}, {14, 512},
        {15, 1}, {16, 132}, {17, 0}, {18, 0}, {19, 1}, {20, 0}, {31, 1}, {32, 1}, {33, 0}, {34, 0}, {35, 0},
        {36, 2619000}, {37, 5120}, {38, 52428800}, {39, 2048}, {40, 5}, {41, 1}, {50, 0}, {75, 9}, {76, 0},
        {81, 233472}, {82, 65536}, {83, 1}, {97, SHARED_PER_BLOCK_OPTIN}, {106, 32}, {111, 1024}, {115, 1},
    };
    auto it = attributes.find(attribute);
    if (it == attributes.end()) {
        return refuse(CUDA_ERROR_NOT_SUPPORTED, "cuDeviceGetAttribute: attribute %d is not emulated", attribute);
    }
    *value = it->second;
    return CUDA_SUCCESS;
}

CUresult cuDeviceComputeCapability(int* major, int* minor, CUdevice dev) {
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    *major = 9;
    *minor = 0;
    return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- primary context

CUresult cuDevicePrimaryCtxRetain(CUcontext* ctx, CUdevice dev) {
    LOCKED;
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (ctx == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (primary.refs++ == 0) primaryActive = true;
    *ctx = &primary;
    return CUDA_SUCCESS;
}

// The last release destroys the context: its memory, modules, streams, events and graphs, and
// its sticky error.
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
    LOCKED;
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (primary.refs == 0) {
        return refuse(CUDA_ERROR_INVALID_CONTEXT, "cuDevicePrimaryCtxRelease: the primary context is not retained");
    }
    if (--primary.refs == 0) {
        primaryActive = false;
        destroyContextObjects();
    }
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxGetState(CUdevice dev, unsigned* flags, int* active) {
    LOCKED;
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (flags == nullptr || active == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *flags = 0;
    *active = primaryActive ? 1 : 0;
    return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext ctx) {
    LOCKED;
    if (!initialised) return CUDA_ERROR_NOT_INITIALIZED;
    if (ctx != nullptr && ctx != &primary) {
        return refuse(CUDA_ERROR_INVALID_CONTEXT, "cuCtxSetCurrent: %p is not the primary context", static_cast<void*>(ctx));
    }
    current = ctx;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetCurrent(CUcontext* ctx) {
    if (ctx == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *ctx = current;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetDevice(CUdevice* dev) {
    LOCKED;
    CHECK(inContext());
    *dev = 0;
    return CUDA_SUCCESS;
}

CUresult cuCtxSynchronize() {
    LOCKED;
    CHECK(inContext());
    CHECK(refuseUnsafe("cuCtxSynchronize"));
    return CUDA_SUCCESS;  // all work already ran
}

// ---------------------------------------------------------------- memory

CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
    LOCKED;
    CHECK(inContext());
    if (p == nullptr || bytes == 0) return refuse(CUDA_ERROR_INVALID_VALUE, "cuMemAlloc of %zu bytes", bytes);
    CHECK(refuseUnsafe("cuMemAlloc"));
    uint64_t a = allocate(bytes);
    if (a == 0) {
        return refuse(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc of %zu bytes: out of memory (%llu of %llu bytes in use)",
                      bytes, static_cast<unsigned long long>(bytes_in_use()),
                      static_cast<unsigned long long>(DEVICE_BYTES));
    }
    *p = a;
    return CUDA_SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr p) {
    LOCKED;
    CHECK(inContext());
    CHECK(refuseUnsafe("cuMemFree"));
    if (p == 0) return CUDA_SUCCESS;
    if (!release(p)) {
        return refuse(CUDA_ERROR_INVALID_VALUE, "cuMemFree(0x%llx): not the start of a live allocation (freed twice?)",
                      static_cast<unsigned long long>(p));
    }
    return CUDA_SUCCESS;
}

CUresult cuMemGetInfo_v2(size_t* freeBytes, size_t* totalBytes) {
    LOCKED;
    CHECK(inContext());
    if (freeBytes == nullptr || totalBytes == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *totalBytes = DEVICE_BYTES;
    *freeBytes = DEVICE_BYTES - bytes_in_use();
    return CUDA_SUCCESS;
}

namespace {

CUresult copy(const char* call, CUstream stream, bool sync, void* dst, const void* src, size_t bytes, bool dstDevice,
              bool srcDevice) {
    CHECK(inContext());
    if (sync) CHECK(refuseUnsafe(call));
    if (dstDevice) CHECK(checkRange(call, reinterpret_cast<uint64_t>(dst), bytes));
    if (srcDevice) CHECK(checkRange(call, reinterpret_cast<uint64_t>(src), bytes));
    if (bytes > 0 && (!dstDevice || !srcDevice) && (dst == nullptr || src == nullptr)) {
        return refuse(CUDA_ERROR_INVALID_VALUE, "%s with a null host pointer", call);
    }
    return enqueue(stream, call, [=]() -> CUresult {
        // checked again when a graph replays it: the memory may have been freed since
        if (dstDevice && bytes > 0 && !in_allocation(reinterpret_cast<uint64_t>(dst), bytes)) {
            return refuse(CUDA_ERROR_ILLEGAL_ADDRESS, "%s: destination no longer allocated", call);
        }
        if (srcDevice && bytes > 0 && !in_allocation(reinterpret_cast<uint64_t>(src), bytes)) {
            return refuse(CUDA_ERROR_ILLEGAL_ADDRESS, "%s: source no longer allocated", call);
        }
        std::memmove(dst, src, bytes);
        return CUDA_SUCCESS;
    });
}

CUresult memset32(const char* call, CUstream stream, bool sync, CUdeviceptr dst, unsigned value, size_t n) {
    CHECK(inContext());
    if (sync) CHECK(refuseUnsafe(call));
    if (dst % 4 != 0) return refuse(CUDA_ERROR_INVALID_VALUE, "%s: 0x%llx is not 4-byte aligned", call, dst);
    CHECK(checkRange(call, dst, n * 4));
    return enqueue(stream, call, [=]() -> CUresult {
        if (n > 0 && !in_allocation(dst, n * 4)) {
            return refuse(CUDA_ERROR_ILLEGAL_ADDRESS, "%s: destination no longer allocated", call);
        }
        uint32_t* w = reinterpret_cast<uint32_t*>(dst);
        for (size_t k = 0; k < n; k++) w[k] = value;
        return CUDA_SUCCESS;
    });
}

void* dev(CUdeviceptr p) {
    return reinterpret_cast<void*>(p);
}

}  // namespace

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t bytes) {
    LOCKED;
    return copy("cuMemcpyHtoD", nullptr, true, dev(dst), src, bytes, true, false);
}

CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes) {
    LOCKED;
    return copy("cuMemcpyDtoH", nullptr, true, dst, dev(src), bytes, false, true);
}

CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
    LOCKED;
    return copy("cuMemcpyDtoD", nullptr, true, dev(dst), dev(src), bytes, true, true);
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, CUstream s) {
    LOCKED;
    return copy("cuMemcpyHtoDAsync", s, false, dev(dst), src, bytes, true, false);
}

CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, CUstream s) {
    LOCKED;
    return copy("cuMemcpyDtoHAsync", s, false, dst, dev(src), bytes, false, true);
}

CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream s) {
    LOCKED;
    return copy("cuMemcpyDtoDAsync", s, false, dev(dst), dev(src), bytes, true, true);
}

CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned value, size_t n) {
    LOCKED;
    return memset32("cuMemsetD32", nullptr, true, dst, value, n);
}

CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, size_t n, CUstream s) {
    LOCKED;
    return memset32("cuMemsetD32Async", s, false, dst, value, n);
}

// ---------------------------------------------------------------- modules and functions

// Loads PTX text: every .entry must have a host-compiled kernel of its name whose C++ parameters
// have the .param sizes, else the module is refused naming the kernel.
CUresult cuModuleLoadData(CUmodule* module, const void* image) {
    LOCKED;
    CHECK(inContext());
    if (module == nullptr || image == nullptr) return CUDA_ERROR_INVALID_VALUE;
    std::string text(static_cast<const char*>(image));
    std::vector<PtxEntry> entries;
    std::string error;
    if (!parse_ptx(text, &entries, &error)) {
        return refuse(CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData: %s", error.c_str());
    }
    auto m = std::make_unique<EmuModule>();
    for (const PtxEntry& e : entries) {
        auto k = kernels().find(e.name);
        if (k == kernels().end()) {
            return refuse(CUDA_ERROR_NOT_FOUND, "cuModuleLoadData: the PTX has kernel %s, which no cuda/*.cu compiled "
                          "for the emulator defines (stale PTX, or a kernel the kernel table missed)", e.name.c_str());
        }
        const std::vector<size_t>& cpp = k->second.paramSizes;
        bool same = cpp == e.paramSizes;
        if (!same) {
            std::string a, b;
            for (size_t s : e.paramSizes) a += std::to_string(s) + " ";
            for (size_t s : cpp) b += std::to_string(s) + " ";
            return refuse(CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData: kernel %s has %zu parameters in the PTX (bytes: "
                          "%s) but %zu in its C++ signature (bytes: %s): the PTX is stale, rebuild it with "
                          "cuda/build-ptx.sh", e.name.c_str(), e.paramSizes.size(), a.c_str(), cpp.size(), b.c_str());
        }
        auto f = std::make_unique<EmuFunction>();
        f->kernel = &k->second;
        f->entry = e;
        f->maxDynamicShared = SHARED_PER_BLOCK - static_cast<int>(e.staticShared);
        m->functions[e.name] = std::move(f);
    }
    for (auto& f : m->functions) functions.insert(f.second.get());
    *module = m.release();
    modules.insert(*module);
    return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule module) {
    LOCKED;
    CHECK(inContext());
    if (modules.erase(module) == 0) return refuse(CUDA_ERROR_INVALID_HANDLE, "cuModuleUnload: unknown module");
    for (auto& f : module->functions) functions.erase(f.second.get());
    delete module;
    return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction* f, CUmodule module, const char* name) {
    LOCKED;
    CHECK(inContext());
    if (f == nullptr || name == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (modules.count(module) == 0) return CUDA_ERROR_INVALID_HANDLE;
    auto it = module->functions.find(name);
    if (it == module->functions.end()) return CUDA_ERROR_NOT_FOUND;  // rnnrt asks each module in turn: no message
    *f = it->second.get();
    return CUDA_SUCCESS;
}

CUresult cuFuncSetAttribute(CUfunction f, int attribute, int value) {
    LOCKED;
    CHECK(inContext());
    if (functions.count(f) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (attribute == 8) {  // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
        if (value < 0 || value + static_cast<long>(f->entry.staticShared) > SHARED_PER_BLOCK_OPTIN) {
            return refuse(CUDA_ERROR_INVALID_VALUE, "cuFuncSetAttribute(%s, MAX_DYNAMIC_SHARED_SIZE_BYTES, %d): with "
                          "%zu bytes of static shared memory the device allows at most %ld", f->kernel->name.c_str(),
                          value, f->entry.staticShared, SHARED_PER_BLOCK_OPTIN - static_cast<long>(f->entry.staticShared));
        }
        f->maxDynamicShared = value;
        return CUDA_SUCCESS;
    }
    if (attribute == 9) return CUDA_SUCCESS;  // preferred carveout: a hint
    return refuse(CUDA_ERROR_NOT_SUPPORTED, "cuFuncSetAttribute: attribute %d is not emulated", attribute);
}

CUresult cuFuncGetAttribute(int* value, int attribute, CUfunction f) {
    LOCKED;
    CHECK(inContext());
    if (functions.count(f) == 0) return CUDA_ERROR_INVALID_HANDLE;
    switch (attribute) {
        case 0: *value = f->entry.maxThreads != 0 ? static_cast<int>(f->entry.maxThreads) : MAX_THREADS_PER_BLOCK; break;
        case 1: *value = static_cast<int>(f->entry.staticShared); break;
        case 8: *value = f->maxDynamicShared; break;
        default: return refuse(CUDA_ERROR_NOT_SUPPORTED, "cuFuncGetAttribute: attribute %d is not emulated", attribute);
    }
    return CUDA_SUCCESS;
}

// Checks the launch as the driver does (grid and block limits, .maxntid, shared memory), copies
// the parameters by the PTX's sizes, and runs it (or records it while its stream captures).
CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, CUstream stream, void** kernelParams, void** extra) {
    LOCKED;
    CHECK(inContext());
    if (functions.count(f) == 0) return refuse(CUDA_ERROR_INVALID_HANDLE, "cuLaunchKernel: unknown function");
    const char* name = f->kernel->name.c_str();
    if (gx == 0 || gy == 0 || gz == 0 || gx > 2147483647u || gy > 65535 || gz > 65535) {
        return refuse(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): grid %u x %u x %u is outside 1..(2^31-1, 65535, "
                      "65535)", name, gx, gy, gz);
    }
    unsigned long threads = static_cast<unsigned long>(bx) * by * bz;
    if (bx == 0 || by == 0 || bz == 0 || bx > 1024 || by > 1024 || bz > 64 || threads > MAX_THREADS_PER_BLOCK) {
        return refuse(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): block %u x %u x %u is outside the device's "
                      "limits (1024, 1024, 64; 1024 threads)", name, bx, by, bz);
    }
    if (f->entry.maxThreads != 0 && threads > f->entry.maxThreads) {
        return refuse(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "cuLaunchKernel(%s): %lu threads per block, more than its "
                      ".maxntid (__launch_bounds__) of %u", name, threads, f->entry.maxThreads);
    }
    if (static_cast<long>(shared) > f->maxDynamicShared) {
        return refuse(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): %u bytes of dynamic shared memory, more than the "
                      "%d allowed (48 KiB minus %zu static, unless raised with cuFuncSetAttribute)", name, shared,
                      f->maxDynamicShared, f->entry.staticShared);
    }
    if (extra != nullptr) return refuse(CUDA_ERROR_NOT_SUPPORTED, "cuLaunchKernel(%s): 'extra' is not emulated", name);
    size_t n = f->entry.paramSizes.size();
    if (n > 0 && kernelParams == nullptr) {
        return refuse(CUDA_ERROR_INVALID_VALUE, "cuLaunchKernel(%s): no kernelParams for %zu parameters", name, n);
    }
    LaunchRecord l{f, {gx, gy, gz}, {bx, by, bz}, shared, std::vector<uint64_t>(2 * n, 0)};
    for (size_t i = 0; i < n; i++) {
        if (f->entry.paramSizes[i] > 16) return refuse(CUDA_ERROR_NOT_SUPPORTED, "cuLaunchKernel(%s): a parameter of "
                                                       "more than 16 bytes", name);
        std::memcpy(&l.slots[2 * i], kernelParams[i], f->entry.paramSizes[i]);  // by value, now
    }
    std::string what = std::string("kernel ") + name;
    return enqueue(stream, what.c_str(), [l]() { return launchNow(l); });
}

// ---------------------------------------------------------------- streams and capture

CUresult cuStreamCreate(CUstream* s, unsigned flags) {
    LOCKED;
    CHECK(inContext());
    if (s == nullptr || flags > 1) return CUDA_ERROR_INVALID_VALUE;
    EmuStream* e = new EmuStream{flags, nullptr};
    streams.insert(e);
    *s = e;
    return CUDA_SUCCESS;
}

CUresult cuStreamDestroy_v2(CUstream s) {
    LOCKED;
    CHECK(inContext());
    if (streams.erase(s) == 0) return refuse(CUDA_ERROR_INVALID_HANDLE, "cuStreamDestroy: unknown stream");
    delete s;
    return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(CUstream s) {
    LOCKED;
    CHECK(inContext());
    bool ok;
    EmuStream* e = streamOf(s, &ok);
    if (!ok) return CUDA_ERROR_INVALID_HANDLE;
    if (e != nullptr && e->capture) {
        invalidate(e->capture.get());
        return refuse(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuStreamSynchronize on a stream being captured; the "
                      "capture is invalidated");
    }
    if (e == nullptr) CHECK(refuseImplicit("cuStreamSynchronize"));
    return CUDA_SUCCESS;
}

CUresult cuStreamQuery(CUstream s) {
    LOCKED;
    CHECK(inContext());
    bool ok;
    EmuStream* e = streamOf(s, &ok);
    if (!ok) return CUDA_ERROR_INVALID_HANDLE;
    if (e != nullptr && e->capture) {
        invalidate(e->capture.get());
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    return CUDA_SUCCESS;
}

CUresult cuStreamBeginCapture_v2(CUstream s, int mode) {
    LOCKED;
    CHECK(inContext());
    if (isLegacy(s)) return refuse(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuStreamBeginCapture on the legacy stream");
    if (streams.count(s) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (mode < 0 || mode > 2) return CUDA_ERROR_INVALID_VALUE;
    if (s->capture) return refuse(401, "cuStreamBeginCapture: the stream is already capturing");  // ILLEGAL_STATE
    s->capture = std::make_unique<Capture>();
    s->capture->thread = std::this_thread::get_id();
    s->capture->mode = mode;
    return CUDA_SUCCESS;
}

CUresult cuStreamEndCapture(CUstream s, CUgraph* graph) {
    LOCKED;
    CHECK(inContext());
    if (graph == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (isLegacy(s) || streams.count(s) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (!s->capture) return refuse(401, "cuStreamEndCapture: the stream is not capturing");  // ILLEGAL_STATE
    if (s->capture->mode != 2 && s->capture->thread != std::this_thread::get_id()) {
        return refuse(CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD, "cuStreamEndCapture from another thread than the one "
                      "that began the capture");
    }
    std::unique_ptr<Capture> c = std::move(s->capture);
    for (EmuEvent* e : events) {
        if (e->capturedIn == c.get()) e->capturedIn = nullptr;
    }
    if (c->invalidated) {
        *graph = nullptr;
        return refuse(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "cuStreamEndCapture: the capture was invalidated by an "
                      "earlier error; no graph");
    }
    EmuGraph* g = new EmuGraph{std::move(c->nodes)};
    graphs.insert(g);
    *graph = g;
    return CUDA_SUCCESS;
}

CUresult cuStreamIsCapturing(CUstream s, int* status) {
    LOCKED;
    CHECK(inContext());
    bool ok;
    EmuStream* e = streamOf(s, &ok);
    if (!ok || status == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *status = e == nullptr || !e->capture ? 0 : (e->capture->invalidated ? 2 : 1);
    return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- events

CUresult cuEventCreate(CUevent* e, unsigned flags) {
    LOCKED;
    CHECK(inContext());
    if (e == nullptr || (flags & ~7u) != 0) return CUDA_ERROR_INVALID_VALUE;
    EmuEvent* ev = new EmuEvent{flags};
    events.insert(ev);
    *e = ev;
    return CUDA_SUCCESS;
}

CUresult cuEventDestroy_v2(CUevent e) {
    LOCKED;
    CHECK(inContext());
    if (events.erase(e) == 0) return refuse(CUDA_ERROR_INVALID_HANDLE, "cuEventDestroy: unknown event");
    delete e;
    return CUDA_SUCCESS;
}

CUresult cuEventRecord(CUevent e, CUstream s) {
    LOCKED;
    CHECK(inContext());
    if (events.count(e) == 0) return CUDA_ERROR_INVALID_HANDLE;
    bool ok;
    EmuStream* st = streamOf(s, &ok);
    if (!ok) return CUDA_ERROR_INVALID_HANDLE;
    if (st != nullptr && st->capture) {
        if (st->capture->invalidated) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
        e->capturedIn = st->capture.get();  // a node in the graph: a dependency, nothing to run here
        return CUDA_SUCCESS;
    }
    if (st == nullptr) CHECK(refuseImplicit("cuEventRecord"));
    e->capturedIn = nullptr;
    e->recorded = true;
    e->ms = nowMs();
    return CUDA_SUCCESS;
}

CUresult cuEventRecordWithFlags(CUevent e, CUstream s, unsigned flags) {
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    return cuEventRecord(e, s);
}

CUresult cuEventSynchronize(CUevent e) {
    LOCKED;
    CHECK(inContext());
    if (events.count(e) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if (e->capturedIn != nullptr) {
        return refuse(CUDA_ERROR_CAPTURED_EVENT, "cuEventSynchronize on an event recorded in an ongoing capture");
    }
    return CUDA_SUCCESS;
}

CUresult cuEventQuery(CUevent e) {
    LOCKED;
    CHECK(inContext());
    if (events.count(e) == 0) return CUDA_ERROR_INVALID_HANDLE;
    return e->capturedIn != nullptr ? CUDA_ERROR_CAPTURED_EVENT : CUDA_SUCCESS;
}

CUresult cuEventElapsedTime(float* ms, CUevent start, CUevent end) {
    LOCKED;
    CHECK(inContext());
    if (ms == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (events.count(start) == 0 || events.count(end) == 0) return CUDA_ERROR_INVALID_HANDLE;
    if ((start->flags & 2) || (end->flags & 2)) {
        return refuse(CUDA_ERROR_INVALID_HANDLE, "cuEventElapsedTime with an event created with DISABLE_TIMING");
    }
    if (!start->recorded || !end->recorded) {
        return refuse(CUDA_ERROR_INVALID_HANDLE, "cuEventElapsedTime with an event never recorded");
    }
    *ms = static_cast<float>(end->ms - start->ms);
    return CUDA_SUCCESS;
}

// Work on s after this waits for what e recorded. Everything already ran, so only the capture
// rules matter; a wait that would join a non-capturing stream to a capture (cross-stream capture)
// is not emulated and refused.
CUresult cuStreamWaitEvent(CUstream s, CUevent e, unsigned flags) {
    LOCKED;
    CHECK(inContext());
    if (events.count(e) == 0) return CUDA_ERROR_INVALID_HANDLE;
    bool ok;
    EmuStream* st = streamOf(s, &ok);
    if (!ok || flags > 1) return CUDA_ERROR_INVALID_VALUE;
    Capture* mine = st != nullptr ? st->capture.get() : nullptr;
    if (mine != nullptr && mine->invalidated) return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    if (e->capturedIn != nullptr && e->capturedIn != mine) {
        if (mine != nullptr) {
            return refuse(905, "cuStreamWaitEvent: the event was recorded in another capture");  // ISOLATION
        }
        return refuse(CUDA_ERROR_NOT_SUPPORTED, "cuStreamWaitEvent: joining a stream to another stream's capture "
                      "(cross-stream capture) is not emulated");
    }
    if (st == nullptr && mine == nullptr) CHECK(refuseImplicit("cuStreamWaitEvent"));
    return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- graphs

CUresult cuGraphInstantiateWithFlags(CUgraphExec* exec, CUgraph graph, unsigned long long flags) {
    LOCKED;
    CHECK(inContext());
    if (exec == nullptr) return CUDA_ERROR_INVALID_VALUE;
    if (graphs.count(graph) == 0) return refuse(CUDA_ERROR_INVALID_VALUE, "cuGraphInstantiate of an unknown graph");
    if (flags != 0) return refuse(CUDA_ERROR_NOT_SUPPORTED, "cuGraphInstantiate: flags %llu not emulated", flags);
    EmuGraphExec* x = new EmuGraphExec{graph->nodes};
    execs.insert(x);
    *exec = x;
    return CUDA_SUCCESS;
}

CUresult cuGraphLaunch(CUgraphExec exec, CUstream s) {
    LOCKED;
    CHECK(inContext());
    if (execs.count(exec) == 0) return refuse(CUDA_ERROR_INVALID_VALUE, "cuGraphLaunch of an unknown graph exec");
    std::vector<Node> nodes = exec->nodes;
    return enqueue(s, "cuGraphLaunch", [nodes]() { return runNodes(nodes); });
}

CUresult cuGraphDestroy(CUgraph g) {
    LOCKED;
    CHECK(inContext());
    if (graphs.erase(g) == 0) return refuse(CUDA_ERROR_INVALID_VALUE, "cuGraphDestroy of an unknown graph");
    delete g;
    return CUDA_SUCCESS;
}

CUresult cuGraphExecDestroy(CUgraphExec x) {
    LOCKED;
    CHECK(inContext());
    if (execs.erase(x) == 0) return refuse(CUDA_ERROR_INVALID_VALUE, "cuGraphExecDestroy of an unknown graph exec");
    delete x;
    return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- errors

CUresult cuGetErrorName(CUresult r, const char** s) {
    static std::map<int, std::string> names = {
        {0, "CUDA_SUCCESS"}, {1, "CUDA_ERROR_INVALID_VALUE"}, {2, "CUDA_ERROR_OUT_OF_MEMORY"},
        {3, "CUDA_ERROR_NOT_INITIALIZED"}, {101, "CUDA_ERROR_INVALID_DEVICE"}, {200, "CUDA_ERROR_INVALID_IMAGE"},
        {201, "CUDA_ERROR_INVALID_CONTEXT"}, {400, "CUDA_ERROR_INVALID_HANDLE"}, {401, "CUDA_ERROR_ILLEGAL_STATE"},
        {500, "CUDA_ERROR_NOT_FOUND"}, {700, "CUDA_ERROR_ILLEGAL_ADDRESS"}, {701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"},
        {709, "CUDA_ERROR_CONTEXT_IS_DESTROYED"}, {719, "CUDA_ERROR_LAUNCH_FAILED"}, {801, "CUDA_ERROR_NOT_SUPPORTED"},
        {900, "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED"}, {901, "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED"},
        {905, "CUDA_ERROR_STREAM_CAPTURE_ISOLATION"}, {906, "CUDA_ERROR_STREAM_CAPTURE_IMPLICIT"},
        {907, "CUDA_ERROR_CAPTURED_EVENT"}, {908, "CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD"},
    };
    if (s == nullptr) return CUDA_ERROR_INVALID_VALUE;
    auto it = names.find(r);
    *s = it == names.end() ? "CUDA_ERROR_UNKNOWN" : it->second.c_str();
    return CUDA_SUCCESS;
}

CUresult cuGetErrorString(CUresult r, const char** s) {
    return cuGetErrorName(r, s);
}

}  // extern "C"
