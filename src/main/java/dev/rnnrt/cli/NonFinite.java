package dev.rnnrt.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NaN and infinite values of one array that is read or written chunk by chunk (an input file, an
 * output file): their counts and where the first one is, counted as the chunks pass, so that
 * nothing is read twice and nothing is kept but three numbers.
 */
final class NonFinite {

    private long nan;
    private long inf;
    private long first = -1;

    /**
     * Counts a chunk. {@code values} are the array's values from flat (row-major) position
     * {@code offset} on: a chunk of rows [from, from + count) of an array whose rows hold R values
     * starts at {@code from * R}. Not modified.
     */
    void add(float[] values, long offset) {
        for (int k = 0; k < values.length; k++) {
            float v = values[k];
            if (!Float.isFinite(v)) {              // rare: the common case is one compare per value
                if (Float.isNaN(v)) {
                    nan++;
                } else {
                    inf++;
                }
                if (first < 0) {
                    first = offset + k;
                }
            }
        }
    }

    long nan() {
        return nan;
    }

    long inf() {
        return inf;
    }

    boolean any() {
        return first >= 0;
    }

    /** {"nan": n, "inf": m}, for summary.json. */
    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nan", nan);
        m.put("inf", inf);
        return m;
    }

    /** The index of the first NaN or infinite value in an array of this shape, e.g. [9, 1, 0]. */
    String firstIndex(int[] shape) {
        int[] at = new int[shape.length];
        long rest = first;
        for (int d = shape.length - 1; d >= 0; d--) {
            at[d] = (int) (rest % shape[d]);
            rest /= shape[d];
        }
        return Arrays.toString(at);
    }

    /**
     * "5 of 25 values are NaN and 2 are ±infinite, the first at [9, 0]", for an array of this shape.
     */
    String describe(int[] shape) {
        long size = 1;
        for (int d : shape) {
            size *= d;
        }
        return (nan + inf) + " of " + size + " values are NaN or ±infinite (" + nan + " NaN, " + inf + " ±infinite), "
                + "the first at " + firstIndex(shape);
    }

    /**
     * One warning per output with NaN or infinite values, saying where they come from: the inputs
     * that hold such values (an output computed from them is NaN or infinite in Keras too), or, when
     * every input is finite, the model itself: a value that passed float32's range, or weights the
     * load already warned of. Each list holds one entry per input or output, in the model's order.
     *
     * @param outputFiles the output files' names, or null when none are written
     */
    static List<String> warnings(List<String> inputNames, List<String> inputFiles, List<int[]> inputShapes,
                                 List<NonFinite> inputs, List<String> outputNames, List<String> outputFiles,
                                 List<int[]> outputShapes, List<NonFinite> outputs) {
        List<String> causes = new ArrayList<>();
        for (int k = 0; k < inputs.size(); k++) {
            NonFinite in = inputs.get(k);
            if (in.any()) {
                causes.add("input '" + inputNames.get(k) + "' (" + inputFiles.get(k) + "): " + in.describe(inputShapes.get(k)));
            }
        }
        String cause = causes.isEmpty()
                ? "every input is finite, so the model made them: a value passed float32's range, as it would in "
                        + "Keras' float32 (an activation or a state overflowing; README.md, \"Backends\", says where), or "
                        + "the weights hold NaN or infinite values (the load warns of those)"
                : "the inputs hold such values too, and Keras carries them into the outputs as well: "
                        + String.join("; ", causes);
        List<String> warnings = new ArrayList<>();
        for (int k = 0; k < outputs.size(); k++) {
            NonFinite o = outputs.get(k);
            if (o.any()) {
                warnings.add("output '" + outputNames.get(k) + "'"
                        + (outputFiles == null ? "" : " (" + outputFiles.get(k) + ")") + ": "
                        + o.describe(outputShapes.get(k)) + "; " + cause + ".");
            }
        }
        return warnings;
    }
}
