// SimpleRNN update for one timestep, after the GEMMs.
// Reference: dev.rnnrt.backend.cpu.reference.SimpleRnnReference.
//
// | version | idea                                   | measured |
// |---------|----------------------------------------|----------|
// | v1      | straight port: one thread per (b, j)   | passes the GPU suite (H100); not timed |
// | v2      | v1 reading the input bias itself and proj batch-major (row stride) | passes the GPU suite; not timed |
#include "common.cuh"

// proj: this step's x·W, row b at proj + b·proj_stride (H wide); bias [H] or null; rec = h·U [B, H].
extern "C" __global__ void simple_rnn_pointwise_v2(int B, int H, int T, int p, int t,
                                                   const float* __restrict__ proj, int proj_stride,
                                                   const float* __restrict__ bias, const float* __restrict__ rec,
                                                   float* h, float* out_prev, float* seq,
                                                   const unsigned char* __restrict__ mask, int zero_output, int act) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= B * H) return;
    int b = idx / H;
    int j = idx % H;
    bool keep = mask == nullptr || mask[(size_t) b * T + t] != 0;
    float h_new = h[idx];
    if (keep) {
        h_new = rnnrt_activate(act, (proj[(size_t) b * proj_stride + j] + rnnrt_bias(bias, j)) + rec[idx]);
        h[idx] = h_new;
    }
    rnnrt_emit(out_prev, seq, b, j, H, T, p, keep, zero_output, h_new);
}
