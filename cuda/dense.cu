// The Dense layer's epilogue, after its GEMM y[rows, units] = x · kernel: adds the bias and applies
// the activation in place. A Dense in a stack of layers runs on the device this way, so its input
// and output stay there.
#include "common.cuh"

extern "C" __global__ void dense_bias_activation_v1(int n, int units, float* __restrict__ y,
                                                    const float* __restrict__ bias, int act) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n) {
        return;
    }
    y[idx] = rnnrt_activate(act, y[idx] + rnnrt_bias(bias, idx % units));
}
