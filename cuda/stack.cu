// Kernels for the layers between recurrent layers in a stack run on the device (values kept there
// from the first layer to the last): the Dense epilogue and the Bidirectional merge.
#include "common.cuh"

// The codes of dev.rnnrt.backend.StackStage.Merge (its ordinals); a host test checks them.
#define MERGE_CONCAT 0
#define MERGE_SUM 1
#define MERGE_MUL 2
#define MERGE_AVE 3

// After the Dense GEMM y[rows, units] = x · kernel: element idx with the bias added and the
// activation applied. Also compiled for the host, where StackKernelsTest checks it.
__host__ __device__ __forceinline__ float rnnrt_dense_epilogue(int idx, int units, const float* y, const float* bias,
                                                               int act) {
    return rnnrt_activate(act, y[idx] + rnnrt_bias(bias, idx % units));
}

extern "C" __global__ void dense_bias_activation_v1(int n, int units, float* __restrict__ y,
                                                    const float* __restrict__ bias, int act) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n) {
        return;
    }
    y[idx] = rnnrt_dense_epilogue(idx, units, y, bias, act);
}

// A Bidirectional layer's output from its two directions' outputs: f [B, T, hf] and b [B, T, hb]
// (T = 1 without sequences). With reverse, b is in its processing order and is read reversed in
// time, as Keras reverses the backward sequence. out [B, T, width]: concat (f, then b) with
// width = hf + hb, else f + b, f * b or (f + b) / 2 with width = hf = hb. This gives out[idx]; also
// compiled for the host, where StackKernelsTest checks it against the Java merge.
__host__ __device__ __forceinline__ float rnnrt_merge_at(int idx, int T, int hf, int hb, int reverse, int mode,
                                                         const float* f, const float* b) {
    int width = mode == MERGE_CONCAT ? hf + hb : hf;
    int row = idx / width;  // batch * T + t
    int j = idx - row * width;
    int t = row % T;
    int rowB = reverse ? row - t + (T - 1 - t) : row;
    if (mode == MERGE_CONCAT) {
        return j < hf ? f[(size_t) row * hf + j] : b[(size_t) rowB * hb + (j - hf)];
    }
    float x = f[(size_t) row * hf + j];
    float y = b[(size_t) rowB * hb + j];
    switch (mode) {
        case MERGE_SUM: return x + y;
        case MERGE_MUL: return x * y;
        case MERGE_AVE: return (x + y) / 2.0f;
        // NaN: an unknown code must not pass silently
#ifdef __CUDA_ARCH__
        default: return __int_as_float(0x7fc00000);
#else
        default: return __builtin_nanf("");
#endif
    }
}

// n = B * T * width threads, one per output element.
extern "C" __global__ void bidirectional_merge_v1(int n, int T, int hf, int hb, int reverse, int mode,
                                                  const float* __restrict__ f, const float* __restrict__ b,
                                                  float* __restrict__ out) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n) {
        return;
    }
    out[idx] = rnnrt_merge_at(idx, T, hf, hb, reverse, mode, f, b);
}
