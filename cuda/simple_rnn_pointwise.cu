// SimpleRNN update for one timestep, after the GEMMs.
// Reference: dev.rnnrt.backend.cpu.reference.SimpleRnnReference.
//
// | version | idea                                   | measured |
// |---------|----------------------------------------|----------|
// | v1      | straight port: one thread per (b, j)   | not yet measured on a GPU |
#include "common.cuh"

// proj [B, H] (input bias included), rec = h·U [B, H].
extern "C" __global__ void simple_rnn_pointwise_v1(int B, int H, int T, int p, int t,
                                                   const float* __restrict__ proj, const float* __restrict__ rec,
                                                   float* h, float* out_prev, float* seq,
                                                   const unsigned char* __restrict__ mask, int zero_output, int act) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= B * H) return;
    int b = idx / H;
    int j = idx % H;
    bool keep = mask == nullptr || mask[(size_t) b * T + t] != 0;
    float h_new = h[idx];
    if (keep) {
        h_new = rnnrt_activate(act, proj[idx] + rec[idx]);
        h[idx] = h_new;
    }
    rnnrt_emit(out_prev, seq, b, j, H, T, p, keep, zero_output, h_new);
}

// Adds a bias row to every row of m [rows, n] (the input bias after the projection GEMM, the
// recurrent bias of a reset_after GRU after the recurrent GEMM).
extern "C" __global__ void add_row_bias_v1(int rows, int n, float* m, const float* __restrict__ bias) {
    size_t idx = (size_t) blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (size_t) rows * n) return;
    m[idx] += bias[idx % n];
}
