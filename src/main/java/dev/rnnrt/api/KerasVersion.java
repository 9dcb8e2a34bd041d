package dev.rnnrt.api;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Keras version a model was written by, where the meaning of a name depends on it.
 *
 * <p>Two defaults differ between versions and change the numbers:
 * <ul>
 *   <li>{@code hard_sigmoid} is {@code clip(0.2x + 0.5, 0, 1)} in Keras 1 and 2 (and tf.keras)
 *       and {@code relu6(x + 3) / 6} from Keras 3 on;</li>
 *   <li>GRU's {@code reset_after} defaults to False up to standalone Keras 2.3.1 and tf.keras
 *       2.2.4-tf, and to True from tf.keras 2.3.0-tf (TensorFlow 2.2) and Keras 2.4 on.</li>
 * </ul>
 *
 * <p>And two details of masks and states: {@code StackedRNNCells} lists its cells' states last
 * cell first up to Keras 2.2.2 ({@link #stackedCellStatesReversed()}), and {@code Bidirectional}
 * zeroes the outputs of masked steps only in tf.keras ({@link #bidirectionalZeroesMaskedOutputs()}).
 *
 * @param major   major version, e.g. 2
 * @param minor   minor version, e.g. 15
 * @param patch   patch version, e.g. 0
 * @param tfKeras whether the version is tf.keras' ("2.2.4-tf"), not standalone Keras' ("2.2.4")
 */
public record KerasVersion(int major, int minor, int patch, boolean tfKeras) {

    /** Keras 2.2, whose GRU defaults to {@code reset_after=False} and LSTM and GRU to {@code hard_sigmoid} gates. */
    public static final KerasVersion KERAS_2_2 = new KerasVersion(2, 2);
    /** Keras 2.15: the last Keras 2 (tf.keras) release. */
    public static final KerasVersion KERAS_2 = new KerasVersion(2, 15);
    /** Keras 3. */
    public static final KerasVersion KERAS_3 = new KerasVersion(3, 0);

    private static final Pattern VERSION = Pattern.compile("^\\s*(\\d+)(?:\\.(\\d+)(?:\\.(\\d+))?)?.*$");

    public KerasVersion {
        if (major < 1 || minor < 0 || patch < 0) {
            throw new IllegalArgumentException("Keras version " + major + "." + minor + "." + patch
                    + " is not a Keras version; expected 1.x, 2.x or 3.x.");
        }
    }

    /** Version major.minor.0. */
    public KerasVersion(int major, int minor) {
        this(major, minor, 0, false);
    }

    /** Version major.minor.patch. */
    public KerasVersion(int major, int minor, int patch) {
        this(major, minor, patch, false);
    }

    /** Parses a {@code keras_version} string such as {@code "2.4.0"}, {@code "3.9.2"} or {@code "2.15.0-tf"}. */
    public static KerasVersion parse(String text) {
        Matcher m = VERSION.matcher(text == null ? "" : text);
        if (!m.matches()) {
            throw new IllegalArgumentException("Cannot read the Keras version '" + text
                    + "'; expected a version such as '2.15.0' or '3.9.2'.");
        }
        int minor = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
        int patch = m.group(3) == null ? 0 : Integer.parseInt(m.group(3));
        return new KerasVersion(Integer.parseInt(m.group(1)), minor, patch, text.contains("-tf"));
    }

    /** The function {@code hard_sigmoid} names in this version. */
    public Activation hardSigmoid() {
        return major >= 3 ? Activation.HARD_SIGMOID_KERAS3 : Activation.HARD_SIGMOID_KERAS2;
    }

    /**
     * GRU's default {@code reset_after} in this version: False in Keras 1 and standalone Keras up to
     * 2.3.1 (whose 2.3 releases changed the gate activation's default to sigmoid, not this one), True
     * in tf.keras from 2.3.0-tf (TensorFlow 2.2), in Keras 2.4+ (built on tf.keras) and Keras 3.
     * tf.keras 2.2.4-tf was TensorFlow 1.13-1.15 (False) and 2.0-2.1 (True); it is read as False.
     */
    public boolean gruResetAfterDefault() {
        if (major != 2) {
            return major > 2;
        }
        return minor >= 4 || tfKeras && minor == 3;
    }

    /**
     * Whether {@code StackedRNNCells} lists its cells' states (initial and returned) last cell first:
     * [h2, c2, h1, c1] for two LSTM cells, as standalone Keras 2.0.9-2.2.2 (and tf.keras of that time)
     * did. From Keras 2.2.3 on they come in cell order (its {@code reverse_state_order=False}).
     */
    public boolean stackedCellStatesReversed() {
        return major == 2 && (minor < 2 || minor == 2 && patch < 3);
    }

    /**
     * Whether {@code Bidirectional} sets both directions' {@code zero_output_for_mask} to its
     * {@code return_sequences}, so that masked steps of its sequence output are zeros: tf.keras did
     * from 2.2.4-tf (TensorFlow 1.13) on, and every Keras from 2.4 (built on tf.keras) and Keras 3.
     * Standalone Keras up to 2.3.1 (and Keras 1) had no such option: a masked step repeats each
     * direction's previous output.
     */
    public boolean bidirectionalZeroesMaskedOutputs() {
        if (major != 2) {
            return major > 2;
        }
        return minor >= 4 || tfKeras && (minor == 3 || minor == 2 && patch >= 4);
    }

    /**
     * Whether a masked step of a recurrent layer outputs the layer's previous state h instead of its
     * previous output, as the TensorFlow backend's symbolic loop of Keras 1.0.8 to standalone Keras
     * 2.2.4, and of tf.keras before 2.2.4-tf, computed it ({@code tf.where(mask, output,
     * states[0])}). The two differ only before the first unmasked step, where the state is the
     * initial state (given, or carried by a stateful layer) and the previous output is zeros.
     * Theano's loop, unrolled loops ({@code unroll=True}) and the TensorFlow and torch backends of
     * later Keras take the previous output (Keras 3 on JAX or NumPy takes the state again, but a
     * .keras file does not say which backend wrote it). Says nothing of the backend: see
     * {@link dev.rnnrt.layers.RecurrentLayerBuilder#maskedOutputIsState}.
     */
    public boolean maskedStepsOutputState() {
        if (major == 1) {
            return minor > 0 || patch >= 8;                // Keras 1.0.0-1.0.7's TensorFlow loop only unrolled
        }
        if (major != 2) {
            return false;
        }
        return minor < 2 || minor == 2 && (tfKeras ? patch < 4 : patch <= 4);
    }

    /**
     * Whether a mask reaching a layer that does not support masking (Flatten, Conv1D,
     * GlobalMaxPooling1D, …) stops there silently and the layer computes over the masked steps:
     * tf.keras from 2.4 (TensorFlow 2.3) on, and Keras 3 (with a warning). Standalone Keras up to
     * 2.3 raised; for tf.keras before 2.4 ("-tf" versions) rnnrt does not assume either, and refuses.
     */
    public boolean dropsUnusedMasks() {
        return major >= 3 || major == 2 && minor >= 4 && !tfKeras;
    }

    @Override
    public String toString() {
        return major + "." + minor + (patch == 0 ? "" : "." + patch) + (tfKeras ? "-tf" : "");
    }
}
