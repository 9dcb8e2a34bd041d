// GRU gates and state update for one timestep, after the GEMMs.
// Reference: dev.rnnrt.backend.cpu.reference.GruReference (gates z, r, h).
//
// | version | idea                                   | measured |
// |---------|----------------------------------------|----------|
// | v1      | straight port: one thread per (b, j)   | passes the GPU suite (H100) |
// | v2      | v1 reading the input (and recurrent) bias itself and proj batch-major (row stride): no bias passes | benchmarks/results/ (gpu) |
#include "common.cuh"

// reset_after=True: proj is this step's x·W (row b at proj + b·proj_stride, 3H wide), bias the input
// bias [3H] or null, rec = h·U [B, 3H], rec_bias the recurrent bias [3H] or null.
extern "C" __global__ void gru_reset_after_pointwise_v2(int B, int H, int T, int p, int t,
                                                        const float* __restrict__ proj, int proj_stride,
                                                        const float* __restrict__ bias,
                                                        const float* __restrict__ rec,
                                                        const float* __restrict__ rec_bias, float* h, float* out_prev,
                                                        float* seq, const unsigned char* __restrict__ mask,
                                                        int zero_output, int act, int rec_act) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= B * H) return;
    int b = idx / H;
    int j = idx % H;
    bool keep = mask == nullptr || mask[(size_t) b * T + t] != 0;
    float h_new = h[idx];
    if (keep) {
        int G = 3 * H;
        const float* pz = proj + (size_t) b * proj_stride;
        const float* rz = rec + (size_t) b * G;
        float z = rnnrt_activate(rec_act, (pz[j] + rnnrt_bias(bias, j)) + (rz[j] + rnnrt_bias(rec_bias, j)));
        float r = rnnrt_activate(rec_act, (pz[H + j] + rnnrt_bias(bias, H + j))
                                              + (rz[H + j] + rnnrt_bias(rec_bias, H + j)));
        float cand = rnnrt_activate(act, (pz[2 * H + j] + rnnrt_bias(bias, 2 * H + j))
                                             + r * (rz[2 * H + j] + rnnrt_bias(rec_bias, 2 * H + j)));
        h_new = z * h_new + (1.0f - z) * cand;
        h[idx] = h_new;
    }
    rnnrt_emit(out_prev, seq, b, j, H, T, p, keep, zero_output, h_new);
}

// reset_after=False, first half: z and r from proj (x·W, row b at proj + b·proj_stride, 3H wide),
// the input bias [3H] or null, and rec = h·U[:, 0:2H] ([B, 2H]); writes z [B, H] and r⊙h [B, H]
// for the second GEMM, (r⊙h)·U[:, 2H:3H].
extern "C" __global__ void gru_reset_before_gates_v2(int B, int H, const float* __restrict__ proj, int proj_stride,
                                                     const float* __restrict__ bias,
                                                     const float* __restrict__ rec, const float* __restrict__ h,
                                                     float* z_out, float* rh_out, int rec_act) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= B * H) return;
    int b = idx / H;
    int j = idx % H;
    const float* pz = proj + (size_t) b * proj_stride;
    const float* rz = rec + (size_t) b * 2 * H;
    z_out[idx] = rnnrt_activate(rec_act, (pz[j] + rnnrt_bias(bias, j)) + rz[j]);
    rh_out[idx] = rnnrt_activate(rec_act, (pz[H + j] + rnnrt_bias(bias, H + j)) + rz[H + j]) * h[idx];
}

// reset_after=False, second half: candidate from proj's h block (plus the input bias, or null)
// and hz = (r⊙h)·U_h ([B, H]).
extern "C" __global__ void gru_reset_before_update_v2(int B, int H, int T, int p, int t,
                                                      const float* __restrict__ proj, int proj_stride,
                                                      const float* __restrict__ bias, const float* __restrict__ hz,
                                                      const float* __restrict__ z, float* h, float* out_prev,
                                                      float* seq, const unsigned char* __restrict__ mask,
                                                      int zero_output, int act) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= B * H) return;
    int b = idx / H;
    int j = idx % H;
    bool keep = mask == nullptr || mask[(size_t) b * T + t] != 0;
    float h_new = h[idx];
    if (keep) {
        float cand = rnnrt_activate(act, (proj[(size_t) b * proj_stride + 2 * H + j]
                                          + rnnrt_bias(bias, 2 * H + j)) + hz[idx]);
        h_new = z[idx] * h_new + (1.0f - z[idx]) * cand;
        h[idx] = h_new;
    }
    rnnrt_emit(out_prev, seq, b, j, H, T, p, keep, zero_output, h_new);
}
