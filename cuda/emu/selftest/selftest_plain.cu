// Kernels for the CUDA emulator's self-test (cuda/emu/selftest.sh), never part of rnnrt: memory
// accesses, launch bounds and shared memory, each usable correctly or out of bounds. No barriers:
// build.sh runs these kernels' threads one after another.

// p[offset + i] = i for the threads i < n of the grid
extern "C" __global__ void emutest_fill(float* p, int offset, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[offset + i] = (float)i;
}

// dst[i] = src[offset + i] for the threads i < n of the grid
extern "C" __global__ void emutest_copy(const float* src, int offset, float* dst, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dst[i] = src[offset + i];
}

// at most 64 threads per block (.maxntid 64 in the PTX)
extern "C" __global__ void __launch_bounds__(64) emutest_bounded(float* p) {
    p[blockIdx.x * blockDim.x + threadIdx.x] = 2.0f;
}

// One thread: out[0] = dyn[0] before anything was written (uninitialised); then fills dyn[0..n)
// with k and writes out[1] = their sum. mode 1 also writes dyn[n], one past the end.
extern "C" __global__ void emutest_shared(float* out, int n, int mode) {
    extern __shared__ float dyn[];
    out[0] = dyn[0];
    double sum = 0;
    for (int k = 0; k < n; k++) dyn[k] = (float)k;
    for (int k = 0; k < n; k++) sum += dyn[k];
    if (mode == 1) dyn[n] = 0.0f;
    out[1] = (float)sum;
}

// 16 KiB of static shared memory beside the dynamic: out[0] = fixed[0] unwritten, out[1] = the
// sum of n floats of dynamic shared memory written and read back (volatile: nvcc keeps fixed)
extern "C" __global__ void emutest_static_shared(float* out, int n) {
    __shared__ volatile float fixed[4096];
    extern __shared__ float dyn[];
    out[0] = fixed[0];
    for (int k = 0; k < n; k++) dyn[k] = 1.0f;
    float sum = 0;
    for (int k = 0; k < n; k++) sum += dyn[k];
    fixed[1] = sum;
    out[1] = fixed[1];
}

// never returns while *flag == 0: a hang, for the self-test's control of its own timeout
extern "C" __global__ void emutest_spin(volatile int* flag) {
    while (*flag == 0) {
    }
}
