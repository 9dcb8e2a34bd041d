package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Keras {@code Conv1D(filters, kernel_size, strides, padding, dilation_rate, activation)}, channels
 * last: [batch, timesteps, channels] to [batch, timesteps', filters]. Padding {@code valid},
 * {@code same} or {@code causal} (zeros before the first step). Kernel [K, C, filters]. Takes no mask.
 *
 * <p>Computed as Dense's affine map on the layer's backend ({@link RecurrentBackend#affine}): each
 * output step's window of K input steps (zeros where it reaches into the padding) is laid out as one
 * row of K·C values, in blocks of rows, and multiplied by the kernel seen as [K·C, filters]. The
 * float64 reference by default; the fast CPU path's SGEMM when built with {@code RecurrentCpu}.
 */
public final class Conv1D extends Layer {

    private final int filters;
    private final int kernelSize;
    private final int stride;
    private final int dilation;
    private final String padding;
    private final OutputActivation activation;
    private final boolean useBias;
    private final RecurrentBackend backend;
    /** The kernel [K, C, filters] seen as [K·C, filters]: one tensor per setWeights, so the backend can keep it packed. */
    private volatile Tensor kernel;
    private volatile Tensor bias;
    /** Input channels C of the model the layer was last built in ({@link #build(List)}); 0 while unknown. */
    private volatile int builtChannels;

    /** Block of windows laid out at once: at most this many floats of windows and outputs together. */
    static final int BLOCK_FLOATS = 1 << 19;

    /**
     * On the float64 CPU reference.
     *
     * @param padding "valid", "same" or "causal"
     */
    public Conv1D(String name, int filters, int kernelSize, int stride, int dilation, String padding,
                  OutputActivation activation, boolean useBias) {
        this(name, filters, kernelSize, stride, dilation, padding, activation, useBias, RecurrentReference.INSTANCE);
    }

    /**
     * @param padding "valid", "same" or "causal"
     * @param backend whose affine map ({@link RecurrentBackend#affine}) computes the convolution
     */
    public Conv1D(String name, int filters, int kernelSize, int stride, int dilation, String padding,
                  OutputActivation activation, boolean useBias, RecurrentBackend backend) {
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
        this.activation = Objects.requireNonNull(activation, "activation");
        this.useBias = useBias;
        this.backend = Objects.requireNonNull(backend, "backend");
    }

    @Override
    public String className() {
        return "Conv1D";
    }

    /** The backend whose affine map ({@link RecurrentBackend#affine}) this layer computes with. */
    public RecurrentBackend backend() {
        return backend;
    }

    @Override
    public boolean supportsMasking() {
        return false;
    }

    /** The weight names, in Keras' order: kernel, then bias with use_bias. */
    public List<String> weightNames() {
        return useBias ? List.of("kernel", "bias") : List.of("kernel");
    }

    /**
     * Notes the input's channel count C, where known, so that {@link #setWeights} can refuse a kernel
     * for another C. Makes no weights: a Conv1D takes them from {@code setWeights}. As Keras' build,
     * the first model fixes C: a model that gives the layer another C is refused.
     *
     * @throws IllegalArgumentException if C is known (weights, or an earlier model) and differs
     */
    @Override
    public synchronized void build(List<int[]> inputShapes) {
        int c = lastAxis(inputShapes);
        if (c < 1) {
            return;
        }
        int known = knownChannels();
        if (known > 0 && known != c) {
            throw new IllegalArgumentException(describe() + " was built for inputs of " + known + " channels; it cannot "
                    + "take " + c + ". Give it inputs of " + known + " channels, or a new Conv1D layer for these.");
        }
        builtChannels = c;
    }

    /**
     * Sets [kernel [K, C, filters], bias [filters]] (bias only with use_bias); copied. Where C is
     * known (from weights set before, or the model the layer was built in) a kernel for another C is
     * refused, naming the layer, the weight, the expected and the actual shape.
     */
    public synchronized void setWeights(List<Tensor> weights) {
        int expected = useBias ? 2 : 1;
        if (weights == null || weights.size() != expected) {
            throw new IllegalArgumentException(describe() + " has " + expected + " weight(s); got "
                    + (weights == null ? 0 : weights.size()) + ".");
        }
        if (weights.stream().anyMatch(java.util.Objects::isNull)) {
            throw new IllegalArgumentException(describe() + ": a weight is null; expected the kernel [" + kernelSize
                    + ", C, " + filters + "]" + (useBias ? " and the bias [" + filters + "]" : "") + ".");
        }
        Tensor k = weights.get(0);
        if (k.rank() != 3 || k.dim(0) != kernelSize || k.dim(2) != filters) {
            throw new IllegalArgumentException(describe() + ": weight 'kernel' must have shape [" + kernelSize
                    + ", C, " + filters + "]; got " + Tensor.shapeString(k.shape()) + ".");
        }
        int known = knownChannels();
        if (known > 0) {
            checkWeightShape("kernel", k, kernelSize, known, filters);
        }
        if (useBias && !weights.get(1).hasShape(filters)) {
            throw new IllegalArgumentException(describe() + ": weight 'bias' must have shape [" + filters + "]; got "
                    + Tensor.shapeString(weights.get(1).shape()) + ".");
        }
        kernel = Tensor.of(k.data(), kernelSize * k.dim(1), filters);
        bias = useBias ? Tensor.of(weights.get(1).data(), filters) : null;
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] x = inputShapes.get(0);
        checkRank(x, 2, "[batch, timesteps, channels]");
        int channels = channels();
        if (channels > 0 && x[1] != channels) {
            throw new IllegalArgumentException(describe() + " expects input [batch, timesteps, " + channels + "]; got "
                    + shapeText(x) + ".");
        }
        if (x[0] >= 0 && outTime(x[0]) < 1) {
            throw new IllegalArgumentException(tooFewSteps(shapeText(x)));
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
        int channels = k.dim(0) / kernelSize;
        if (x.rank() != 3 || x.dim(2) != channels) {
            throw new IllegalArgumentException(describe() + " expects input [batch, timesteps, " + channels + "]; got "
                    + Tensor.shapeString(x.shape()) + ".");
        }
        int time = x.dim(1);
        int outT = outTime(time);
        if (outT < 1) {
            throw new IllegalArgumentException(tooFewSteps(time + " timesteps"));
        }
        int span = (kernelSize - 1) * dilation;
        int padLeft = switch (padding) {
            case "causal" -> span;
            case "same" -> Math.max(0, ((outT - 1) * stride + span + 1 - time)) / 2;
            default -> 0;
        };
        float[] y = convolve(x.data(), x.dim(0), time, channels, k, bias, padLeft, outT);
        activation.applyInPlace(y, filters);
        return List.of(Tensor.wrap(y, x.dim(0), outT, filters));
    }

    /**
     * out[b, t] = Σ_k x[b, t·stride + k·dilation − padLeft] · kernel[k] + bias, zeros outside x: the
     * windows of a block of output rows laid out as [rows, K·C] and sent to the backend's affine map.
     */
    private float[] convolve(float[] x, int batch, int time, int channels, Tensor k, Tensor b, int padLeft, int outT) {
        int total = valueCount(batch, outT);
        valueCount(batch, outT, filters);
        int window = kernelSize * channels;
        if (kernelSize == 1 && stride == 1) {
            return backend.affine(x, total, k, b);      // each step is its own window
        }
        float[] y = new float[total * filters];
        int block = Math.max(1, Math.min(total, BLOCK_FLOATS / (window + filters)));
        float[] windows = new float[block * window];
        for (int r0 = 0; r0 < total; r0 += block) {
            int rows = Math.min(block, total - r0);
            for (int i = 0; i < rows; i++) {
                int bt = r0 + i;
                int row = bt / outT;
                int start = (bt % outT) * stride - padLeft;
                for (int j = 0; j < kernelSize; j++) {
                    int src = start + j * dilation;
                    int dst = i * window + j * channels;
                    if (src < 0 || src >= time) {
                        java.util.Arrays.fill(windows, dst, dst + channels, 0f);
                    } else {
                        System.arraycopy(x, (row * time + src) * channels, windows, dst, channels);
                    }
                }
            }
            float[] part = backend.affine(windows, rows, k, b);
            System.arraycopy(part, 0, y, r0 * filters, rows * filters);
        }
        return y;
    }

    /** Input channels, known once the weights are set; 0 before. */
    private int channels() {
        Tensor k = kernel;
        return k == null ? 0 : k.dim(0) / kernelSize;
    }

    /** Input channels C as the weights or, before them, the model the layer was built in fix them; 0 while unknown. */
    private int knownChannels() {
        int c = channels();
        return c > 0 ? c : builtChannels;
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

    /**
     * The refusal of an input too short for one output step, saying what Keras computes for this
     * padding (keras/src/ops/operation_utils.py compute_conv_output_shape): with 'valid',
     * floor((T − (K − 1)·dilation − 1) / strides) + 1 steps, so one step needs the kernel's whole span
     * (Keras gives an empty output up to strides − 1 steps short, and refuses shorter inputs); with
     * 'same' and 'causal', floor((T − 1) / strides) + 1 steps, so any T ≥ 1 gives one.
     */
    private String tooFewSteps(String got) {
        int span = (kernelSize - 1) * dilation + 1;
        if (padding.equals("valid")) {
            return describe() + " needs at least " + span + " timesteps with padding 'valid' (one output step takes "
                    + (dilation > 1 ? "(kernel_size - 1) * dilation_rate + 1 = " : "kernel_size = ") + span
                    + " steps; Keras would give no output step); got " + got + ". Give longer sequences, or use a "
                    + "model with padding 'same' or 'causal', which take any length from 1.";
        }
        return describe() + " needs at least 1 timestep with padding '" + padding + "' (it gives ceil(timesteps / "
                + stride + ") output steps); got " + got + ".";
    }

    private int outTime(int time) {
        int span = (kernelSize - 1) * dilation + 1;
        if (padding.equals("valid")) {
            return time < span ? 0 : (time - span) / stride + 1;
        }
        return (time + stride - 1) / stride;
    }
}
