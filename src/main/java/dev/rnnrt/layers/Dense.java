package dev.rnnrt.layers;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.StackStage;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import java.util.List;
import java.util.Objects;

/**
 * Keras {@code Dense}: {@code y = act(x·W + b)} on the last axis, so on [batch, timesteps,
 * features] it acts on every step (as {@code TimeDistributed(Dense)} does) and keeps the mask.
 * Kernel [I, units], bias [units]. The affine map runs on the layer's backend
 * ({@link RecurrentBackend#affine}): the float64 reference by default, the fast CPU path's SGEMM
 * when built with {@code backend(RecurrentCpu.INSTANCE)} (as the Keras loader does for a model
 * loaded for that backend).
 */
public final class Dense extends Layer {

    private final int units;
    private final OutputActivation activation;
    private final boolean useBias;
    private final Initializer kernelInitializer;
    private final Initializer biasInitializer;
    private final RecurrentBackend backend;
    private volatile Tensor kernel;
    private volatile Tensor bias;

    private Dense(Builder b) {
        super(b.name != null ? b.name : uniqueName("dense"));
        if (b.units < 1) {
            throw new IllegalArgumentException("Dense: units must be a positive integer; got " + b.units + ".");
        }
        this.units = b.units;
        this.activation = b.activation;
        this.useBias = b.useBias;
        this.kernelInitializer = b.kernelInitializer;
        this.biasInitializer = b.biasInitializer;
        this.backend = b.backend;
    }

    /** A builder with Keras' defaults: linear activation, bias, glorot_uniform kernel, zero bias. */
    public static Builder builder(int units) {
        return new Builder(units);
    }

    @Override
    public String className() {
        return "Dense";
    }

    public int units() {
        return units;
    }

    public OutputActivation activation() {
        return activation;
    }

    /** The backend whose affine map ({@link RecurrentBackend#affine}) this layer computes with. */
    public RecurrentBackend backend() {
        return backend;
    }

    /**
     * Makes the weights from the initializers for inputs of {@code inputSize} features, if not yet made.
     *
     * @throws IllegalArgumentException if {@code inputSize} is below 1, or the layer has weights for another size
     */
    public synchronized void build(int inputSize) {
        if (inputSize < 1) {
            throw new IllegalArgumentException(describe() + ": the input must have at least one feature; got "
                    + inputSize + ".");
        }
        if (kernel != null) {
            if (kernel.dim(0) != inputSize) {
                throw new IllegalArgumentException(describe() + " was built for inputs of " + kernel.dim(0)
                        + " features; it cannot take " + inputSize + ".");
            }
            return;
        }
        Tensor k = Tensor.wrap(initialValues("kernel_initializer", kernelInitializer, inputSize, units), inputSize, units);
        bias = useBias ? Tensor.wrap(initialValues("bias_initializer", biasInitializer, units), units) : null;
        kernel = k;
    }

    /** Builds the layer for its input's last axis ({@link #build(int)}) where that is known. */
    @Override
    public void build(List<int[]> inputShapes) {
        int features = lastAxis(inputShapes);
        if (features >= 1) {
            build(features);
        }
    }

    /** Sets [kernel [I, units], bias [units]] (bias only with use_bias), as Keras orders them; copied. */
    public synchronized void setWeights(List<Tensor> weights) {
        int expected = useBias ? 2 : 1;
        if (weights == null || weights.size() != expected) {
            throw new IllegalArgumentException(describe() + " has " + expected + " weight(s) ("
                    + (useBias ? "kernel, bias" : "kernel") + "); got " + (weights == null ? 0 : weights.size()) + ".");
        }
        Tensor k = weights.get(0);
        if (k == null || k.rank() != 2 || k.dim(1) != units || (kernel != null && k.dim(0) != kernel.dim(0))) {
            throw new IllegalArgumentException(describe() + ": weight 'kernel' must have shape ["
                    + (kernel != null ? Integer.toString(kernel.dim(0)) : "I") + ", " + units + "]; got "
                    + (k == null ? "null" : Tensor.shapeString(k.shape())) + ".");
        }
        if (useBias) {
            Tensor b = weights.get(1);
            if (b == null || !b.hasShape(units)) {
                throw new IllegalArgumentException(describe() + ": weight 'bias' must have shape [" + units + "]; got "
                        + (b == null ? "null" : Tensor.shapeString(b.shape())) + ".");
            }
            bias = Tensor.of(b.data(), b.shape());
        }
        kernel = Tensor.of(k.data(), k.shape());
    }

    /** The weight names, in Keras' order: kernel, then bias with use_bias. */
    public List<String> weightNames() {
        return useBias ? List.of("kernel", "bias") : List.of("kernel");
    }

    /**
     * [kernel, bias] (bias only with use_bias), copies.
     *
     * @throws IllegalStateException if the layer has no weights yet
     */
    public List<Tensor> getWeights() {
        Tensor k = kernel;
        if (k == null) {
            throw new IllegalStateException(describe() + " has no weights yet: build it or set its weights first.");
        }
        Tensor kc = Tensor.of(k.data(), k.shape());
        return useBias ? List.of(kc, Tensor.of(bias.data(), bias.shape())) : List.of(kc);
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] x = inputShapes.get(0);
        if (x.length < 1 || x[x.length - 1] < 1) {
            throw new IllegalArgumentException(describe() + " needs input with a known last axis; got "
                    + shapeText(x) + ".");
        }
        Tensor k = kernel;
        if (k != null && k.dim(0) != x[x.length - 1]) {
            throw new IllegalArgumentException(describe() + " expects input whose last axis is " + k.dim(0)
                    + "; got " + shapeText(x) + ".");
        }
        int[] out = x.clone();
        out[out.length - 1] = units;
        return List.of(out);
    }

    /** x is [..., I]; returns [..., units]. */
    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        return List.of(apply(inputs.get(0)));
    }

    /** Applies the layer to x [..., I]; returns [..., units]. Builds the weights on first use. */
    public Tensor apply(Tensor x) {
        if (x == null) {
            throw new IllegalArgumentException(describe() + ": the input must not be null.");
        }
        if (x.rank() < 2) {
            throw new IllegalArgumentException(describe() + " expects input [batch, ..., features]; got "
                    + Tensor.shapeString(x.shape()) + ".");
        }
        int in = x.dim(-1);
        Tensor built = kernel;
        if (built != null && built.dim(0) != in) {
            throw new IllegalArgumentException(describe() + " expects input whose last axis is " + built.dim(0)
                    + "; got " + Tensor.shapeString(x.shape()) + ".");
        }
        int[] shape = x.shape();
        shape[shape.length - 1] = units;
        // the output must fit a Java array: say so here, before the weights are made or the backend runs
        valueCount(shape);
        if (built == null) {
            build(in);
        }
        Tensor k = kernel;
        if (k.dim(0) != in) {
            throw new IllegalArgumentException(describe() + " expects input whose last axis is " + k.dim(0)
                    + "; got " + Tensor.shapeString(x.shape()) + ".");
        }
        int rows = x.size() / Math.max(1, in);
        Tensor b = bias;
        float[] y = backend.affine(x.data(), rows, k, b);
        activation.applyInPlace(y, units);
        return Tensor.wrap(y, shape);
    }

    /**
     * This layer as a stage of a stack ({@link dev.rnnrt.backend.RecurrentBackend#forwardStack})
     * on inputs of {@code inputSize} features, building the weights on first use; null when it was
     * built for another size. Without {@code withActivation} the stage is the affine part only and
     * the caller applies {@link #activation()}: the way to end a stack with softmax.
     */
    public StackStage.Dense stackStage(int inputSize, boolean withActivation) {
        if (kernel == null) {
            build(inputSize);
        }
        Tensor k = kernel;
        if (k.dim(0) != inputSize || withActivation && !activation.isElementwise()) {
            return null;
        }
        return new StackStage.Dense(k, bias, withActivation ? activation.elementwise() : Activation.LINEAR);
    }

    @Override
    public long parameterCount() {
        Tensor k = kernel;
        return k == null ? 0 : (long) k.size() + (useBias ? units : 0);
    }

    @Override
    public String describeOptions() {
        return "units=" + units + ", activation=" + activation.kerasName() + (useBias ? "" : ", use_bias=False");
    }

    /** Dense arguments, with Keras' names and defaults. */
    public static final class Builder {
        private final int units;
        private String name;
        private OutputActivation activation = OutputActivation.of(dev.rnnrt.api.Activation.LINEAR);
        private boolean useBias = true;
        private Initializer kernelInitializer = Initializer.glorotUniform();
        private Initializer biasInitializer = Initializer.zeros();
        private RecurrentBackend backend = RecurrentReference.INSTANCE;

        Builder(int units) {
            this.units = units;
        }

        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /** Keras {@code activation}; default linear. */
        public Builder activation(OutputActivation activation) {
            this.activation = Objects.requireNonNull(activation, "activation");
            return this;
        }

        /**
         * Keras {@code activation} by name, Keras 3 meanings.
         *
         * @throws IllegalArgumentException for an unknown name, naming the layer (its name where
         *                                  {@link #name} came first) and the known names
         */
        public Builder activation(String name) {
            OutputActivation a;
            try {
                a = OutputActivation.named(name, KerasVersion.KERAS_3);
            } catch (IllegalArgumentException e) {
                String layer = this.name != null ? "Layer '" + this.name + "' (Dense, units=" + units + ")"
                        : "Dense layer (units=" + units + ")";
                throw new IllegalArgumentException(layer + ", activation: " + e.getMessage(), e);
            }
            return activation(a);
        }

        public Builder useBias(boolean useBias) {
            this.useBias = useBias;
            return this;
        }

        public Builder kernelInitializer(Initializer init) {
            this.kernelInitializer = Objects.requireNonNull(init, "kernel_initializer");
            return this;
        }

        public Builder biasInitializer(Initializer init) {
            this.biasInitializer = Objects.requireNonNull(init, "bias_initializer");
            return this;
        }

        /**
         * The backend whose affine map the layer computes with ({@link RecurrentBackend#affine}):
         * the fast CPU path's SGEMM, or by default the float64 CPU reference.
         */
        public Builder backend(RecurrentBackend backend) {
            this.backend = Objects.requireNonNull(backend, "backend");
            return this;
        }

        public Dense build() {
            return new Dense(this);
        }
    }
}
