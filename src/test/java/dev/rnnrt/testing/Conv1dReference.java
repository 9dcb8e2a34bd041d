package dev.rnnrt.testing;

/**
 * Keras' Conv1D (channels_last) written out directly: float64 accumulation, plain loops over the
 * taps, independent of the layer's windows-times-kernel lowering; the oracle the layer is tested against.
 */
public final class Conv1dReference {

    private Conv1dReference() {
    }

    /**
     * x is [B, T, C] row-major, kernel [K, C, F], bias [F] or null; the input is treated as having
     * {@code padLeft} zeros before step 0 and enough after it; returns [B, outT, F] with
     * out[t] = Σ_k Σ_c x[t·stride + k·dilation − padLeft, c] · kernel[k, c, f] + bias[f].
     */
    public static float[] conv(float[] x, int batch, int time, int channels, float[] kernel, int kernelSize,
                               int filters, float[] bias, int stride, int dilation, int padLeft, int outTime) {
        float[] y = new float[batch * outTime * filters];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < outTime; t++) {
                for (int f = 0; f < filters; f++) {
                    double sum = bias == null ? 0.0 : bias[f];
                    for (int k = 0; k < kernelSize; k++) {
                        int src = t * stride + k * dilation - padLeft;
                        if (src < 0 || src >= time) {
                            continue;
                        }
                        for (int c = 0; c < channels; c++) {
                            sum += (double) x[(b * time + src) * channels + c] * kernel[(k * channels + c) * filters + f];
                        }
                    }
                    y[(b * outTime + t) * filters + f] = (float) sum;
                }
            }
        }
        return y;
    }
}
