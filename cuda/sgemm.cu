// The GEMM used when cuBLAS cannot be loaded: C[m, n] = A[m, k] · B[k, n] (+ C when accumulate),
// row-major with leading dimensions, 16×16 shared-memory tiles.
// Reference: dev.rnnrt.backend.cpu.PlainSgemm.
//
// | version | idea                          | measured |
// |---------|-------------------------------|----------|
// | v1      | 16×16 tiles in shared memory  | not yet measured on a GPU |
#define TILE 16

extern "C" __global__ void sgemm_v1(int m, int n, int k, const float* __restrict__ a, int lda,
                                    const float* __restrict__ b, int ldb, float* c, int ldc, int accumulate) {
    __shared__ float as[TILE][TILE];
    __shared__ float bs[TILE][TILE];
    int row = blockIdx.y * TILE + threadIdx.y;
    int col = blockIdx.x * TILE + threadIdx.x;
    float acc = 0.0f;
    for (int p0 = 0; p0 < k; p0 += TILE) {
        int ac = p0 + threadIdx.x;
        int br = p0 + threadIdx.y;
        as[threadIdx.y][threadIdx.x] = (row < m && ac < k) ? a[(size_t) row * lda + ac] : 0.0f;
        bs[threadIdx.y][threadIdx.x] = (br < k && col < n) ? b[(size_t) br * ldb + col] : 0.0f;
        __syncthreads();
        for (int q = 0; q < TILE; q++) {
            acc += as[threadIdx.y][q] * bs[q][threadIdx.x];
        }
        __syncthreads();
    }
    if (row < m && col < n) {
        size_t o = (size_t) row * ldc + col;
        c[o] = accumulate ? c[o] + acc : acc;
    }
}
