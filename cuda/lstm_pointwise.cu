// LSTM gates and state update for one timestep, after the GEMMs.
// Reference: dev.rnnrt.backend.cpu.reference.LstmReference (gates i, f, c, o).
//
// | version | idea                                   | measured |
// |---------|----------------------------------------|----------|
// | v1      | straight port: one thread per (b, j)   | not yet measured on a GPU |
#include "common.cuh"

// proj is this step's input projection [B, 4H] (input bias included), rec = h·U [B, 4H];
// h, c, out_prev are [B, H] and updated; mask is [B, T] (1 = keep) or null.
extern "C" __global__ void lstm_pointwise_v1(int B, int H, int T, int p, int t,
                                             const float* __restrict__ proj, const float* __restrict__ rec,
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
        const float* pz = proj + (size_t) b * G;
        const float* rz = rec + (size_t) b * G;
        float i = rnnrt_activate(rec_act, pz[j] + rz[j]);
        float f = rnnrt_activate(rec_act, pz[H + j] + rz[H + j]);
        float cand = rnnrt_activate(act, pz[2 * H + j] + rz[2 * H + j]);
        float o = rnnrt_activate(rec_act, pz[3 * H + j] + rz[3 * H + j]);
        float c_new = f * c[idx] + i * cand;
        c[idx] = c_new;
        h_new = o * rnnrt_activate(act, c_new);
        h[idx] = h_new;
    }
    rnnrt_emit(out_prev, seq, b, j, H, T, p, keep, zero_output, h_new);
}
