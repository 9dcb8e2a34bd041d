// LSTM gates and state update for one timestep, after the GEMMs.
// Reference: dev.rnnrt.backend.cpu.reference.LstmReference (gates i, f, c, o).
//
// | version | idea                                   | measured |
// |---------|----------------------------------------|----------|
// | v1      | straight port: one thread per (b, j)   | H100, in a graph: 2.9 us/step at B=1, 4.4 at B=64, 4.9 at B=256 (H=512) |
// | v2      | v1 reading the input bias itself and proj batch-major (row stride), so that no pass adds the bias and the host transposes nothing | benchmarks/results/ (gpu) |
#include "common.cuh"

// proj is this step's input projection x·W (row b at proj + b·proj_stride, 4H wide), bias the
// input bias [4H] or null, rec = h·U [B, 4H]; h, c, out_prev are [B, H] and updated; mask is
// [B, T] (1 = keep) or null.
extern "C" __global__ void lstm_pointwise_v2(int B, int H, int T, int p, int t,
                                             const float* __restrict__ proj, int proj_stride,
                                             const float* __restrict__ bias, const float* __restrict__ rec,
                                             float* h, float* c, float* out_prev, float* seq,
                                             const unsigned char* __restrict__ mask, int zero_output,
                                             int act, int rec_act) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= B * H) return;
    int b = idx / H;
    int j = idx % H;
    bool keep = mask == nullptr || mask[(size_t) b * T + t] != 0;
    float h_new = h[idx];
    if (keep) {
        int G = 4 * H;
        const float* pz = proj + (size_t) b * proj_stride;
        const float* rz = rec + (size_t) b * G;
        float i = rnnrt_activate(rec_act, (pz[j] + rnnrt_bias(bias, j)) + rz[j]);
        float f = rnnrt_activate(rec_act, (pz[H + j] + rnnrt_bias(bias, H + j)) + rz[H + j]);
        float cand = rnnrt_activate(act, (pz[2 * H + j] + rnnrt_bias(bias, 2 * H + j)) + rz[2 * H + j]);
        float o = rnnrt_activate(rec_act, (pz[3 * H + j] + rnnrt_bias(bias, 3 * H + j)) + rz[3 * H + j]);
        float c_new = f * c[idx] + i * cand;
        c[idx] = c_new;
        h_new = o * rnnrt_activate(act, c_new);
        h[idx] = h_new;
    }
    rnnrt_emit(out_prev, seq, b, j, H, T, p, keep, zero_output, h_new);
}
