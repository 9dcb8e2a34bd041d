// Runs a grid of a host-compiled kernel: its blocks one after another (z, y, x), and in each block
// its threads either
//   - one after another, to the end (kernels without barriers or warp operations), or
//   - as fibers (kernels with __syncthreads or __shfl_*_sync): each thread has a stack of its own
//     and runs until it waits at a barrier; the block barrier releases when every thread that has
//     not exited waits at it, a warp shuffle when every lane its mask names has arrived (lanes of a
//     warp with disjoint masks, such as its two halves, shuffle independently).
// All live threads waiting with none able to go on is a deadlock: the launch fails naming the
// kernel instead of hanging. A fault (a read or write past an allocation's guard page) in a kernel
// fails the launch too, as CUDA_ERROR_ILLEGAL_ADDRESS.
//
// Strict: a shuffle whose mask leaves out the calling lane, names a lane that has exited or does
// not exist, or overlaps the mask of a shuffle lanes of its warp wait at without being equal to it
// fails the launch (undefined on a GPU).
// Permissive: threads that have exited count as arrived at __syncthreads (what current GPUs do);
// barriers at different places in the code count as one (bar.sync 0 does not tell them apart).
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>

#include "cuda_emu.h"
#include "emu.h"

uint3 threadIdx;
uint3 blockIdx;
dim3 blockDim;
dim3 gridDim;

// static __shared__ arrays of every kernel (cuda_emu.h puts them in this section)
extern "C" char __start_rnnrt_emu_shared[] __attribute__((weak));
extern "C" char __stop_rnnrt_emu_shared[] __attribute__((weak));

// emu_switch(save, to): saves the callee-saved registers and the stack pointer into *save and
// resumes the fiber whose stack pointer is `to` (System V x86-64).
extern "C" void emu_switch(void** save, void* to);
asm(R"(
.text
.globl emu_switch
.hidden emu_switch
.type emu_switch,@function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
.size emu_switch, .-emu_switch
)");

namespace emu {
namespace {

constexpr size_t STACK_BYTES = 256 * 1024;
constexpr uint32_t SHARED_POISON = 0x7fc05a4du;  // NaN

enum class State { READY, AT_BLOCK_BARRIER, AT_WARP_BARRIER, DONE };

struct Fiber {
    uint8_t* stack = nullptr;  // STACK_BYTES, with a guard page below
    void* sp = nullptr;
    uint3 tid{};
    State state = State::READY;
    // at a warp shuffle: the value it gives, the lane it reads, and what it receives
    uint32_t shuffleValue = 0;
    int shuffleSource = 0;
    uint32_t shuffleResult = 0;
};

// A warp shuffle some lanes of a warp wait at: it completes when every lane of its mask arrived.
struct Shuffle {
    uint32_t mask;
    uint32_t arrived;
};

struct Warp {
    std::vector<Shuffle> pending;  // disjoint masks
};

// The block running (one at a time: the emulator's lock is held).
struct Block {
    const Grid* grid = nullptr;
    bool interleaved = false;
    std::vector<Fiber> fibers;
    std::vector<Warp> warps;
    int count = 0;           // threads in the block
    int live = 0;            // not exited
    int atBarrier = 0;       // waiting at __syncthreads
    int current = -1;        // the fiber running, -1 in sequential mode
    void* schedulerSp = nullptr;
    std::string failure;
    sigjmp_buf abort;        // where a failure or a fault returns to
    bool running = false;    // a kernel is on this thread's stack (for the fault handler)
    void* faultAddress = nullptr;
};

Block block;
uint8_t* sharedRegion = nullptr;  // dynamic shared memory with a guard page after it
size_t sharedRegionBytes = 0;
void* dynamicShared = nullptr;

[[noreturn]] void fail(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    block.failure = buf;
    siglongjmp(block.abort, 1);
}

void switchAway(Fiber& f);

[[noreturn]] void fiberMain() {
    Fiber& f = block.fibers[block.current];
    block.grid->kernel->invoke(block.grid->kernel->fn, block.grid->params);
    f.state = State::DONE;
    block.live--;
    int t = block.current;
    for (const Shuffle& s : block.warps[t / 32].pending) {
        if (s.mask & (1u << (t % 32))) {
            fail("kernel %s: lane %d of warp %d exited while lanes of its warp wait for it at __shfl_xor_sync (mask "
                 "0x%08x)", block.grid->kernel->name.c_str(), t % 32, t / 32, s.mask);
        }
    }
    // threads that exited count as arrived: the others at the barrier may go on
    if (block.live > 0 && block.atBarrier == block.live) {
        for (Fiber& o : block.fibers) {
            if (o.state == State::AT_BLOCK_BARRIER) o.state = State::READY;
        }
        block.atBarrier = 0;
    }
    switchAway(f);
    __builtin_unreachable();
}

// Leaves fiber f (waiting or done) for the next ready fiber after it, or for the scheduler when
// none is ready (all done, or a deadlock). Whoever resumes f has set block.current and threadIdx.
void switchAway(Fiber& f) {
    int n = block.count;
    for (int step = 1; step < n; step++) {
        int k = block.current + step;
        if (k >= n) k -= n;
        Fiber& next = block.fibers[k];
        if (next.state == State::READY) {
            block.current = k;
            threadIdx = next.tid;
            emu_switch(&f.sp, next.sp);
            return;
        }
    }
    emu_switch(&f.sp, block.schedulerSp);
}

void prepare(Fiber& f) {
    if (f.stack == nullptr) {
        size_t pg = static_cast<size_t>(sysconf(_SC_PAGESIZE));
        void* m = mmap(nullptr, STACK_BYTES + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                       -1, 0);
        if (m == MAP_FAILED) fail("could not map a thread stack");
        mprotect(m, pg, PROT_NONE);
        f.stack = static_cast<uint8_t*>(m) + pg;
    }
    // the stack as emu_switch leaves it: six registers, then the return address fiberMain, then a
    // slot standing for fiberMain's own return address (16-byte alignment as after a call)
    void** top = reinterpret_cast<void**>(f.stack + STACK_BYTES);
    top[-1] = nullptr;
    top[-2] = reinterpret_cast<void*>(&fiberMain);
    for (int k = 3; k <= 8; k++) top[-k] = nullptr;
    f.sp = top - 8;
    f.state = State::READY;
}

inline Fiber& self() {
    if (block.current < 0) {
        fail("kernel %s waits at a barrier or a warp shuffle, but the emulator runs its threads one after another "
             "(cuda/emu/build.sh marks a kernel interleaved when its .cu file uses __syncthreads or __shfl)",
             block.grid->kernel->name.c_str());
    }
    return block.fibers[block.current];
}

void yield(Fiber& f) {
    switchAway(f);
}

const char* describeStates() {
    static char buf[256];
    int ready = 0, barrier = 0, warp = 0, done = 0;
    for (int k = 0; k < block.count; k++) {
        switch (block.fibers[k].state) {
            case State::READY: ready++; break;
            case State::AT_BLOCK_BARRIER: barrier++; break;
            case State::AT_WARP_BARRIER: warp++; break;
            case State::DONE: done++; break;
        }
    }
    snprintf(buf, sizeof buf, "%d threads wait at __syncthreads, %d at a warp shuffle, %d have exited", barrier, warp,
             done);
    return buf;
}

void runBlockInterleaved() {
    int n = block.count;
    if (static_cast<int>(block.fibers.size()) < n) block.fibers.resize(n);
    block.warps.assign((n + 31) / 32, Warp{});
    for (int k = 0; k < n; k++) {
        Fiber& f = block.fibers[k];
        prepare(f);
        f.tid = uint3{k % blockDim.x, (k / blockDim.x) % blockDim.y, k / (blockDim.x * blockDim.y)};
    }
    block.live = n;
    block.atBarrier = 0;
    // fibers switch to each other; the scheduler gets control back when none is ready
    block.current = 0;
    threadIdx = block.fibers[0].tid;
    emu_switch(&block.schedulerSp, block.fibers[0].sp);
    block.current = -1;
    if (block.live > 0) {
        fail("kernel %s deadlocked in block (%u, %u, %u): %s, and none can go on (a barrier or shuffle that not "
             "every thread it waits for reaches)", block.grid->kernel->name.c_str(), blockIdx.x, blockIdx.y,
             blockIdx.z, describeStates());
    }
}

void runBlockSequential() {
    block.current = -1;
    for (unsigned z = 0; z < blockDim.z; z++) {
        for (unsigned y = 0; y < blockDim.y; y++) {
            for (unsigned x = 0; x < blockDim.x; x++) {
                threadIdx = uint3{x, y, z};
                block.grid->kernel->invoke(block.grid->kernel->fn, block.grid->params);
            }
        }
    }
}

void poison(void* p, size_t bytes) {
    uint32_t* w = static_cast<uint32_t*>(p);
    for (size_t k = 0; k < bytes / 4; k++) w[k] = SHARED_POISON;
}

// Dynamic shared memory of `bytes`, ending at a guard page.
bool mapDynamicShared(size_t bytes) {
    size_t pg = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t rounded = (bytes + 15) / 16 * 16;
    size_t need = (rounded + pg - 1) / pg * pg + pg;
    if (need > sharedRegionBytes) {
        if (sharedRegion != nullptr) munmap(sharedRegion, sharedRegionBytes);
        void* m = mmap(nullptr, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            sharedRegion = nullptr;
            sharedRegionBytes = 0;
            return false;
        }
        sharedRegion = static_cast<uint8_t*>(m);
        sharedRegionBytes = need;
        mprotect(sharedRegion + need - pg, pg, PROT_NONE);
    }
    dynamicShared = sharedRegion + sharedRegionBytes - pg - rounded;
    return true;
}

struct sigaction previousSegv;
struct sigaction previousBus;

// A fault while a kernel runs on this thread ends the launch; any other goes to the handler
// installed before (the JVM's).
void onFault(int sig, siginfo_t* info, void* context) {
    if (block.running) {
        block.running = false;
        block.faultAddress = info->si_addr;
        block.failure.clear();
        siglongjmp(block.abort, 2);
    }
    struct sigaction& prev = sig == SIGSEGV ? previousSegv : previousBus;
    if (prev.sa_flags & SA_SIGINFO) {
        prev.sa_sigaction(sig, info, context);
    } else if (prev.sa_handler == SIG_DFL || prev.sa_handler == SIG_IGN) {
        signal(sig, SIG_DFL);
        raise(sig);
    } else {
        prev.sa_handler(sig);
    }
}

void installFaultHandler() {
    static bool installed = false;
    if (installed) return;
    installed = true;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = &onFault;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigaction(SIGSEGV, &sa, &previousSegv);
    sigaction(SIGBUS, &sa, &previousBus);
}

}  // namespace

bool run_grid(const Grid& g, std::string* error) {
    installFaultHandler();
    const Kernel& k = *g.kernel;
    gridDim = dim3{g.grid[0], g.grid[1], g.grid[2]};
    blockDim = dim3{g.block[0], g.block[1], g.block[2]};
    block.grid = &g;
    block.interleaved = k.interleaved;
    block.count = static_cast<int>(g.block[0] * g.block[1] * g.block[2]);
    block.failure.clear();
    if (!mapDynamicShared(g.dynamicShared)) {
        *error = "could not map dynamic shared memory";
        return false;
    }
    size_t staticShared = static_cast<size_t>(__stop_rnnrt_emu_shared - __start_rnnrt_emu_shared);
    int how = sigsetjmp(block.abort, 1);
    if (how != 0) {
        block.running = false;
        block.current = -1;
        if (how == 2) {
            char buf[256];
            snprintf(buf, sizeof buf, "kernel %s faulted at address %p in block (%u, %u, %u), thread (%u, %u, %u): a "
                     "read or write outside device memory", k.name.c_str(), block.faultAddress, blockIdx.x, blockIdx.y,
                     blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z);
            *error = buf;
        } else {
            *error = block.failure;
        }
        return false;
    }
    block.running = true;
    for (unsigned z = 0; z < g.grid[2]; z++) {
        for (unsigned y = 0; y < g.grid[1]; y++) {
            for (unsigned x = 0; x < g.grid[0]; x++) {
                blockIdx = uint3{x, y, z};
                // shared memory is uninitialised at the start of a block
                if (staticShared > 0) poison(__start_rnnrt_emu_shared, staticShared);
                poison(dynamicShared, g.dynamicShared);
                if (k.interleaved) {
                    runBlockInterleaved();
                } else {
                    runBlockSequential();
                }
            }
        }
    }
    block.running = false;
    return true;
}

}  // namespace emu

using emu::block;

extern "C" void rnnrt_emu_syncthreads() {
    emu::Fiber& f = emu::self();
    f.state = emu::State::AT_BLOCK_BARRIER;
    block.atBarrier++;
    if (block.atBarrier == block.live) {
        for (emu::Fiber& o : block.fibers) {
            if (o.state == emu::State::AT_BLOCK_BARRIER) o.state = emu::State::READY;
        }
        block.atBarrier = 0;
        return;
    }
    emu::yield(f);
}

namespace {

uint32_t shuffleXor(unsigned mask, uint32_t bits, int laneMask, int width) {
    emu::Fiber& f = emu::self();
    int t = block.current;  // fibers are numbered by their linear thread index
    int lane = t % 32;
    int first = t - lane;   // the warp's lane 0
    emu::Warp& w = block.warps[t / 32];
    const char* name = block.grid->kernel->name.c_str();
    if (width < 1 || width > 32 || (width & (width - 1)) != 0) {
        emu::fail("kernel %s: __shfl_xor_sync with width %d (a power of two up to 32 is required)", name, width);
    }
    if (!(mask & (1u << lane))) {
        emu::fail("kernel %s: lane %d calls __shfl_xor_sync with mask 0x%08x, which leaves it out", name, lane, mask);
    }
    int src = lane ^ laneMask;
    if (((src ^ lane) & ~(width - 1)) != 0) {
        src = lane;  // outside the lane's segment: its own value
    }
    if (!(mask & (1u << src))) {
        emu::fail("kernel %s: lane %d reads lane %d with __shfl_xor_sync, which the mask 0x%08x leaves out", name, lane,
                  src, mask);
    }
    emu::Shuffle* s = nullptr;
    for (emu::Shuffle& p : w.pending) {
        if (p.mask == mask) {
            s = &p;
        } else if (p.mask & mask) {
            emu::fail("kernel %s: lanes of warp %d meet at __shfl_xor_sync with different masks (0x%08x, 0x%08x)", name,
                      t / 32, p.mask, mask);
        }
    }
    if (s == nullptr) {
        // the first lane to arrive checks the mask for the others
        for (int l = 0; l < 32; l++) {
            if (!(mask & (1u << l))) continue;
            int other = first + l;
            if (other >= block.count || block.fibers[other].state == emu::State::DONE) {
                emu::fail("kernel %s: __shfl_xor_sync with mask 0x%08x names lane %d of warp %d, which %s", name, mask,
                          l, t / 32, other >= block.count ? "does not exist (the block is smaller)" : "has exited");
            }
        }
        w.pending.push_back(emu::Shuffle{mask, 0});
        s = &w.pending.back();
    }
    f.shuffleValue = bits;
    f.shuffleSource = src;
    s->arrived |= 1u << lane;
    if (s->arrived != mask) {
        f.state = emu::State::AT_WARP_BARRIER;
        emu::yield(f);
        return f.shuffleResult;  // set by the lane that arrived last
    }
    // the last lane to arrive: every lane of the mask receives its source's value
    *s = w.pending.back();
    w.pending.pop_back();
    for (uint32_t lanes = mask; lanes != 0; lanes &= lanes - 1) {
        emu::Fiber& o = block.fibers[first + __builtin_ctz(lanes)];
        o.shuffleResult = block.fibers[first + o.shuffleSource].shuffleValue;
    }
    for (uint32_t lanes = mask & ~(1u << lane); lanes != 0; lanes &= lanes - 1) {
        block.fibers[first + __builtin_ctz(lanes)].state = emu::State::READY;
    }
    return f.shuffleResult;
}

}  // namespace

extern "C" float rnnrt_emu_shfl_xor_f32(unsigned int mask, float v, int laneMask, int width) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    bits = shuffleXor(mask, bits, laneMask, width);
    std::memcpy(&v, &bits, 4);
    return v;
}

extern "C" int rnnrt_emu_shfl_xor_i32(unsigned int mask, int v, int laneMask, int width) {
    return static_cast<int>(shuffleXor(mask, static_cast<uint32_t>(v), laneMask, width));
}

extern "C" void* rnnrt_emu_dynamic_shared() {
    return emu::dynamicShared;
}
