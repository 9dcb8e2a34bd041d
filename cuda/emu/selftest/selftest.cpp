// The CUDA emulator's self-test (cuda/emu/selftest.sh): calls the emulated libcuda.so.1 and
// libcublas.so.12 directly, with kernels that misbehave on purpose (selftest_*.cu), and checks that
// each of the emulator's checks refuses what it should, with the exact CUresult or cublasStatus and
// the "cuda-emu:" line on stderr, and lets the correct twin of each misuse through.
//
// Every case runs in a child process of its own (the emulator's state, a sticky error, a crash or
// a hang stay in it) with a time limit. The controls are cases written to fail: the harness must
// report each of them as failed, which shows that its checks, its time limit and its crash
// detection can fail at all.
//
// Usage: selftest [--list | --no-controls | NAME...]   (no NAME: every case, then every control)
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

// ---------------------------------------------------------------- the API under test
// (declared here: the self-test needs no CUDA installation; numbers as in CUDA 12's headers)
extern "C" {
typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st* CUcontext;
typedef struct CUmod_st* CUmodule;
typedef struct CUfunc_st* CUfunction;
typedef struct CUstream_st* CUstream;
typedef struct CUgraph_st* CUgraph;
typedef struct CUgraphExec_st* CUgraphExec;
typedef struct cublasContext* cublasHandle_t;
typedef int cublasStatus_t;

CUresult cuInit(unsigned flags);
CUresult cuDeviceGet(CUdevice* device, int ordinal);
CUresult cuDevicePrimaryCtxRetain(CUcontext* ctx, CUdevice dev);
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev);
CUresult cuDevicePrimaryCtxGetState(CUdevice dev, unsigned* flags, int* active);
CUresult cuCtxSetCurrent(CUcontext ctx);
CUresult cuCtxSynchronize();
CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes);
CUresult cuMemFree_v2(CUdeviceptr p);
CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t bytes);
CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes);
CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned value, size_t n);
CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, size_t n, CUstream s);
CUresult cuModuleLoadData(CUmodule* module, const void* image);
CUresult cuModuleGetFunction(CUfunction* f, CUmodule module, const char* name);
CUresult cuFuncSetAttribute(CUfunction f, int attribute, int value);
CUresult cuFuncGetAttribute(int* value, int attribute, CUfunction f);
CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, CUstream stream, void** params, void** extra);
CUresult cuStreamCreate(CUstream* s, unsigned flags);
CUresult cuStreamSynchronize(CUstream s);
CUresult cuStreamBeginCapture_v2(CUstream s, int mode);
CUresult cuStreamEndCapture(CUstream s, CUgraph* graph);
CUresult cuStreamIsCapturing(CUstream s, int* status);
CUresult cuGraphInstantiateWithFlags(CUgraphExec* exec, CUgraph graph, unsigned long long flags);
CUresult cuGraphLaunch(CUgraphExec exec, CUstream s);

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle);
cublasStatus_t cublasSetMathMode(cublasHandle_t handle, int mode);
cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, int transa, int transb, int m, int n, int k, const float* alpha,
                              const float* A, int lda, const float* B, int ldb, const float* beta, float* C, int ldc);
}

enum {
    SUCCESS = 0,
    INVALID_VALUE = 1,
    INVALID_IMAGE = 200,
    NOT_FOUND = 500,
    ILLEGAL_ADDRESS = 700,
    LAUNCH_OUT_OF_RESOURCES = 701,
    LAUNCH_FAILED = 719,
    CAPTURE_UNSUPPORTED = 900,
    CAPTURE_INVALIDATED = 901,
    CAPTURE_IMPLICIT = 906,
    FUNC_MAX_THREADS = 0,            // CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK
    FUNC_SHARED_BYTES = 1,           // CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES
    FUNC_MAX_DYNAMIC_SHARED = 8,     // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
    CAPTURE_GLOBAL = 0,
    CAPTURE_RELAXED = 2,
    STREAM_NON_BLOCKING = 1,
    BLAS_SUCCESS = 0,
    BLAS_INVALID_VALUE = 7,
    BLAS_EXECUTION_FAILED = 13,
    BLAS_N = 0,
    BLAS_T = 1,
    BLAS_TF32 = 3,                   // CUBLAS_TF32_TENSOR_OP_MATH
};

// The module the test kernels come with: only what the emulator reads of PTX, the lines with the
// entries, their .param, .maxntid and .shared as `nvcc -ptx` writes them for selftest_*.cu (the
// instructions left out: the emulator runs the host build of each kernel).
const char* const MODULE = R"(
.version 8.0
.target sm_90
.address_size 64

.visible .entry emutest_sync(
    .param .u64 emutest_sync_param_0,
    .param .u32 emutest_sync_param_1
)
{
    .shared .align 4 .b8 _ZZ12emutest_syncE1s[4096];
    ret;
}

.visible .entry emutest_fill(
    .param .u64 emutest_fill_param_0,
    .param .u32 emutest_fill_param_1,
    .param .u32 emutest_fill_param_2
)
{
    ret;
}

.visible .entry emutest_copy(
    .param .u64 emutest_copy_param_0,
    .param .u32 emutest_copy_param_1,
    .param .u64 emutest_copy_param_2,
    .param .u32 emutest_copy_param_3
)
{
    ret;
}

.visible .entry emutest_bounded(
    .param .u64 emutest_bounded_param_0
)
.maxntid 64, 1, 1
{
    ret;
}

.visible .entry emutest_shared(
    .param .u64 emutest_shared_param_0,
    .param .u32 emutest_shared_param_1,
    .param .u32 emutest_shared_param_2
)
{
    ret;
}

.visible .entry emutest_static_shared(
    .param .u64 emutest_static_shared_param_0,
    .param .u32 emutest_static_shared_param_1
)
{
    // 16 KiB of static shared memory
    .shared .align 4 .b8 _ZZ21emutest_static_sharedE5fixed[16384];
    ret;
}

.visible .entry emutest_spin(
    .param .u64 emutest_spin_param_0
)
{
    ret;
}
)";

// ---------------------------------------------------------------- harness

namespace {

struct Case {
    const char* name;
    void (*run)();
    bool control;  // written to fail: the harness must report it failed
    unsigned seconds;
};

std::vector<Case>& cases() {
    static std::vector<Case> c;
    return c;
}

struct Register {
    Register(const char* name, void (*run)(), bool control, unsigned seconds) {
        cases().push_back(Case{name, run, control, seconds});
    }
};

#define CASE(name)                                              \
    void name();                                                \
    Register register_##name(#name, &name, false, 10);          \
    void name()
#define CONTROL(name, seconds)                                  \
    void name();                                                \
    Register register_##name(#name, &name, true, seconds);      \
    void name()

const char* caseName = "";
int failures = 0;
int stderrFile = -1;  // the case's stderr (the emulator's "cuda-emu:" lines)
off_t stderrSeen = 0;

void failure(int line, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void failure(int line, const char* fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (failures < 10) printf("    %s: selftest.cpp:%d: %s\n", caseName, line, buf);
    if (failures == 10) printf("    %s: (further failures not shown)\n", caseName);
    failures++;
}

// What the emulator wrote to stderr since the last call of this.
std::string newStderr() {
    fflush(stderr);
    off_t end = lseek(stderrFile, 0, SEEK_END);
    std::string s(static_cast<size_t>(end - stderrSeen), '\0');
    if (!s.empty() && pread(stderrFile, &s[0], s.size(), stderrSeen) < 0) s.clear();
    stderrSeen = end;
    return s;
}

// Checks a call's result and what it printed: each of `lines` must occur in its stderr; with none,
// it must have printed nothing.
void expect(int line, const char* call, int actual, int expected, std::initializer_list<const char*> lines) {
    std::string printed = newStderr();
    if (actual != expected) failure(line, "%s returned %d, expected %d", call, actual, expected);
    if (lines.size() == 0 && !printed.empty()) {
        failure(line, "%s printed, expected nothing:\n%s", call, printed.c_str());
    }
    for (const char* l : lines) {
        if (printed.find(l) == std::string::npos) {
            failure(line, "%s did not print \"%s\"; it printed:\n%s", call, l, printed.empty() ? "(nothing)\n" : printed.c_str());
        }
    }
}

#define EXPECT(call, expected, ...) expect(__LINE__, #call, (call), (expected), {__VA_ARGS__})
#define CHECK(cond, ...)                                    \
    do {                                                    \
        if (!(cond)) failure(__LINE__, __VA_ARGS__);        \
    } while (0)

std::string hex(uint64_t p) {
    char buf[32];
    snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(p));
    return buf;
}

uint32_t bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

// ---------------------------------------------------------------- emulator helpers

constexpr uint32_t UNINITIALISED = 0x7fc0baddu;  // what cuMemAlloc's memory holds (memory.cpp)
constexpr uint32_t SHARED_POISON = 0x7fc05a4du;  // what shared memory holds (scheduler.cpp)

CUmodule module = nullptr;

// cuInit, the primary context retained and current, the test module loaded
void start() {
    CUdevice dev;
    CUcontext ctx;
    EXPECT(cuInit(0), SUCCESS);
    EXPECT(cuDeviceGet(&dev, 0), SUCCESS);
    EXPECT(cuDevicePrimaryCtxRetain(&ctx, 0), SUCCESS);
    EXPECT(cuCtxSetCurrent(ctx), SUCCESS);
    EXPECT(cuModuleLoadData(&module, MODULE), SUCCESS);
}

CUfunction fn(const char* name) {
    CUfunction f = nullptr;
    EXPECT(cuModuleGetFunction(&f, module, name), SUCCESS);
    return f;
}

CUdeviceptr alloc(size_t bytes) {
    CUdeviceptr p = 0;
    EXPECT(cuMemAlloc_v2(&p, bytes), SUCCESS);
    return p;
}

std::vector<float> download(CUdeviceptr p, size_t n) {
    std::vector<float> v(n);
    EXPECT(cuMemcpyDtoH_v2(v.data(), p, n * 4), SUCCESS);
    return v;
}

CUdeviceptr upload(const std::vector<float>& v) {
    CUdeviceptr p = alloc(v.size() * 4);
    EXPECT(cuMemcpyHtoD_v2(p, v.data(), v.size() * 4), SUCCESS);
    return p;
}

std::vector<float> randoms(size_t n, unsigned seed) {
    std::mt19937 g(seed);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = d(g);
    return v;
}

// launches with the parameters given by address
CUresult launch(CUfunction f, unsigned grid, unsigned block, unsigned shared, CUstream s,
                std::initializer_list<void*> params) {
    std::vector<void*> p(params);
    return cuLaunchKernel(f, grid, 1, 1, block, 1, 1, shared, s, p.data(), nullptr);
}

CUresult fill(CUdeviceptr p, int offset, int n, CUstream s = nullptr) {
    return launch(fn("emutest_fill"), (n + 63) / 64 > 0 ? (n + 63) / 64 : 1, 64, 0, s, {&p, &offset, &n});
}

CUresult sync(CUdeviceptr out, int mode, unsigned threads) {
    return launch(fn("emutest_sync"), 1, threads, 0, nullptr, {&out, &mode});
}

// the sticky error: every call in the context fails with `code`, silently
void expectSticky(int code) {
    CUdeviceptr p = 0;
    float host[4];
    EXPECT(cuMemAlloc_v2(&p, 256), code);
    EXPECT(cuMemcpyHtoD_v2(0, host, 0), code);
    EXPECT(cuCtxSynchronize(), code);
    EXPECT(cuModuleLoadData(&module, MODULE), code);
    CUfunction f = nullptr;
    EXPECT(cuModuleGetFunction(&f, module, "emutest_fill"), code);
}

// ---------------------------------------------------------------- barriers and shuffles

CASE(barrierAndShuffleRunWhenEveryThreadTakesPart) {
    start();
    CUdeviceptr out = alloc(64 * 4);
    EXPECT(sync(out, 0, 64), SUCCESS);
    std::vector<float> v = download(out, 64);
    for (int t = 0; t < 64; t++) {
        float want = static_cast<float>((63 - t) + (63 - (t ^ 1)));
        CHECK(v[t] == want, "out[%d] = %g, expected %g", t, v[t], want);
    }
}

CASE(aButterflySumOverEachWarpGivesEveryLaneTheSum) {
    start();
    CUdeviceptr out = alloc(96 * 4);
    EXPECT(sync(out, 9, 96), SUCCESS);
    std::vector<float> v = download(out, 96);
    for (int t = 0; t < 96; t++) {
        float want = static_cast<float>(32 * 32 * (t / 32) + 31 * 32 / 2);
        CHECK(v[t] == want, "out[%d] = %g, expected %g", t, v[t], want);
    }
}

CASE(aBarrierOneThreadWaitsAtWhileItsWarpWaitsForItIsADeadlock) {
    start();
    CUdeviceptr out = alloc(64 * 4);
    EXPECT(sync(out, 1, 64), LAUNCH_FAILED,
           "cuda-emu: kernel emutest_sync deadlocked in block (0, 0, 0): 1 threads wait at __syncthreads, 31 at a "
           "warp shuffle, 32 have exited, and none can go on",
           "the context now has a sticky error (719)");
    expectSticky(LAUNCH_FAILED);
}

CASE(aShuffleWhoseMaskLeavesOutTheCallerFails) {
    start();
    CUdeviceptr out = alloc(64 * 4);
    EXPECT(sync(out, 2, 64), LAUNCH_FAILED,
           "cuda-emu: kernel emutest_sync: lane 16 calls __shfl_xor_sync with mask 0x0000ffff, which leaves it out");
}

CASE(aLaneExitingWhileItsWarpWaitsForItAtAShuffleFails) {
    start();
    CUdeviceptr out = alloc(64 * 4);
    EXPECT(sync(out, 3, 64), LAUNCH_FAILED,
           "cuda-emu: kernel emutest_sync: lane 16 of warp 0 exited while lanes of its warp wait for it at "
           "__shfl_xor_sync (mask 0xffffffff)");
}

CASE(lanesMeetingAtAShuffleWithDifferentMasksFail) {
    start();
    CUdeviceptr out = alloc(64 * 4);
    EXPECT(sync(out, 4, 64), LAUNCH_FAILED,
           "cuda-emu: kernel emutest_sync: lanes of warp 0 meet at __shfl_xor_sync with different masks (0xffffffff, "
           "0x0000ffff)");
}

CASE(aShuffleReadingALaneItsMaskLeavesOutFails) {
    start();
    CUdeviceptr out = alloc(64 * 4);
    EXPECT(sync(out, 6, 64), LAUNCH_FAILED, "with __shfl_xor_sync, which the mask 0x0000ffff leaves out");
}

CASE(aFullMaskShuffleInAPartialWarpNamesMissingLanes) {
    start();
    CUdeviceptr out = alloc(48 * 4);
    EXPECT(sync(out, 0, 48), LAUNCH_FAILED,
           "cuda-emu: kernel emutest_sync: __shfl_xor_sync with mask 0xffffffff names lane 16 of warp 1, which does "
           "not exist (the block is smaller)");
}

CASE(halfWarpsShufflingOnTheirOwnAfterABarrierRun) {
    start();
    CUdeviceptr out = alloc(64 * 4);
    EXPECT(sync(out, 5, 64), SUCCESS);
    std::vector<float> v = download(out, 64);
    for (int t = 0; t < 64; t++) CHECK(v[t] == static_cast<float>(t ^ 1), "out[%d] = %g, expected %d", t, v[t], t ^ 1);
}

CASE(aFaultInAKernelRunAsFibersIsAnIllegalAddress) {
    start();
    CUdeviceptr out = alloc(64 * 4);  // ends at a guard page: out[64] faults
    EXPECT(sync(out, 7, 64), ILLEGAL_ADDRESS,
           ("cuda-emu: kernel emutest_sync faulted at address " + hex(out + 256) + " in block (0, 0, 0), thread (5, 0, "
            "0)").c_str(),
           "the context now has a sticky error (700)");
    expectSticky(ILLEGAL_ADDRESS);
    // the context released and retained again: fibers run cleanly again
    EXPECT(cuDevicePrimaryCtxRelease_v2(0), SUCCESS);
    start();
    out = alloc(64 * 4);
    EXPECT(sync(out, 0, 64), SUCCESS);
    CHECK(download(out, 64)[0] == 63 + 62, "after the context was recreated, out[0] is wrong");
}

CASE(staticSharedMemoryStartsUninitialised) {
    start();
    CUdeviceptr out = alloc(64 * 4);
    EXPECT(sync(out, 8, 64), SUCCESS);
    std::vector<float> v = download(out, 64);
    for (int t = 0; t < 64; t++) CHECK(bits(v[t]) == SHARED_POISON, "s[%d] read 0x%08x before any write", t, bits(v[t]));
}

// ---------------------------------------------------------------- memory

CASE(newDeviceMemoryHoldsTheNanPattern) {
    start();
    CUdeviceptr p = alloc(100 * 4);
    CHECK(p % 256 == 0, "cuMemAlloc returned %s, not 256-byte aligned", hex(p).c_str());
    std::vector<float> v = download(p, 100);
    for (int k = 0; k < 100; k++) CHECK(bits(v[k]) == UNINITIALISED, "word %d is 0x%08x", k, bits(v[k]));
}

CASE(aKernelWritingItsWholeAllocationRuns) {
    start();
    CUdeviceptr p = alloc(100 * 4);
    EXPECT(fill(p, 0, 100), SUCCESS);
    std::vector<float> v = download(p, 100);
    for (int k = 0; k < 100; k++) CHECK(v[k] == k, "p[%d] = %g", k, v[k]);
}

CASE(aWriteOneFloatPastAnAllocationEndingAtItsGuardPageFaults) {
    start();
    CUdeviceptr p = alloc(64 * 4);
    EXPECT(fill(p, 0, 65), ILLEGAL_ADDRESS,
           ("cuda-emu: kernel emutest_fill faulted at address " + hex(p + 256) + " in block (1, 0, 0), thread (0, 0, "
            "0)").c_str(),
           "cuda-emu: kernel emutest_fill failed: the context now has a sticky error (700)");
}

CASE(aWriteOneFloatPastAnAllocationIntoItsCanaryIsAnIllegalAddress) {
    start();
    CUdeviceptr p = alloc(100 * 4);
    EXPECT(fill(p, 0, 101), ILLEGAL_ADDRESS,
           ("cuda-emu: kernel emutest_fill wrote out of the bounds of the allocation at " + hex(p) + " (400 bytes)")
               .c_str(),
           "the context now has a sticky error (700)");
}

CASE(aWriteOneFloatBeforeAnAllocationIsAnIllegalAddress) {
    start();
    CUdeviceptr p = alloc(100 * 4);
    EXPECT(fill(p, -1, 1), ILLEGAL_ADDRESS,
           ("cuda-emu: kernel emutest_fill wrote out of the bounds of the allocation at " + hex(p) + " (400 bytes)")
               .c_str());
}

CASE(aReadOneFloatPastAnAllocationGivesNan) {
    start();
    CUdeviceptr src = alloc(100 * 4), dst = alloc(4 * 4);
    EXPECT(fill(src, 0, 100), SUCCESS);
    int offset = 98, n = 4;  // src[98], src[99], then two floats past its end
    EXPECT(launch(fn("emutest_copy"), 1, 4, 0, nullptr, {&src, &offset, &dst, &n}), SUCCESS);
    std::vector<float> v = download(dst, 4);
    CHECK(v[0] == 98 && v[1] == 99, "dst = %g %g, expected 98 99", v[0], v[1]);
    CHECK(std::isnan(v[2]) && std::isnan(v[3]), "reading past the allocation gave %g (0x%08x), %g (0x%08x), not NaN",
          v[2], bits(v[2]), v[3], bits(v[3]));
}

CASE(anIllegalAddressIsStickyUntilTheLastReferenceIsReleased) {
    start();
    CUcontext ctx;
    EXPECT(cuDevicePrimaryCtxRetain(&ctx, 0), SUCCESS);  // a second reference
    CUdeviceptr p = alloc(64 * 4);
    EXPECT(fill(p, 0, 65), ILLEGAL_ADDRESS, "faulted at address");
    expectSticky(ILLEGAL_ADDRESS);
    EXPECT(cuDevicePrimaryCtxRelease_v2(0), SUCCESS);
    unsigned flags;
    int active = -1;
    EXPECT(cuDevicePrimaryCtxGetState(0, &flags, &active), SUCCESS);
    CHECK(active == 1, "the context is inactive with one reference left");
    expectSticky(ILLEGAL_ADDRESS);
    EXPECT(cuDevicePrimaryCtxRelease_v2(0), SUCCESS);
    EXPECT(cuDevicePrimaryCtxGetState(0, &flags, &active), SUCCESS);
    CHECK(active == 0, "the context is active after its last reference was released");
    start();
    p = alloc(64 * 4);
    EXPECT(fill(p, 0, 64), SUCCESS);
    CHECK(download(p, 64)[63] == 63, "the recreated context does not run kernels");
}

CASE(aPointerArgumentIntoNoAllocationIsAnIllegalAddress) {
    start();
    static float host[64];
    CUdeviceptr h = reinterpret_cast<CUdeviceptr>(host);
    EXPECT(fill(h, 0, 1), ILLEGAL_ADDRESS,
           ("cuda-emu: kernel emutest_fill: parameter 0 is " + hex(h) + ", which points into no device allocation")
               .c_str(),
           "the context now has a sticky error (700)");
    CHECK(host[0] == 0, "the kernel wrote host memory");
}

CASE(aPointerArgumentToFreedMemoryIsAnIllegalAddress) {
    start();
    CUdeviceptr p = alloc(64 * 4);
    EXPECT(cuMemFree_v2(p), SUCCESS);
    EXPECT(fill(p, 0, 0), ILLEGAL_ADDRESS,
           ("cuda-emu: kernel emutest_fill: parameter 0 is " + hex(p) + ", which points into no device allocation")
               .c_str());
}

CASE(pointerArgumentsInsideOrOnePastAnAllocationAreAccepted) {
    start();
    CUdeviceptr p = alloc(64 * 4);
    EXPECT(fill(p + 64 * 4, 0, 0), SUCCESS);  // one past the end, never dereferenced
    EXPECT(fill(p + 10 * 4, 0, 5), SUCCESS);
    std::vector<float> v = download(p, 64);
    CHECK(v[10] == 0 && v[14] == 4 && bits(v[15]) == UNINITIALISED, "p[10..15] = %g .. %g, %g", v[10], v[14], v[15]);
}

// ---------------------------------------------------------------- PTX against the C++

std::string moduleWith(const char* from, const char* to) {
    std::string m = MODULE;
    size_t at = m.find(from);
    if (at == std::string::npos) {
        failure(__LINE__, "the test module has no \"%s\"", from);
        return m;
    }
    return m.replace(at, strlen(from), to);
}

CASE(theTestModuleLoadsWithItsLimits) {
    start();
    int v = -1;
    EXPECT(cuFuncGetAttribute(&v, FUNC_MAX_THREADS, fn("emutest_bounded")), SUCCESS);
    CHECK(v == 64, "emutest_bounded: MAX_THREADS_PER_BLOCK %d, expected .maxntid 64", v);
    EXPECT(cuFuncGetAttribute(&v, FUNC_MAX_THREADS, fn("emutest_fill")), SUCCESS);
    CHECK(v == 1024, "emutest_fill: MAX_THREADS_PER_BLOCK %d, expected 1024", v);
    EXPECT(cuFuncGetAttribute(&v, FUNC_SHARED_BYTES, fn("emutest_static_shared")), SUCCESS);
    CHECK(v == 16384, "emutest_static_shared: SHARED_SIZE_BYTES %d, expected 16384", v);
}

CASE(aPtxWithAParameterFewerThanTheCppIsRefused) {
    start();
    std::string ptx = moduleWith("    .param .u32 emutest_fill_param_1,\n", "");
    CUmodule m = nullptr;
    EXPECT(cuModuleLoadData(&m, ptx.c_str()), INVALID_IMAGE,
           "cuda-emu: cuModuleLoadData: kernel emutest_fill has 2 parameters in the PTX (bytes: 8 4 ) but 3 in its C++ "
           "signature (bytes: 8 4 4 ): the PTX is stale");
}

CASE(aPtxWithAParameterOfAnotherSizeIsRefused) {
    start();
    std::string ptx = moduleWith(".param .u32 emutest_copy_param_1", ".param .u64 emutest_copy_param_1");
    CUmodule m = nullptr;
    EXPECT(cuModuleLoadData(&m, ptx.c_str()), INVALID_IMAGE,
           "cuda-emu: cuModuleLoadData: kernel emutest_copy has 4 parameters in the PTX (bytes: 8 8 8 4 ) but 4 in its "
           "C++ signature (bytes: 8 4 8 4 )");
}

CASE(aPtxKernelWithoutAHostBuildIsRefused) {
    start();
    std::string ptx = moduleWith(".entry emutest_spin(", ".entry emutest_missing(");
    CUmodule m = nullptr;
    EXPECT(cuModuleLoadData(&m, ptx.c_str()), NOT_FOUND,
           "cuda-emu: cuModuleLoadData: the PTX has kernel emutest_missing, which no cuda/*.cu compiled for the "
           "emulator defines");
}

// ---------------------------------------------------------------- launch limits

CASE(aBlockLargerThanMaxntidOrTheDeviceIsRefused) {
    start();
    CUdeviceptr p = alloc(256 * 4);
    CUfunction f = fn("emutest_bounded");
    void* params[] = {&p};
    EXPECT(cuLaunchKernel(f, 1, 1, 1, 64, 1, 1, 0, nullptr, params, nullptr), SUCCESS);
    EXPECT(cuLaunchKernel(f, 1, 1, 1, 65, 1, 1, 0, nullptr, params, nullptr), LAUNCH_OUT_OF_RESOURCES,
           "cuda-emu: cuLaunchKernel(emutest_bounded): 65 threads per block, more than its .maxntid "
           "(__launch_bounds__) of 64");
    EXPECT(cuLaunchKernel(f, 1, 1, 1, 8, 4, 4, 0, nullptr, params, nullptr), LAUNCH_OUT_OF_RESOURCES,
           "128 threads per block, more than its .maxntid");
    int offset = 0, n = 0;
    void* fillParams[] = {&p, &offset, &n};
    CUfunction fill = fn("emutest_fill");
    EXPECT(cuLaunchKernel(fill, 1, 1, 1, 1025, 1, 1, 0, nullptr, fillParams, nullptr), INVALID_VALUE,
           "cuda-emu: cuLaunchKernel(emutest_fill): block 1025 x 1 x 1 is outside the device's limits");
    EXPECT(cuLaunchKernel(fill, 1, 1, 1, 32, 32, 2, 0, nullptr, fillParams, nullptr), INVALID_VALUE,
           "cuda-emu: cuLaunchKernel(emutest_fill): block 32 x 32 x 2 is outside the device's limits");
    EXPECT(cuLaunchKernel(fill, 1, 1, 1, 32, 32, 1, 0, nullptr, fillParams, nullptr), SUCCESS);
    CHECK(download(p, 64)[63] == 2.0f && bits(download(p, 65)[64]) == UNINITIALISED,
          "the refused launches wrote, or the accepted one did not");
}

CASE(dynamicSharedMemoryOver48KiBNeedsTheAttribute) {
    start();
    CUdeviceptr out = alloc(2 * 4);
    CUfunction f = fn("emutest_shared");
    int n = 48 * 1024 / 4, mode = 0;
    EXPECT(launch(f, 1, 1, 48 * 1024, nullptr, {&out, &n, &mode}), SUCCESS);  // exactly 48 KiB
    n = 64 * 1024 / 4;
    EXPECT(launch(f, 1, 1, 64 * 1024, nullptr, {&out, &n, &mode}), INVALID_VALUE,
           "cuda-emu: cuLaunchKernel(emutest_shared): 65536 bytes of dynamic shared memory, more than the 49152 "
           "allowed");
    EXPECT(cuFuncSetAttribute(f, FUNC_MAX_DYNAMIC_SHARED, 64 * 1024), SUCCESS);
    EXPECT(launch(f, 1, 1, 64 * 1024, nullptr, {&out, &n, &mode}), SUCCESS);
    std::vector<float> v = download(out, 2);
    CHECK(bits(v[0]) == SHARED_POISON, "dynamic shared memory read 0x%08x before any write", bits(v[0]));
    CHECK(v[1] == static_cast<float>(n * (n - 1.0) / 2), "sum of dyn[0..%d) = %g", n, v[1]);
    EXPECT(launch(f, 1, 1, 64 * 1024 + 4, nullptr, {&out, &n, &mode}), INVALID_VALUE, "65540 bytes");
    EXPECT(cuFuncSetAttribute(f, FUNC_MAX_DYNAMIC_SHARED, 232448 + 1), INVALID_VALUE,
           "cuda-emu: cuFuncSetAttribute(emutest_shared, MAX_DYNAMIC_SHARED_SIZE_BYTES, 232449)");
}

CASE(aWritePastDynamicSharedMemoryFaults) {
    start();
    CUdeviceptr out = alloc(2 * 4);
    CUfunction f = fn("emutest_shared");
    int n = 1024, mode = 1;
    EXPECT(launch(f, 1, 1, n * 4, nullptr, {&out, &n, &mode}), ILLEGAL_ADDRESS,
           "cuda-emu: kernel emutest_shared faulted at address");
}

CASE(staticSharedMemoryCountsAgainstTheDynamicLimit) {
    start();
    CUdeviceptr out = alloc(2 * 4);
    CUfunction f = fn("emutest_static_shared");
    int n = 40 * 1024 / 4;  // 40 KiB, less than 48 KiB, but with 16 KiB static more
    EXPECT(launch(f, 1, 1, n * 4, nullptr, {&out, &n}), INVALID_VALUE,
           "cuda-emu: cuLaunchKernel(emutest_static_shared): 40960 bytes of dynamic shared memory, more than the 32768 "
           "allowed (48 KiB minus 16384 static");
    n = 32 * 1024 / 4;
    EXPECT(launch(f, 1, 1, n * 4, nullptr, {&out, &n}), SUCCESS);
    std::vector<float> v = download(out, 2);
    CHECK(bits(v[0]) == SHARED_POISON && v[1] == n, "out = 0x%08x %g", bits(v[0]), v[1]);
}

// ---------------------------------------------------------------- capture and graphs

CUstream newStream(unsigned flags) {
    CUstream s = nullptr;
    EXPECT(cuStreamCreate(&s, flags), SUCCESS);
    return s;
}

CASE(aCapturedGraphRunsWhenLaunchedWithTheValuesOfItsCapture) {
    start();
    CUdeviceptr p = alloc(64 * 4);
    CUstream s = newStream(STREAM_NON_BLOCKING);
    EXPECT(cuStreamBeginCapture_v2(s, CAPTURE_GLOBAL), SUCCESS);
    EXPECT(fill(p, 0, 64, s), SUCCESS);
    EXPECT(cuMemsetD32Async(p, bits(7.0f), 8, s), SUCCESS);
    CUgraph g = nullptr;
    EXPECT(cuStreamEndCapture(s, &g), SUCCESS);
    CHECK(bits(download(p, 1)[0]) == UNINITIALISED, "capturing ran the work");
    CUgraphExec x = nullptr;
    EXPECT(cuGraphInstantiateWithFlags(&x, g, 0), SUCCESS);
    EXPECT(cuGraphLaunch(x, s), SUCCESS);
    EXPECT(cuStreamSynchronize(s), SUCCESS);
    std::vector<float> v = download(p, 64);
    CHECK(v[7] == 7.0f && v[8] == 8.0f && v[63] == 63.0f, "p[7], p[8], p[63] = %g %g %g", v[7], v[8], v[63]);
}

CASE(aSynchronousMemsetInsideACaptureInvalidatesIt) {
    start();
    CUdeviceptr p = alloc(64 * 4);
    CUstream s = newStream(STREAM_NON_BLOCKING);
    EXPECT(cuStreamBeginCapture_v2(s, CAPTURE_GLOBAL), SUCCESS);
    EXPECT(fill(p, 0, 64, s), SUCCESS);
    EXPECT(cuMemsetD32_v2(p, 0, 64), CAPTURE_UNSUPPORTED,
           "cuda-emu: cuMemsetD32 while a stream is being captured (mode global): not permitted during capture; the "
           "capture is invalidated");
    int status = -1;
    EXPECT(cuStreamIsCapturing(s, &status), SUCCESS);
    CHECK(status == 2, "cuStreamIsCapturing: %d, expected 2 (invalidated)", status);
    EXPECT(fill(p, 0, 64, s), CAPTURE_INVALIDATED);
    CUgraph g = reinterpret_cast<CUgraph>(1);
    EXPECT(cuStreamEndCapture(s, &g), CAPTURE_INVALIDATED,
           "cuda-emu: cuStreamEndCapture: the capture was invalidated by an earlier error; no graph");
    CHECK(g == nullptr, "an invalidated capture gave a graph");
    CHECK(bits(download(p, 1)[0]) == UNINITIALISED, "the memset or the captured launch ran");
    EXPECT(fill(p, 0, 64, s), SUCCESS);  // the stream is usable again
}

CASE(aStreamSynchronizeInsideACaptureInvalidatesIt) {
    start();
    CUstream s = newStream(STREAM_NON_BLOCKING);
    EXPECT(cuStreamBeginCapture_v2(s, CAPTURE_GLOBAL), SUCCESS);
    EXPECT(cuStreamSynchronize(s), CAPTURE_UNSUPPORTED, "cuda-emu: cuStreamSynchronize on a stream being captured");
    CUgraph g = nullptr;
    EXPECT(cuStreamEndCapture(s, &g), CAPTURE_INVALIDATED, "the capture was invalidated");
}

CASE(aRelaxedCaptureAllowsASynchronousMemsetButNotOnTheLegacyStreamOfABlockingOne) {
    start();
    CUdeviceptr p = alloc(64 * 4);
    CUstream s = newStream(STREAM_NON_BLOCKING);
    EXPECT(cuStreamBeginCapture_v2(s, CAPTURE_RELAXED), SUCCESS);
    EXPECT(cuMemsetD32_v2(p, 0, 64), SUCCESS);
    CUgraph g = nullptr;
    EXPECT(cuStreamEndCapture(s, &g), SUCCESS);
    CUstream b = newStream(0);
    EXPECT(cuStreamBeginCapture_v2(b, CAPTURE_RELAXED), SUCCESS);
    EXPECT(cuMemsetD32_v2(p, 0, 64), CAPTURE_IMPLICIT,
           "cuda-emu: cuMemsetD32 on the legacy stream while a blocking stream is being captured");
    EXPECT(cuStreamEndCapture(b, &g), CAPTURE_INVALIDATED, "the capture was invalidated");
}

CASE(aGraphReplayedAfterItsBufferWasFreedIsAnIllegalAddress) {
    start();
    CUdeviceptr p = alloc(64 * 4);
    CUstream s = newStream(STREAM_NON_BLOCKING);
    EXPECT(cuStreamBeginCapture_v2(s, CAPTURE_GLOBAL), SUCCESS);
    EXPECT(fill(p, 0, 64, s), SUCCESS);
    CUgraph g = nullptr;
    EXPECT(cuStreamEndCapture(s, &g), SUCCESS);
    CUgraphExec x = nullptr;
    EXPECT(cuGraphInstantiateWithFlags(&x, g, 0), SUCCESS);
    EXPECT(cuGraphLaunch(x, s), SUCCESS);
    EXPECT(cuMemFree_v2(p), SUCCESS);
    EXPECT(cuGraphLaunch(x, s), ILLEGAL_ADDRESS,
           ("cuda-emu: kernel emutest_fill: parameter 0 is " + hex(p) + ", which points into no device allocation")
               .c_str(),
           "cuda-emu: graph node 'kernel emutest_fill' failed (700)",
           "cuda-emu: cuGraphLaunch failed: the context now has a sticky error (700)");
    expectSticky(ILLEGAL_ADDRESS);
}

CASE(aGraphReplayingAMemsetIntoFreedMemoryIsAnIllegalAddress) {
    start();
    CUdeviceptr p = alloc(64 * 4);
    CUstream s = newStream(STREAM_NON_BLOCKING);
    EXPECT(cuStreamBeginCapture_v2(s, CAPTURE_GLOBAL), SUCCESS);
    EXPECT(cuMemsetD32Async(p, 0, 64, s), SUCCESS);
    CUgraph g = nullptr;
    EXPECT(cuStreamEndCapture(s, &g), SUCCESS);
    CUgraphExec x = nullptr;
    EXPECT(cuGraphInstantiateWithFlags(&x, g, 0), SUCCESS);
    EXPECT(cuMemFree_v2(p), SUCCESS);
    EXPECT(cuGraphLaunch(x, s), ILLEGAL_ADDRESS, "cuda-emu: cuMemsetD32Async: destination no longer allocated");
}

// ---------------------------------------------------------------- cuBLAS

cublasHandle_t blas() {
    cublasHandle_t h = nullptr;
    EXPECT(cublasCreate_v2(&h), BLAS_SUCCESS);
    return h;
}

// C = alpha op(A) op(B) + beta C in double, column-major
std::vector<double> gemmReference(int ta, int tb, int m, int n, int k, float alpha, const std::vector<float>& A, int lda,
                                  const std::vector<float>& B, int ldb, float beta, const std::vector<float>& C, int ldc,
                                  float (*round)(float)) {
    std::vector<double> out(C.begin(), C.end());
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                float a = ta == BLAS_N ? A[i + p * lda] : A[p + i * lda];
                float b = tb == BLAS_N ? B[p + j * ldb] : B[j + p * ldb];
                s += static_cast<double>(round(a)) * round(b);
            }
            out[i + j * ldc] = alpha * s + (beta == 0 ? 0.0 : beta * static_cast<double>(C[i + j * ldc]));
        }
    }
    return out;
}

float same(float x) { return x; }

// TF32: 10 mantissa bits, to nearest, ties to even (written independently of the emulator's)
float tf32(float x) {
    if (!std::isfinite(x) || x == 0) return x;
    int e;
    double m = std::frexp(static_cast<double>(x), &e);  // x = m 2^e, 0.5 <= |m| < 1
    return static_cast<float>(std::ldexp(std::nearbyint(std::ldexp(m, 11)), e - 11));
}

// One GEMM with leading dimensions larger than the rows; the rows between m and ldc must stay.
void checkGemm(cublasHandle_t h, int ta, int tb, float (*round)(float), double tolerance) {
    const int m = 5, n = 7, k = 6;
    int rowsA = ta == BLAS_N ? m : k, colsA = ta == BLAS_N ? k : m;
    int rowsB = tb == BLAS_N ? k : n, colsB = tb == BLAS_N ? n : k;
    int lda = rowsA + 2, ldb = rowsB + 1, ldc = m + 3;
    std::vector<float> A = randoms(lda * colsA, 1 + ta), B = randoms(ldb * colsB, 3 + tb), C = randoms(ldc * n, 5);
    float alpha = 0.75f, beta = -0.5f;
    CUdeviceptr a = upload(A), b = upload(B), c = upload(C);
    EXPECT(cublasSgemm_v2(h, ta, tb, m, n, k, &alpha, reinterpret_cast<float*>(a), lda, reinterpret_cast<float*>(b),
                          ldb, &beta, reinterpret_cast<float*>(c), ldc),
           BLAS_SUCCESS);
    std::vector<double> want = gemmReference(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, round);
    std::vector<float> got = download(c, C.size());
    double diff = 0, norm = 0;
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < ldc; i++) {
            size_t at = i + j * ldc;
            if (i >= m) {
                CHECK(got[at] == C[at], "transa %d transb %d: C(%d, %d), below the m rows, changed", ta, tb, i, j);
                continue;
            }
            diff += (got[at] - want[at]) * (got[at] - want[at]);
            norm += want[at] * want[at];
        }
    }
    double rel = std::sqrt(diff / norm);
    CHECK(rel < tolerance, "transa %d transb %d: ||C - ref|| / ||ref|| = %.3g, expected < %.1g", ta, tb, rel, tolerance);
}

CASE(sgemmMatchesANaiveProductInAllFourTransposeCases) {
    start();
    cublasHandle_t h = blas();
    for (int ta : {BLAS_N, BLAS_T}) {
        for (int tb : {BLAS_N, BLAS_T}) checkGemm(h, ta, tb, &same, 1e-6);
    }
}

CASE(sgemmInTf32ModeRoundsItsInputsToTf32) {
    start();
    cublasHandle_t h = blas();
    EXPECT(cublasSetMathMode(h, BLAS_TF32), BLAS_SUCCESS);
    for (int ta : {BLAS_N, BLAS_T}) {
        for (int tb : {BLAS_N, BLAS_T}) checkGemm(h, ta, tb, &tf32, 1e-6);
    }
    // exact cases: 1 + 2^-11 is halfway between TF32 neighbours 1 and 1 + 2^-10 (ties to even: 1);
    // 1 + 3 2^-11 halfway between 1 + 2^-10 and 1 + 2^-9 (to even: 1 + 2^-9); just above half rounds up
    std::vector<float> A = {1 + 0x1p-11f, 1 + 3 * 0x1p-11f, 1 + 0x1p-11f + 0x1p-20f, -(1 + 0x1p-11f)};
    std::vector<float> want = {1.0f, 1 + 0x1p-9f, 1 + 0x1p-10f, -1.0f};
    CUdeviceptr a = upload(A), b = upload({1.0f}), c = alloc(4 * 4);
    float one = 1, zero = 0;
    EXPECT(cublasSgemm_v2(h, BLAS_N, BLAS_N, 4, 1, 1, &one, reinterpret_cast<float*>(a), 4, reinterpret_cast<float*>(b),
                          1, &zero, reinterpret_cast<float*>(c), 4),
           BLAS_SUCCESS);
    std::vector<float> got = download(c, 4);
    for (int i = 0; i < 4; i++) {
        CHECK(got[i] == want[i], "TF32 of %a: %a, expected %a", A[i], got[i], want[i]);
    }
}

CASE(sgemmWithBetaZeroDoesNotReadC) {
    start();
    cublasHandle_t h = blas();
    const int m = 4, n = 3, k = 5;
    std::vector<float> A = randoms(m * k, 11), B = randoms(k * n, 12);
    CUdeviceptr a = upload(A), b = upload(B), c = alloc(m * n * 4);  // C: the NaN pattern
    float alpha = 1.5f, beta = 0;
    EXPECT(cublasSgemm_v2(h, BLAS_N, BLAS_N, m, n, k, &alpha, reinterpret_cast<float*>(a), m,
                          reinterpret_cast<float*>(b), k, &beta, reinterpret_cast<float*>(c), m),
           BLAS_SUCCESS);
    std::vector<float> got = download(c, m * n);
    std::vector<double> want =
        gemmReference(BLAS_N, BLAS_N, m, n, k, alpha, A, m, B, k, 0, std::vector<float>(m * n), m, &same);
    for (int i = 0; i < m * n; i++) {
        CHECK(std::isfinite(got[i]) && std::fabs(got[i] - want[i]) <= 1e-6 * std::fabs(want[i]) + 1e-7,
              "C[%d] = %g, expected %g", i, got[i], want[i]);
    }
    // the twin: beta = 1 reads the NaN
    CUdeviceptr c2 = alloc(m * n * 4);
    beta = 1;
    EXPECT(cublasSgemm_v2(h, BLAS_N, BLAS_N, m, n, k, &alpha, reinterpret_cast<float*>(a), m,
                          reinterpret_cast<float*>(b), k, &beta, reinterpret_cast<float*>(c2), m),
           BLAS_SUCCESS);
    CHECK(std::isnan(download(c2, 1)[0]), "beta = 1 with C uninitialised gave a number");
}

CASE(sgemmLeadingDimensionsBelowTheRowsAreInvalid) {
    start();
    cublasHandle_t h = blas();
    CUdeviceptr a = alloc(4096), b = alloc(4096), c = alloc(4096);
    float* A = reinterpret_cast<float*>(a);
    float* B = reinterpret_cast<float*>(b);
    float* C = reinterpret_cast<float*>(c);
    float one = 1;
    // m = 7, n = 3, k = 5
    EXPECT(cublasSgemm_v2(h, BLAS_N, BLAS_N, 7, 3, 5, &one, A, 6, B, 5, &one, C, 7), BLAS_INVALID_VALUE,
           "cuda-emu: cublasSgemm: lda=6 is less than the rows of A (7)");
    EXPECT(cublasSgemm_v2(h, BLAS_N, BLAS_N, 7, 3, 5, &one, A, 7, B, 4, &one, C, 7), BLAS_INVALID_VALUE,
           "cuda-emu: cublasSgemm: ldb=4 is less than the rows of B (5)");
    EXPECT(cublasSgemm_v2(h, BLAS_N, BLAS_N, 7, 3, 5, &one, A, 7, B, 5, &one, C, 6), BLAS_INVALID_VALUE,
           "cuda-emu: cublasSgemm: ldc=6 is less than m (7)");
    // transposed, the stored A is k x m and B n x k: lda = k and ldb = n are enough
    EXPECT(cublasSgemm_v2(h, BLAS_T, BLAS_T, 7, 3, 5, &one, A, 4, B, 3, &one, C, 7), BLAS_INVALID_VALUE,
           "cuda-emu: cublasSgemm: lda=4 is less than the rows of A (5)");
    EXPECT(cublasSgemm_v2(h, BLAS_T, BLAS_T, 7, 3, 5, &one, A, 5, B, 2, &one, C, 7), BLAS_INVALID_VALUE,
           "cuda-emu: cublasSgemm: ldb=2 is less than the rows of B (3)");
    EXPECT(cuMemsetD32_v2(c, 0, 1024), SUCCESS);
    EXPECT(cublasSgemm_v2(h, BLAS_T, BLAS_T, 7, 3, 5, &one, A, 5, B, 3, &one, C, 7), BLAS_SUCCESS);
}

CASE(sgemmReachingOutsideItsAllocationIsAnIllegalAddress) {
    start();
    cublasHandle_t h = blas();
    const int m = 8, n = 8, k = 8;
    CUdeviceptr a = upload(randoms(m * k, 1)), b = upload(randoms(k * n, 2)), c = alloc((m * n - 1) * 4);
    float one = 1, zero = 0;
    EXPECT(cublasSgemm_v2(h, BLAS_N, BLAS_N, m, n, k, &one, reinterpret_cast<float*>(a), m, reinterpret_cast<float*>(b),
                          k, &zero, reinterpret_cast<float*>(c), m),
           BLAS_EXECUTION_FAILED,
           "cuda-emu: cublasSgemm(m=8, n=8, k=8, lda=8, ldb=8, ldc=8): C reaches outside device memory",
           "cuda-emu: cublasSgemm failed: the context now has a sticky error (700)");
    expectSticky(ILLEGAL_ADDRESS);
}

// ---------------------------------------------------------------- controls (must be reported failed)

CONTROL(controlExpectingSuccessFromAnOutOfBoundsWrite, 10) {
    start();
    CUdeviceptr p = alloc(64 * 4);
    EXPECT(fill(p, 0, 65), SUCCESS);
}

CONTROL(controlExpectingALineNotPrinted, 10) {
    start();
    CUdeviceptr p = alloc(64 * 4);
    EXPECT(fill(p, 0, 64), SUCCESS, "cuda-emu: kernel emutest_fill wrote out of the bounds");
}

CONTROL(controlExpectingWrongValues, 10) {
    start();
    CUdeviceptr p = alloc(64 * 4);
    EXPECT(fill(p, 0, 64), SUCCESS);
    std::vector<float> v = download(p, 64);
    CHECK(v[1] == 2.0f, "p[1] = %g, expected 2 (this control expects a wrong value)", v[1]);
}

CONTROL(controlHangingKernel, 2) {
    start();
    CUdeviceptr flag = alloc(4);
    EXPECT(cuMemsetD32_v2(flag, 0, 1), SUCCESS);
    EXPECT(launch(fn("emutest_spin"), 1, 1, 0, nullptr, {&flag}), SUCCESS);
}

CONTROL(controlCrash, 10) {
    start();
    abort();
}

// ---------------------------------------------------------------- runner

// Runs one case in a child process; true when it passed.
// *how says in words how it ended.
bool runOne(const Case& c, std::string* how) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        printf("FAIL %s: fork failed\n", c.name);
        return false;
    }
    if (pid == 0) {
        char path[] = "/tmp/cuda-emu-selftest-XXXXXX";
        stderrFile = mkstemp(path);
        if (stderrFile < 0) _exit(3);
        unlink(path);
        dup2(stderrFile, 2);
        if (c.control) {
            // its failures are expected: only the runner's line about it is shown
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) dup2(null, 1);
        }
        alarm(c.seconds);  // a hang ends the case (SIGALRM) instead of the run
        caseName = c.name;
        c.run();
        std::string rest = newStderr();
        if (failures > 0 && !rest.empty()) printf("    %s: stderr after the last check:\n%s", c.name, rest.c_str());
        fflush(stdout);
        _exit(failures == 0 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) {
        *how = WEXITSTATUS(status) == 0 ? "passed" : "its checks failed";
        return WEXITSTATUS(status) == 0;
    }
    int sig = WTERMSIG(status);
    *how = sig == SIGALRM ? "timed out (a hang)" : std::string("killed by signal ") + strsignal(sig);
    if (!c.control) printf("    %s: %s\n", c.name, how->c_str());
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    setvbuf(stdout, nullptr, _IOLBF, 0);
    std::vector<std::string> names(argv + 1, argv + argc);
    if (names.size() == 1 && names[0] == "--list") {
        for (const Case& c : cases()) printf("%s%s\n", c.name, c.control ? " (control)" : "");
        return 0;
    }
    bool controls = true;
    if (names.size() == 1 && names[0] == "--no-controls") {
        controls = false;
        names.clear();
    }
    int passed = 0, failed = 0;
    for (const Case& c : cases()) {
        if (c.control && !controls) continue;
        if (!names.empty() && std::find(names.begin(), names.end(), c.name) == names.end()) continue;
        std::string how;
        bool ok = runOne(c, &how);
        if (c.control) {
            // a control is written to fail: the harness passes it when it reports the failure
            printf("%s %s (a control, written to fail: %s)\n", ok ? "FAIL" : "ok  ", c.name,
                   ok ? "it passed, so the harness cannot see this kind of failure" : how.c_str());
            ok = !ok;
        } else {
            printf("%s %s\n", ok ? "ok  " : "FAIL", c.name);
        }
        (ok ? passed : failed)++;
    }
    printf("cuda-emu self-test: %d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
