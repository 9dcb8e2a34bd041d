// libcublas.so.12 for the CUDA emulator (cuda/emu/README.md): the cuBLAS functions rnnrt calls
// through JCublas2, on the emulated device of libcuda.so.1 (whose allocation table, streams and
// captures it shares through emu::submit).
//
// cublasSgemm_v2 validates its arguments as cuBLAS does (CUBLAS_STATUS_INVALID_VALUE), then runs
// on the handle's stream, or is recorded into that stream's capture (alpha and beta, host
// pointers, are read at the call, as cuBLAS reads host scalars). Each run checks that A, B and C
// lie inside device allocations; one that does not is an illegal address, sticky as on a GPU.
// Products accumulate in double; in TF32 math mode the inputs are first rounded to TF32
// (10 mantissa bits), as the tensor cores take them.
#include <cstdio>

#include "emu.h"

typedef int cublasStatus_t;
typedef struct EmuBlas* cublasHandle_t;

enum : int {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_EXECUTION_FAILED = 13,
};

struct EmuBlas {
    CUstream stream = nullptr;
    uint64_t workspace = 0;
    size_t workspaceBytes = 0;
    int mathMode = 0;
};

extern "C" CUresult cuInit(unsigned flags);

namespace {

float toTf32(float x) {
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    if ((bits & 0x7f800000u) != 0x7f800000u) {  // finite: round to nearest even at 10 mantissa bits
        bits += 0xfffu + ((bits >> 13) & 1u);
        bits &= 0xffffe000u;
    }
    std::memcpy(&x, &bits, 4);
    return x;
}

// Bytes a column-major rows x cols matrix with leading dimension ld spans.
uint64_t span(int rows, int cols, int ld) {
    if (rows == 0 || cols == 0) return 0;
    return (static_cast<uint64_t>(cols - 1) * ld + rows) * sizeof(float);
}

cublasStatus_t invalid(const char* fmt, int a, int b) {
    char buf[256];
    snprintf(buf, sizeof buf, fmt, a, b);
    emu::report("cublasSgemm: %s", buf);
    return CUBLAS_STATUS_INVALID_VALUE;
}

}  // namespace

extern "C" {

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
    if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    if (cuInit(0) != CUDA_SUCCESS || emu::retain_primary_for_runtime() != CUDA_SUCCESS) {
        return CUBLAS_STATUS_NOT_INITIALIZED;
    }
    *handle = new EmuBlas();
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
    if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
    delete handle;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, CUstream stream) {
    if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
    handle->stream = stream;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetStream_v2(cublasHandle_t handle, CUstream* stream) {
    if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
    *stream = handle->stream;
    return CUBLAS_STATUS_SUCCESS;
}

// Strict beyond cuBLAS's own check (256-byte alignment): the workspace must be device memory.
cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void* workspace, size_t bytes) {
    if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
    uint64_t p = reinterpret_cast<uint64_t>(workspace);
    if (bytes > 0 && (p % 256 != 0 || !emu::in_allocation(p, bytes))) {
        emu::report("cublasSetWorkspace: %zu bytes at %p are not a 256-byte aligned range of device memory", bytes,
                    workspace);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    handle->workspace = p;
    handle->workspaceBytes = bytes;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, int mode) {
    if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
    int base = mode & ~16;  // CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION may be or-ed in
    if (base < 0 || base > 3) {
        emu::report("cublasSetMathMode: unknown mode %d", mode);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    handle->mathMode = mode;
    return CUBLAS_STATUS_SUCCESS;
}

// C = alpha op(A) op(B) + beta C, column-major; op(A) is m x k, op(B) k x n, C m x n.
cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, int transa, int transb, int m, int n, int k, const float* alpha,
                              const float* A, int lda, const float* B, int ldb, const float* beta, float* C, int ldc) {
    if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (transa < 0 || transa > 2 || transb < 0 || transb > 2) return invalid("transa %d / transb %d", transa, transb);
    if (m < 0 || n < 0 || k < 0) return invalid("negative size: m=%d, n=%d (or k)", m, n);
    int rowsA = transa == 0 ? m : k;
    int colsA = transa == 0 ? k : m;
    int rowsB = transb == 0 ? k : n;
    int colsB = transb == 0 ? n : k;
    if (lda < (rowsA > 1 ? rowsA : 1)) return invalid("lda=%d is less than the rows of A (%d)", lda, rowsA);
    if (ldb < (rowsB > 1 ? rowsB : 1)) return invalid("ldb=%d is less than the rows of B (%d)", ldb, rowsB);
    if (ldc < (m > 1 ? m : 1)) return invalid("ldc=%d is less than m (%d)", ldc, m);
    if (alpha == nullptr || beta == nullptr) return invalid("alpha or beta is null (%d, %d)", alpha == nullptr, beta == nullptr);
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    float a = *alpha;  // host pointer mode: read now, also when the call is captured
    float b = *beta;
    bool tf32 = (handle->mathMode & ~16) == 3;
    uint64_t ws = handle->workspace;
    size_t wsBytes = handle->workspaceBytes;
    auto work = [=]() -> CUresult {
        bool readsAB = k > 0 && a != 0.0f;
        uint64_t pa = reinterpret_cast<uint64_t>(A), pb = reinterpret_cast<uint64_t>(B),
                 pc = reinterpret_cast<uint64_t>(C);
        if ((readsAB && (!emu::in_allocation(pa, span(rowsA, colsA, lda)) || !emu::in_allocation(pb, span(rowsB, colsB, ldb))))
            || !emu::in_allocation(pc, span(m, n, ldc))) {
            emu::report("cublasSgemm(m=%d, n=%d, k=%d, lda=%d, ldb=%d, ldc=%d): %s reaches outside device memory", m, n,
                        k, lda, ldb, ldc, !emu::in_allocation(pc, span(m, n, ldc)) ? "C" : "A or B");
            return CUDA_ERROR_ILLEGAL_ADDRESS;
        }
        if (wsBytes > 0 && !emu::in_allocation(ws, wsBytes)) {
            emu::report("cublasSgemm: the handle's workspace is no longer allocated (not used by the emulator)");
        }
        std::vector<double> acc(static_cast<size_t>(m));
        for (int j = 0; j < n; j++) {
            std::fill(acc.begin(), acc.end(), 0.0);
            if (readsAB) {
                for (int p = 0; p < k; p++) {
                    float bv = transb == 0 ? B[p + static_cast<size_t>(j) * ldb] : B[j + static_cast<size_t>(p) * ldb];
                    double bd = tf32 ? toTf32(bv) : bv;
                    for (int i = 0; i < m; i++) {
                        float av = transa == 0 ? A[i + static_cast<size_t>(p) * lda] : A[p + static_cast<size_t>(i) * lda];
                        acc[i] += (tf32 ? toTf32(av) : av) * bd;
                    }
                }
            }
            float* c = C + static_cast<size_t>(j) * ldc;
            for (int i = 0; i < m; i++) {
                double v = a * acc[i];
                if (b != 0.0f) v += static_cast<double>(b) * c[i];  // beta == 0: C is not read (it may be NaN)
                c[i] = static_cast<float>(v);
            }
        }
        return CUDA_SUCCESS;
    };
    CUresult r = emu::submit(handle->stream, "cublasSgemm", work);
    return r == CUDA_SUCCESS ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_EXECUTION_FAILED;
}

}  // extern "C"
