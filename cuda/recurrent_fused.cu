// One timestep of an LSTM or a GRU (reset_after=True) as ONE kernel at small batch: the recurrent
// product h·U and the gates together, instead of a cuBLAS GEMM and a pointwise kernel.
// Reference: dev.rnnrt.backend.cpu.reference.LstmReference / GruReference.
//
// Why: at batch 1-16 a step's GEMM fills a few of the GPU's SMs and costs a launch of its own
// (measured on an H100, LSTM H=512, B=1, in a CUDA graph: 4.3 us GEMM + 2.9 us gate kernel per
// step). Here every block takes FUSED_UNITS units and computes all their gate columns for every batch
// row, so H/UNITS blocks share the weights' reads, and the gates follow in the same kernel.
//
// h is double-buffered (h_in is read by every block, h_out written): step p reads the buffer step
// p-1 wrote. Each block copies h_in into shared memory first (B·H·4 bytes: the host keeps it
// within FUSED_MAX_H_BYTES and what the device allows, and raises the kernels' limit to it).
// c is updated in place (each element by one thread). U is given transposed, ut [G, H],
// so that a warp reads each gate column's weights contiguously.
//
// | version | idea                                                          | measured |
// |---------|---------------------------------------------------------------|----------|
// | v1      | 4 units/block, warp per column, scalar loads of U and h from  | H100, LSTM B=1, graph: 4.7 us/step at H=128, 8.6 at 512, |
// |         | global memory: one load in flight per lane (latency-bound)    | 14.4 at 1024 (GEMM + gate kernel: 5.5, 7.5, 7.9)          |
// | v2      | 2 units/block (twice the blocks), h copied to shared memory,  | 3.6, 4.8, 8.9 us/step (H=128, 512, 1024); kept            |
// |         | four 16-byte U loads in flight per lane; h up to 40 KiB       |                                                           |
// | v3      | v2 with eight U loads in flight, at most 64 registers (4      | slower: 3.9, 5.2, 10.6 us/step; and with 64 KiB of h,     |
// |         | blocks per SM) and up to 64 KiB of h (opt-in shared memory)   | LSTM H=1024 B=16 took 7.2 ms against cuBLAS' 5.2: reverted |
// | v4      | v2 reading the input bias itself, with proj batch-major (a    | benchmarks/results/ (gpu)                                 |
// |         | row stride): no bias pass, no transpose on the host           |                                                           |
//
// The kernels' names carry the version of their arguments (_v2: proj_stride and bias), not of
// the table above.
// the double-precision activations (gelu, tanh_shrink) as calls: inlined, they raise the LSTM step's
// registers from 63 to 80 and its blocks per SM from four to three
#ifdef __CUDA_ARCH__
#define RNNRT_RARE __noinline__
#endif
#include "common.cuh"

#define FUSED_UNITS 2
#define FUSED_THREADS 256
#define FUSED_WARPS (FUSED_THREADS / 32)
#define FUSED_ROWS 8
// the largest batch the kernels take: FUSED_UNITS threads per row finish the gates
#define FUSED_MAX_BATCH (FUSED_THREADS / FUSED_UNITS)
// the most bytes of h (B·H floats) a block copies into shared memory; the host keeps to it
#define FUSED_MAX_H_BYTES (40 * 1024)

// Copies h_in [B, H] into shared memory, several independent 16-byte loads per thread in flight.
__device__ __forceinline__ void fused_load_h(int n, const float* __restrict__ h_in, float* s_h) {
    if (n % 4 == 0) {
        const float4* src = reinterpret_cast<const float4*>(h_in);
        float4* dst = reinterpret_cast<float4*>(s_h);
        int n4 = n / 4;
        for (int base = threadIdx.x; base < n4; base += 4 * FUSED_THREADS) {
            float4 v[4];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                int k = base + i * FUSED_THREADS;
                if (k < n4) v[i] = src[k];
            }
#pragma unroll
            for (int i = 0; i < 4; i++) {
                int k = base + i * FUSED_THREADS;
                if (k < n4) dst[k] = v[i];
            }
        }
    } else {
        for (int k = threadIdx.x; k < n; k += FUSED_THREADS) s_h[k] = h_in[k];
    }
}

// s_rec[b * cols + col] = h[b, :] · ut[col_global, :] for this block's cols = gates·FUSED_UNITS gate
// columns (col = gate·FUSED_UNITS + u, unit j0 + u), one warp per column, h from shared memory.
__device__ __forceinline__ void fused_recurrent_product(int B, int H, int gates, int j0,
                                                        const float* __restrict__ ut, const float* s_h,
                                                        float* s_rec) {
    int warp = threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    int cols = gates * FUSED_UNITS;
    for (int col = warp; col < cols; col += FUSED_WARPS) {
        int gate = col / FUSED_UNITS;
        int j = j0 + col % FUSED_UNITS;
        if (j >= H) {
            continue;
        }
        const float* u = ut + ((size_t) gate * H + j) * H;
        for (int b0 = 0; b0 < B; b0 += FUSED_ROWS) {
            float acc[FUSED_ROWS];
#pragma unroll
            for (int r = 0; r < FUSED_ROWS; r++) acc[r] = 0.0f;
            // rows past B repeat row B-1 (no branch in the loop); their sums are not stored
            int row[FUSED_ROWS];
#pragma unroll
            for (int r = 0; r < FUSED_ROWS; r++) row[r] = min(b0 + r, B - 1);
            if (H % 4 == 0) {
                int h4 = H / 4;
                const float4* u4 = reinterpret_cast<const float4*>(u);
                const float4* s_h4 = reinterpret_cast<const float4*>(s_h);
                for (int base = lane; base < h4; base += 4 * 32) {
                    // four independent weight loads in flight before any is used
                    float4 w[4];
#pragma unroll
                    for (int i = 0; i < 4; i++) {
                        int k = base + 32 * i;
                        w[i] = k < h4 ? __ldg(u4 + k) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
                    }
#pragma unroll
                    for (int i = 0; i < 4; i++) {
                        int k = base + 32 * i;
                        if (k < h4) {
#pragma unroll
                            for (int r = 0; r < FUSED_ROWS; r++) {
                                float4 x = s_h4[row[r] * h4 + k];
                                acc[r] = fmaf(w[i].x, x.x, fmaf(w[i].y, x.y, fmaf(w[i].z, x.z, fmaf(w[i].w, x.w, acc[r]))));
                            }
                        }
                    }
                }
            } else {
                for (int k = lane; k < H; k += 32) {
                    float w = __ldg(u + k);
#pragma unroll
                    for (int r = 0; r < FUSED_ROWS; r++) acc[r] = fmaf(w, s_h[row[r] * H + k], acc[r]);
                }
            }
#pragma unroll
            for (int r = 0; r < FUSED_ROWS; r++) {
                float v = acc[r];
#pragma unroll
                for (int off = 16; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
                if (lane == 0 && b0 + r < B) s_rec[(b0 + r) * cols + col] = v;
            }
        }
    }
}

// proj is this step's x·W (row b at proj + b·proj_stride, 4H wide), bias the input bias [4H] or
// null; ut = Uᵀ [4H, H];
// h_in, h_out, c, out_prev [B, H]; mask [B, T] (1 = keep) or null. Grid: ceil(H / FUSED_UNITS)
// blocks of FUSED_THREADS, B·H·4 bytes of dynamic shared memory.
extern "C" __global__ void __launch_bounds__(FUSED_THREADS)
lstm_step_fused_v2(int B, int H, int T, int p, int t, const float* __restrict__ proj, int proj_stride,
                   const float* __restrict__ bias, const float* __restrict__ ut, const float* __restrict__ h_in, float* __restrict__ h_out,
                   float* c, float* out_prev, float* seq, const unsigned char* __restrict__ mask,
                   int zero_output, int act, int rec_act) {
    __shared__ float s_rec[FUSED_MAX_BATCH * 4 * FUSED_UNITS];
    extern __shared__ float4 s_dynamic[]; // 16-byte aligned
    float* s_h = reinterpret_cast<float*>(s_dynamic);
    int j0 = blockIdx.x * FUSED_UNITS;
    // the gate threads load what does not depend on h first, so that it overlaps the product
    int b = threadIdx.x / FUSED_UNITS;
    int u = threadIdx.x % FUSED_UNITS;
    int j = j0 + u;
    bool mine = b < B && j < H;
    float pi = 0.0f, pf = 0.0f, pc = 0.0f, po = 0.0f, c_old = 0.0f;
    bool keep = true;
    if (mine) {
        const float* pz = proj + (size_t) b * proj_stride;
        pi = pz[j] + rnnrt_bias(bias, j);
        pf = pz[H + j] + rnnrt_bias(bias, H + j);
        pc = pz[2 * H + j] + rnnrt_bias(bias, 2 * H + j);
        po = pz[3 * H + j] + rnnrt_bias(bias, 3 * H + j);
        c_old = c[(size_t) b * H + j];
        keep = mask == nullptr || mask[(size_t) b * T + t] != 0;
    }
    fused_load_h(B * H, h_in, s_h);
    __syncthreads();
    fused_recurrent_product(B, H, 4, j0, ut, s_h, s_rec);
    __syncthreads();
    if (!mine) return;
    size_t idx = (size_t) b * H + j;
    float h_new = h_in[idx];
    if (keep) {
        const float* r = s_rec + b * 4 * FUSED_UNITS;
        float i = rnnrt_activate(rec_act, pi + r[u]);
        float f = rnnrt_activate(rec_act, pf + r[FUSED_UNITS + u]);
        float cand = rnnrt_activate(act, pc + r[2 * FUSED_UNITS + u]);
        float o = rnnrt_activate(rec_act, po + r[3 * FUSED_UNITS + u]);
        float c_new = f * c_old + i * cand;
        c[idx] = c_new;
        h_new = o * rnnrt_activate(act, c_new);
    }
    h_out[idx] = h_new;
    rnnrt_emit(out_prev, seq, b, j, H, T, p, keep, zero_output, h_new);
}

// GRU, reset_after=True: proj this step's x·W (row b at proj + b·proj_stride, 3H wide), bias the
// input bias [3H] or null, ut = Uᵀ [3H, H], rec_bias [3H] (the recurrent bias row) or null. Grid
// and shared memory as for the LSTM.
extern "C" __global__ void __launch_bounds__(FUSED_THREADS)
gru_step_fused_v2(int B, int H, int T, int p, int t, const float* __restrict__ proj, int proj_stride,
                  const float* __restrict__ bias, const float* __restrict__ ut, const float* __restrict__ rec_bias,
                  const float* __restrict__ h_in, float* __restrict__ h_out, float* out_prev, float* seq,
                  const unsigned char* __restrict__ mask, int zero_output, int act, int rec_act) {
    __shared__ float s_rec[FUSED_MAX_BATCH * 3 * FUSED_UNITS];
    extern __shared__ float4 s_dynamic[]; // 16-byte aligned
    float* s_h = reinterpret_cast<float*>(s_dynamic);
    int j0 = blockIdx.x * FUSED_UNITS;
    int b = threadIdx.x / FUSED_UNITS;
    int u = threadIdx.x % FUSED_UNITS;
    int j = j0 + u;
    bool mine = b < B && j < H;
    float pz_ = 0.0f, pr = 0.0f, ph = 0.0f, bz = 0.0f, br = 0.0f, bh = 0.0f;
    bool keep = true;
    if (mine) {
        const float* pz = proj + (size_t) b * proj_stride;
        pz_ = pz[j] + rnnrt_bias(bias, j);
        pr = pz[H + j] + rnnrt_bias(bias, H + j);
        ph = pz[2 * H + j] + rnnrt_bias(bias, 2 * H + j);
        if (rec_bias != nullptr) {
            bz = rec_bias[j];
            br = rec_bias[H + j];
            bh = rec_bias[2 * H + j];
        }
        keep = mask == nullptr || mask[(size_t) b * T + t] != 0;
    }
    fused_load_h(B * H, h_in, s_h);
    __syncthreads();
    fused_recurrent_product(B, H, 3, j0, ut, s_h, s_rec);
    __syncthreads();
    if (!mine) return;
    size_t idx = (size_t) b * H + j;
    float h_new = h_in[idx];
    if (keep) {
        const float* r = s_rec + b * 3 * FUSED_UNITS;
        float z = rnnrt_activate(rec_act, pz_ + (r[u] + bz));
        float rr = rnnrt_activate(rec_act, pr + (r[FUSED_UNITS + u] + br));
        float cand = rnnrt_activate(act, ph + rr * (r[2 * FUSED_UNITS + u] + bh));
        h_new = z * h_new + (1.0f - z) * cand;
    }
    h_out[idx] = h_new;
    rnnrt_emit(out_prev, seq, b, j, H, T, p, keep, zero_output, h_new);
}
