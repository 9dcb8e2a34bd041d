package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.cpu.reference.Conv1dReference;
import java.util.List;
import java.util.Locale;

/**
 * Keras {@code Conv1D(filters, kernel_size, strides, padding, dilation_rate, activation)}, channels
 * last: [batch, timesteps, channels] to [batch, timesteps', filters]. Padding {@code valid},
 * {@code same} or {@code causal} (zeros before the first step). Kernel [K, C, filters]. Takes no mask.
 */
public final class Conv1D extends Layer {

    private final int filters;
    private final int kernelSize;
    private final int stride;
    private final int dilation;
    private final String padding;
    private final OutputActivation activation;
    private final boolean useBias;
    private volatile Tensor kernel;
    private volatile Tensor bias;

    /**
     * @param padding "valid", "same" or "causal"
     */
    public Conv1D(String name, int filters, int kernelSize, int stride, int dilation, String padding,
                  OutputActivation activation, boolean useBias) {
        super(name != null ? name : uniqueName("conv1d"));
        this.padding = padding == null ? "valid" : padding.toLowerCase(Locale.ROOT);
        if (filters < 1 || kernelSize < 1 || stride < 1 || dilation < 1) {
            throw new IllegalArgumentException(describe() + ": filters, kernel_size, strides and dilation_rate must be "
                    + "positive; got " + filters + ", " + kernelSize + ", " + stride + ", " + dilation + ".");
        }
        if (!List.of("valid", "same", "causal").contains(this.padding)) {
            throw new IllegalArgumentException(describe() + ": padding '" + padding
                    + "' is not supported; use valid, same or causal.");
        }
        if (stride > 1 && dilation > 1) {
            throw new IllegalArgumentException(describe() + ": strides > 1 with dilation_rate > 1 is not allowed (as in Keras).");
        }
        this.filters = filters;
        this.kernelSize = kernelSize;
        this.stride = stride;
        this.dilation = dilation;
        this.activation = activation;
        this.useBias = useBias;
    }

    @Override
    public String className() {
        return "Conv1D";
    }

    @Override
    public boolean supportsMasking() {
        return false;
    }

    /** Sets [kernel [K, C, filters], bias [filters]] (bias only with use_bias); copied. */
    public void setWeights(List<Tensor> weights) {
        int expected = useBias ? 2 : 1;
        if (weights == null || weights.size() != expected) {
            throw new IllegalArgumentException(describe() + " has " + expected + " weight(s); got "
                    + (weights == null ? 0 : weights.size()) + ".");
        }
        Tensor k = weights.get(0);
        if (k.rank() != 3 || k.dim(0) != kernelSize || k.dim(2) != filters) {
            throw new IllegalArgumentException(describe() + ": weight 'kernel' must have shape [" + kernelSize
                    + ", C, " + filters + "]; got " + Tensor.shapeString(k.shape()) + ".");
        }
        if (useBias && !weights.get(1).hasShape(filters)) {
            throw new IllegalArgumentException(describe() + ": weight 'bias' must have shape [" + filters + "]; got "
                    + Tensor.shapeString(weights.get(1).shape()) + ".");
        }
        kernel = Tensor.of(k.data(), k.shape());
        bias = useBias ? Tensor.of(weights.get(1).data(), filters) : null;
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] x = inputShapes.get(0);
        checkRank(x, 2, "[batch, timesteps, channels]");
        Tensor k = kernel;
        if (k != null && x[1] != k.dim(1)) {
            throw new IllegalArgumentException(describe() + " expects input [batch, timesteps, " + k.dim(1) + "]; got "
                    + shapeText(x) + ".");
        }
        return List.of(new int[] {x[0] < 0 ? -1 : outTime(x[0]), filters});
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        Tensor k = kernel;
        if (k == null) {
            throw new IllegalStateException(describe() + " has no weights; set them first.");
        }
        if (x.rank() != 3 || x.dim(2) != k.dim(1)) {
            throw new IllegalArgumentException(describe() + " expects input [batch, timesteps, " + k.dim(1) + "]; got "
                    + Tensor.shapeString(x.shape()) + ".");
        }
        int time = x.dim(1);
        int outT = outTime(time);
        if (outT < 1) {
            throw new IllegalArgumentException(describe() + " needs at least " + ((kernelSize - 1) * dilation + 1)
                    + " timesteps with padding '" + padding + "'; got " + time + ".");
        }
        int span = (kernelSize - 1) * dilation;
        int padLeft = switch (padding) {
            case "causal" -> span;
            case "same" -> Math.max(0, ((outT - 1) * stride + span + 1 - time)) / 2;
            default -> 0;
        };
        Tensor b = bias;
        float[] y = Conv1dReference.conv(x.data(), x.dim(0), time, x.dim(2), k.data(), kernelSize, filters,
                b == null ? null : b.data(), stride, dilation, padLeft, outT);
        activation.applyInPlace(y, filters);
        return List.of(Tensor.wrap(y, x.dim(0), outT, filters));
    }

    @Override
    public long parameterCount() {
        Tensor k = kernel;
        return k == null ? 0 : (long) k.size() + (useBias ? filters : 0);
    }

    @Override
    public String describeOptions() {
        return "filters=" + filters + ", kernel_size=" + kernelSize + ", strides=" + stride + ", padding=" + padding
                + (dilation > 1 ? ", dilation_rate=" + dilation : "") + ", activation=" + activation.kerasName();
    }

    private int outTime(int time) {
        int span = (kernelSize - 1) * dilation + 1;
        if (padding.equals("valid")) {
            return time < span ? 0 : (time - span) / stride + 1;
        }
        return (time + stride - 1) / stride;
    }
}
