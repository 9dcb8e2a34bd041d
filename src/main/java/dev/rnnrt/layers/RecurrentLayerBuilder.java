package dev.rnnrt.layers;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.backend.CellKind;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The arguments every recurrent layer shares, named as Keras names them, with Keras' defaults.
 *
 * @param <S> the concrete builder, so that chained calls keep its type
 */
public abstract class RecurrentLayerBuilder<S extends RecurrentLayerBuilder<S>> {
    final CellKind kind;
    final int units;
    String name;
    Activation activation = Activation.TANH;
    String activationName; // resolved at build, once the Keras version is known
    boolean useBias = true;
    Initializer kernelInitializer = Initializer.glorotUniform();
    Initializer recurrentInitializer = Initializer.orthogonal();
    Initializer biasInitializer = Initializer.zeros();
    boolean returnSequences;
    boolean returnState;
    boolean goBackwards;
    boolean stateful;
    boolean timeMajor;
    boolean zeroOutputForMask;
    boolean maskedOutputIsState;
    double dropout;
    double recurrentDropout;
    KerasVersion kerasVersion = KerasVersion.KERAS_3;
    RecurrentBackend backend = RecurrentReference.INSTANCE;

    RecurrentLayerBuilder(CellKind kind, int units) {
        this.kind = kind;
        this.units = units;
    }

    abstract S self();

    /** The layer, with no weights until it is built, called, or given weights. */
    public abstract RecurrentLayer build();

    /** The layer's name, used in messages and model files; default "lstm", "lstm_1", … as Keras numbers them. */
    public S name(String name) {
        this.name = Objects.requireNonNull(name, "name");
        return self();
    }

    /** Keras {@code activation}; default tanh. */
    public S activation(Activation activation) {
        this.activation = Objects.requireNonNull(activation, "activation");
        this.activationName = null;
        return self();
    }

    /** Keras {@code activation} by name ("tanh", "relu", …); hard_sigmoid as in {@link #kerasVersion}. */
    public S activation(String name) {
        // an unknown name fails here, at the call that gave it
        checkName("activation", () -> Activation.named(name, kerasVersion));
        this.activationName = name;
        return self();
    }

    /** Keras {@code use_bias}; default true. */
    public S useBias(boolean useBias) {
        this.useBias = useBias;
        return self();
    }

    /** Keras {@code kernel_initializer}; default glorot_uniform. */
    public S kernelInitializer(Initializer init) {
        this.kernelInitializer = Objects.requireNonNull(init, "kernel_initializer");
        return self();
    }

    /** Keras {@code kernel_initializer} by name. */
    public S kernelInitializer(String name) {
        return kernelInitializer(checkName("kernel_initializer", () -> Initializer.named(name)));
    }

    /** Keras {@code recurrent_initializer}; default orthogonal. */
    public S recurrentInitializer(Initializer init) {
        this.recurrentInitializer = Objects.requireNonNull(init, "recurrent_initializer");
        return self();
    }

    /** Keras {@code recurrent_initializer} by name. */
    public S recurrentInitializer(String name) {
        return recurrentInitializer(checkName("recurrent_initializer", () -> Initializer.named(name)));
    }

    /** Keras {@code bias_initializer}; default zeros. */
    public S biasInitializer(Initializer init) {
        this.biasInitializer = Objects.requireNonNull(init, "bias_initializer");
        return self();
    }

    /** Keras {@code bias_initializer} by name. */
    public S biasInitializer(String name) {
        return biasInitializer(checkName("bias_initializer", () -> Initializer.named(name)));
    }

    /** Keras {@code return_sequences}: return every step's output; default false (the last only). */
    public S returnSequences(boolean v) {
        this.returnSequences = v;
        return self();
    }

    /** Keras {@code return_state}: also return the final states; default false. */
    public S returnState(boolean v) {
        this.returnState = v;
        return self();
    }

    /** Keras {@code go_backwards}: process the sequence in reverse; default false. */
    public S goBackwards(boolean v) {
        this.goBackwards = v;
        return self();
    }

    /** Keras {@code stateful}: carry final states into the next call until reset; default false. */
    public S stateful(boolean v) {
        this.stateful = v;
        return self();
    }

    /** Keras 2 {@code time_major}: inputs, masks and sequence outputs are [timesteps, batch, …]; default false. */
    public S timeMajor(boolean v) {
        this.timeMajor = v;
        return self();
    }

    /** Keras {@code zero_output_for_mask}: masked steps output zeros; default false. */
    public S zeroOutputForMask(boolean v) {
        this.zeroOutputForMask = v;
        return self();
    }

    /**
     * A masked step outputs the layer's previous state h, not its previous output: the same after
     * the first unmasked step, the initial state (given or carried) before it instead of zeros. This
     * is what Keras' TensorFlow backend computed up to standalone Keras 2.2.4 and tf.keras 2.1
     * ({@link KerasVersion#maskedStepsOutputState()}); model files of those versions load with it.
     * Default false, as every later Keras. Ignored with {@code zero_output_for_mask}.
     */
    public S maskedOutputIsState(boolean maskedOutputIsState) {
        this.maskedOutputIsState = maskedOutputIsState;
        return self();
    }

    /** Keras {@code dropout}: accepted, no effect at inference; must be in [0, 1]. */
    public S dropout(double rate) {
        this.dropout = rate;
        return self();
    }

    /** Keras {@code recurrent_dropout}: accepted, no effect at inference; must be in [0, 1]. */
    public S recurrentDropout(double rate) {
        this.recurrentDropout = rate;
        return self();
    }

    /**
     * The Keras version whose defaults and names apply: what {@code "hard_sigmoid"} means, the
     * default {@code recurrent_activation} (hard_sigmoid before Keras 2.3, sigmoid from 2.3 on)
     * and GRU's default {@code reset_after}. Default: Keras 3.
     */
    public S kerasVersion(KerasVersion version) {
        this.kerasVersion = Objects.requireNonNull(version, "kerasVersion");
        return self();
    }

    /** The backend that runs the arithmetic; default the CPU reference. */
    public S backend(RecurrentBackend backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
        return self();
    }

    /**
     * {@code lookup} of a Keras name given for {@code argument}; an unknown name's error names the
     * layer: its class and units, and its name where {@link #name} came first.
     */
    <T> T checkName(String argument, Supplier<T> lookup) {
        try {
            return lookup.get();
        } catch (IllegalArgumentException e) {
            String layer = name != null ? "Layer '" + name + "' (" + kind.kerasName() + ", units=" + units + ")"
                    : kind.kerasName() + " layer (units=" + units + ")";
            throw new IllegalArgumentException(layer + ", " + argument + ": " + e.getMessage(), e);
        }
    }

    Activation resolvedActivation() {
        return activationName != null ? Activation.named(activationName, kerasVersion) : activation;
    }

    /** The default recurrent_activation of {@link #kerasVersion}: hard_sigmoid before Keras 2.3, else sigmoid. */
    Activation defaultRecurrentActivation() {
        boolean before23 = kerasVersion.major() < 2 || (kerasVersion.major() == 2 && kerasVersion.minor() < 3);
        return before23 ? kerasVersion.hardSigmoid() : Activation.SIGMOID;
    }
}
