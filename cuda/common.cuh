// Shared device code for rnnrt's kernels: activation codes and functions, and the error macro.
// The activation codes are the ordinals of dev.rnnrt.api.Activation; ActivationCodesTest checks
// that this table and the Java enum agree.
#pragma once

#define ACT_LINEAR 0
#define ACT_TANH 1
#define ACT_SIGMOID 2
#define ACT_HARD_SIGMOID_KERAS2 3
#define ACT_HARD_SIGMOID_KERAS3 4
#define ACT_RELU 5
#define ACT_RELU6 6
#define ACT_LEAKY_RELU 7
#define ACT_ELU 8
#define ACT_SELU 9
#define ACT_SOFTSIGN 10
#define ACT_SOFTPLUS 11
#define ACT_SWISH 12
#define ACT_HARD_SILU 13
#define ACT_MISH 14
#define ACT_GELU 15
#define ACT_EXPONENTIAL 16
#define ACT_CELU 17
#define ACT_HARD_SHRINK 18
#define ACT_HARD_TANH 19
#define ACT_LOG_SIGMOID 20
#define ACT_SOFT_SHRINK 21
#define ACT_SPARSE_PLUS 22
#define ACT_SPARSE_SIGMOID 23
#define ACT_SQUAREPLUS 24
#define ACT_TANH_SHRINK 25

__host__ __device__ __forceinline__ float rnnrt_softplus(float x) {
    return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
}

__host__ __device__ __forceinline__ float rnnrt_sigmoid(float x) {
    return 1.0f / (1.0f + expf(-x));
}

// squareplus with b = 4: (x + sqrt(x^2 + 4)) / 2, and for x < 0 the equal 4 / (2 (sqrt(x^2 + 4) - x)),
// which keeps its digits where the sum cancels; hypotf(x, 2) = sqrt(x^2 + 4) without overflow, and
// the halves are taken before the sums, which would pass FLT_MAX for |x| above about 1.7e38.
__host__ __device__ __forceinline__ float rnnrt_squareplus(float x) {
    float root = hypotf(x, 2.0f);
    return x >= 0.0f ? 0.5f * x + 0.5f * root : 1.0f / (0.5f * root - 0.5f * x);
}

// Rarely used activations with double arithmetic: inlined by default, where they cost the pointwise
// kernels a few registers (at most 32, eight blocks of 256 threads per SM as before); a kernel that
// cannot spare them defines RNNRT_RARE as __noinline__ before including this file (inlined, they
// take the fused LSTM step from 63 registers, four blocks per SM, to 80, three).
#ifndef RNNRT_RARE
#define RNNRT_RARE __forceinline__
#endif

// tanh_shrink, x - tanh(x), which cancels near 0: below |x| = 0.1 tanh's Taylor series from x^3 on
// (x^3/3 - 2x^5/15 + 17x^7/315 - 62x^9/2835; the first term left out is below 3e-10 of the sum),
// above it the difference in double, where tanh's rounding is 1e-13 of the result or less. A zero
// result is +0, as Keras' x - tanh(x) gives it (at x = -0, and where x^3/3 underflows): the series
// alone gives -0 for negative x. (Not by adding +0: nvcc contracts that into an fma, whose exact
// tiny negative product still rounds to -0.)
__host__ __device__ RNNRT_RARE float rnnrt_tanh_shrink(float x) {
    if (fabsf(x) < 0.1f) {
        float x2 = x * x;
        float s = x * x2 * (1.0f / 3.0f + x2 * (-2.0f / 15.0f + x2 * (17.0f / 315.0f + x2 * (-62.0f / 2835.0f))));
        return s == 0.0f ? 0.0f : s;
    }
    return (float) ((double) x - tanh((double) x));
}

// The exact GELU, x * Phi(x) = x * erfc(-x / sqrt 2) / 2: erfc keeps the digits that 1 + erf(x / sqrt 2)
// cancels for negative x (all of them below x = -5.7 in float), and double keeps those that rounding
// x / sqrt 2 to float would cost in the tail (erfc's relative slope there is 2u, u = -x / sqrt 2).
__host__ __device__ RNNRT_RARE float rnnrt_gelu(float x) {
    return (float) (0.5 * (double) x * erfc(-(double) x * 0.70710678118654752440));
}

// x clipped to [lo, hi]; NaN stays NaN.
__host__ __device__ __forceinline__ float rnnrt_clip(float x, float lo, float hi) {
    return x > hi ? hi : (x < lo ? lo : x);
}

// Each definition follows dev.rnnrt.api.Activation (Keras' definitions). Also compiled for the host,
// where ActivationFormulasTest compares it with the Java enum on a grid of inputs.
__host__ __device__ __forceinline__ float rnnrt_activate(int code, float x) {
    switch (code) {
        case ACT_LINEAR: return x;
        case ACT_TANH: return tanhf(x);
        case ACT_SIGMOID: return rnnrt_sigmoid(x);
        // clips by comparisons, which keep NaN as the enum does (fmaxf and fminf return the other operand)
        case ACT_HARD_SIGMOID_KERAS2: return rnnrt_clip(0.2f * x + 0.5f, 0.0f, 1.0f);
        case ACT_HARD_SIGMOID_KERAS3: return rnnrt_clip(x + 3.0f, 0.0f, 6.0f) / 6.0f;
        case ACT_RELU: return x > 0.0f ? x : 0.0f;
        case ACT_RELU6: return rnnrt_clip(x, 0.0f, 6.0f);
        case ACT_LEAKY_RELU: return x >= 0.0f ? x : 0.2f * x;
        case ACT_ELU: return x > 0.0f ? x : expm1f(x);
        case ACT_SELU: return 1.0507009873554805f * (x > 0.0f ? x : 1.6732632423543772f * expm1f(x));
        case ACT_SOFTSIGN: return x / (1.0f + fabsf(x));
        case ACT_SOFTPLUS: return rnnrt_softplus(x);
        case ACT_SWISH: return x * rnnrt_sigmoid(x);
        case ACT_HARD_SILU: return x * (rnnrt_clip(x + 3.0f, 0.0f, 6.0f) / 6.0f);   // x * 6 would overflow first
        case ACT_MISH: return x * tanhf(rnnrt_softplus(x));
        case ACT_GELU: return rnnrt_gelu(x);
        case ACT_EXPONENTIAL: return expf(x);
        // Keras 3.7 to 3.10's additions, with the defaults a name gets: celu alpha = 1, the shrinks'
        // threshold = 0.5, squareplus b = 4
        // (fmaxf and fminf return the other operand for NaN: comparisons keep NaN, as the enum does)
        case ACT_CELU: return x > 0.0f ? x : expm1f(x);
        case ACT_HARD_SHRINK: return fabsf(x) > 0.5f ? x : 0.0f;
        case ACT_HARD_TANH: return rnnrt_clip(x, -1.0f, 1.0f);
        case ACT_LOG_SIGMOID: return -rnnrt_softplus(-x);
        case ACT_SOFT_SHRINK: return x > 0.5f ? x - 0.5f : (x < -0.5f ? x + 0.5f : 0.0f);
        case ACT_SPARSE_PLUS: return x <= -1.0f ? 0.0f : (x < 1.0f ? 0.25f * ((x + 1.0f) * (x + 1.0f)) : x);
        case ACT_SPARSE_SIGMOID: return x <= -1.0f ? 0.0f : (x >= 1.0f ? 1.0f : 0.5f * (x + 1.0f));
        case ACT_SQUAREPLUS: return rnnrt_squareplus(x);
        case ACT_TANH_SHRINK: return rnnrt_tanh_shrink(x);
        // NaN: an unknown code must not pass silently
#ifdef __CUDA_ARCH__
        default: return __int_as_float(0x7fc00000);
#else
        default: return __builtin_nanf("");
#endif
    }
}

// Element k of a bias vector, or 0 when the layer has none (bias == null).
__host__ __device__ __forceinline__ float rnnrt_bias(const float* bias, int k) {
    return bias == nullptr ? 0.0f : bias[k];
}

// The masked-step rule shared by every cell (keras/src/backend/tensorflow/rnn.py): the states stay,
// and the output repeats the previous one, or is zero with zero_output_for_mask.
// out_prev is [B, H]; seq, when not null, is [B, T, H] and receives step p.
__device__ __forceinline__ void rnnrt_emit(float* out_prev, float* seq, int b, int j, int H, int T, int p,
                                           bool keep, int zero_output, float h_new) {
    float o = keep ? h_new : (zero_output ? 0.0f : out_prev[b * H + j]);
    out_prev[b * H + j] = o;
    if (seq != nullptr) {
        seq[((size_t) b * T + p) * H + j] = o;
    }
}
