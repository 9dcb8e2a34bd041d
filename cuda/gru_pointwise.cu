// GRU gates and state update for one timestep, after the GEMMs.
// Reference: dev.rnnrt.backend.cpu.reference.GruReference (gates z, r, h).
//
// | version | idea                                   | measured |
// |---------|----------------------------------------|----------|
// | v1      | straight port: one thread per (b, j)   | not yet measured on a GPU |
#include "common.cuh"

// reset_after=True: proj [B, 3H] (input bias included), rec = h·U + b_recurrent [B, 3H].
extern "C" __global__ void gru_reset_after_pointwise_v1(int B, int H, int T, int p, int t,
                                                        const float* __restrict__ proj,
                                                        const float* __restrict__ rec, float* h, float* out_prev,
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
        const float* pz = proj + (size_t) b * G;
        const float* rz = rec + (size_t) b * G;
        float z = rnnrt_activate(rec_act, pz[j] + rz[j]);
        float r = rnnrt_activate(rec_act, pz[H + j] + rz[H + j]);
        float cand = rnnrt_activate(act, pz[2 * H + j] + r * rz[2 * H + j]);
        h_new = z * h_new + (1.0f - z) * cand;
        h[idx] = h_new;
    }
    rnnrt_emit(out_prev, seq, b, j, H, T, p, keep, zero_output, h_new);
}

// reset_after=False, first half: z and r from proj [B, 3H] and rec = h·U[:, 0:2H] ([B, 2H]);
// writes z [B, H] and r⊙h [B, H] for the second GEMM, (r⊙h)·U[:, 2H:3H].
extern "C" __global__ void gru_reset_before_gates_v1(int B, int H, const float* __restrict__ proj,
                                                     const float* __restrict__ rec, const float* __restrict__ h,
                                                     float* z_out, float* rh_out, int rec_act) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= B * H) return;
    int b = idx / H;
    int j = idx % H;
    const float* pz = proj + (size_t) b * 3 * H;
    const float* rz = rec + (size_t) b * 2 * H;
    z_out[idx] = rnnrt_activate(rec_act, pz[j] + rz[j]);
    rh_out[idx] = rnnrt_activate(rec_act, pz[H + j] + rz[H + j]) * h[idx];
}

// reset_after=False, second half: candidate from proj's h block and hz = (r⊙h)·U_h ([B, H]).
extern "C" __global__ void gru_reset_before_update_v1(int B, int H, int T, int p, int t,
                                                      const float* __restrict__ proj, const float* __restrict__ hz,
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
        float cand = rnnrt_activate(act, proj[(size_t) b * 3 * H + 2 * H + j] + hz[idx]);
        h_new = z[idx] * h_new + (1.0f - z[idx]) * cand;
        h[idx] = h_new;
    }
    rnnrt_emit(out_prev, seq, b, j, H, T, p, keep, zero_output, h_new);
}
