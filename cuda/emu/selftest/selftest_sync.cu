// Kernels for the CUDA emulator's self-test (cuda/emu/selftest.sh), never part of rnnrt: barriers
// and warp shuffles, correct in mode 0 and misbehaving on purpose in the others. This file uses
// __syncthreads, so build.sh runs its kernels' threads as fibers.

// One block of blockDim.x threads (a multiple of 32 except where a mode says otherwise).
extern "C" __global__ void emutest_sync(float* out, int mode) {
    __shared__ float s[1024];
    const int t = threadIdx.x;
    const int lane = t % 32;
    const unsigned full = 0xffffffffu;
    float v = 0.0f;
    switch (mode) {
        case 0:  // correct: out[t] = (n-1-t) + (n-1-(t^1))
            s[t] = (float)t;
            __syncthreads();
            v = s[blockDim.x - 1 - t];
            v += __shfl_xor_sync(full, v, 1);
            break;
        case 1:  // thread 0 waits at a barrier; lanes 1..31 of its warp wait for it at a shuffle
            if (t == 0) __syncthreads();
            v = __shfl_xor_sync(full, (float)t, 1);
            break;
        case 2:  // every lane passes the mask of lanes 0..15: it leaves out lanes 16..31
            v = __shfl_xor_sync(0x0000ffffu, (float)t, 1);
            break;
        case 3:  // lanes 16..31 exit while lanes 0..15 shuffle with the full mask
            if (lane >= 16) return;
            v = __shfl_xor_sync(full, (float)t, 1);
            break;
        case 4:  // lane 1 passes another mask than the rest of its warp
            v = __shfl_xor_sync(lane == 1 ? 0x0000ffffu : full, (float)t, 1);
            break;
        case 5:  // correct: each half-warp shuffles on its own (disjoint masks), after a barrier
            s[t] = (float)t;
            __syncthreads();
            v = __shfl_xor_sync(lane < 16 ? 0x0000ffffu : 0xffff0000u, s[t], 1, 16);
            break;
        case 6:  // lanes 0..15 read lane^16, which their mask leaves out
            if (lane >= 16) return;
            v = __shfl_xor_sync(0x0000ffffu, (float)t, 16);
            break;
        case 7:  // after a barrier, thread 5 writes one float past out (blockDim.x floats)
            __syncthreads();
            if (t == 5) out[blockDim.x] = 1.0f;
            v = (float)t;
            break;
        case 8:  // reads shared memory nobody wrote
            v = s[t];
            break;
        case 9:  // correct: a butterfly sum over each warp, as rnnrt's fused kernels reduce
            v = (float)t;
            for (int off = 16; off > 0; off /= 2) v += __shfl_xor_sync(full, v, off);
            break;
        default:
            v = -1.0f;
    }
    out[t] = v;
}
