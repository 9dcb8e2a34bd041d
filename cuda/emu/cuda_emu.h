// What rnnrt's kernel sources (cuda/*.cu) need to compile as host C++ for the CUDA emulator
// (cuda/emu/README.md). Every .cu file is compiled with this header forced in front of it
// (g++ -include cuda_emu.h); nothing in cuda/*.cu changes, except that build.sh rewrites the one
// `extern __shared__ T name[];` declaration into a pointer to the launch's dynamic shared memory.
//
// A test tool only: it checks host-side logic (launch shapes, offsets, buffer sizes, index math),
// not GPU numerics or concurrency.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

// ---- qualifiers: the host compiler ignores what only the GPU compiler means ----
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict
// Static shared memory: one copy per kernel, shared by the threads of the block running (blocks of
// a launch run one after another). The section lets the emulator fill all of it with a NaN
// pattern before each block, as shared memory is uninitialised on a GPU.
#define __shared__ static __attribute__((section("rnnrt_emu_shared"), aligned(16)))

// ---- vector types ----
struct uint3 {
    unsigned int x, y, z;
};
struct dim3 {
    unsigned int x = 1, y = 1, z = 1;
};
struct alignas(16) float4 {
    float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) {
    return float4{x, y, z, w};
}

// ---- built-in variables: set by the emulator for the thread it runs (all kernels run under its
// one lock, so plain globals suffice) ----
extern uint3 threadIdx __attribute__((visibility("hidden")));
extern uint3 blockIdx __attribute__((visibility("hidden")));
extern dim3 blockDim __attribute__((visibility("hidden")));
extern dim3 gridDim __attribute__((visibility("hidden")));
constexpr int warpSize = 32;

// ---- device functions, with their exact-math meaning (the GPU's approximate intrinsics and its
// contraction into FMAs differ in the last bits; the emulator does not model that) ----
template <typename T>
inline T __ldg(const T* p) {
    return *p;
}
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __saturatef(float x) { return x > 1.0f ? 1.0f : (x > 0.0f ? x : 0.0f); }
inline float __int_as_float(int i) {
    float f;
    std::memcpy(&f, &i, sizeof f);
    return f;
}
inline int __float_as_int(float f) {
    int i;
    std::memcpy(&i, &f, sizeof i);
    return i;
}
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned int min(unsigned int a, unsigned int b) { return a < b ? a : b; }
inline unsigned int max(unsigned int a, unsigned int b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }

// ---- synchronisation: provided by the emulator's block scheduler (cuda/emu/scheduler.cpp) ----
// (hidden: called directly inside libcuda.so.1, not through its PLT)
#define RNNRT_EMU_INTERNAL __attribute__((visibility("hidden")))
extern "C" RNNRT_EMU_INTERNAL void rnnrt_emu_syncthreads();
extern "C" RNNRT_EMU_INTERNAL float rnnrt_emu_shfl_xor_f32(unsigned int mask, float v, int lane_mask, int width);
extern "C" RNNRT_EMU_INTERNAL int rnnrt_emu_shfl_xor_i32(unsigned int mask, int v, int lane_mask, int width);
extern "C" RNNRT_EMU_INTERNAL void* rnnrt_emu_dynamic_shared();

inline void __syncthreads() { rnnrt_emu_syncthreads(); }
inline float __shfl_xor_sync(unsigned int mask, float v, int lane_mask, int width = warpSize) {
    return rnnrt_emu_shfl_xor_f32(mask, v, lane_mask, width);
}
inline int __shfl_xor_sync(unsigned int mask, int v, int lane_mask, int width = warpSize) {
    return rnnrt_emu_shfl_xor_i32(mask, v, lane_mask, width);
}
