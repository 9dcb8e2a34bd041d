package dev.rnnrt.backend.cpu.reference;

/**
 * The affine map of Keras' Dense on the last axis, reference: {@code y = x·W + b} with float64
 * accumulation. Clarity over speed.
 */
public final class DenseReference {

    private DenseReference() {
    }

    /**
     * x is [N, I] (N = every leading axis flattened), kernel [I, U], bias [U] or null; returns [N, U].
     */
    public static float[] affine(float[] x, int rows, int inputSize, float[] kernel, float[] bias, int units) {
        float[] y = new float[rows * units];
        for (int n = 0; n < rows; n++) {
            for (int u = 0; u < units; u++) {
                double sum = bias == null ? 0.0 : bias[u];
                for (int k = 0; k < inputSize; k++) {
                    sum += (double) x[n * inputSize + k] * kernel[k * units + u];
                }
                y[n * units + u] = (float) sum;
            }
        }
        return y;
    }
}
