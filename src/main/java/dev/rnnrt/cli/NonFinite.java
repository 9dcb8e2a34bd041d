package dev.rnnrt.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NaN and infinite values of one array that is read or written chunk by chunk (an input file, an
 * output file): their counts and where the first one is, counted as the chunks pass, so that
 * nothing is read twice and nothing is kept but a few numbers. For an output, those in sequences
 * whose inputs are all finite are counted apart, from a flag per row of the chunk that the inputs
 * set ({@link #addInput}, {@link #addOutput}).
 */
final class NonFinite {

    private long nan;
    private long inf;
    private long first = -1;
    /** Of an output: its NaN and infinite values in sequences whose inputs are all finite. */
    private long fromFinite;
    private long firstFromFinite = -1;

    /**
     * Counts a chunk of an input. {@code values} are the array's values from flat (row-major)
     * position {@code offset} on: a chunk of rows [from, from + count) of an array whose rows hold
     * R values starts at {@code from * R}. Sets {@code rows[r]} for each row r of the chunk that
     * holds a NaN or infinite value; leaves the others as they are. Neither array is modified but
     * {@code rows}.
     *
     * @param rowLength R, the values per row
     */
    void addInput(float[] values, long offset, int rowLength, boolean[] rows) {
        for (int k = 0; k < values.length; k++) {
            float v = values[k];
            if (!Float.isFinite(v)) {              // rare: the common case is one compare per value
                count(v, offset + k);
                rows[k / rowLength] = true;
            }
        }
    }

    /**
     * Counts a chunk of an output, as {@link #addInput} counts one of an input; a NaN or infinite
     * value in a row r whose {@code rows[r]} is false (its sequence's inputs are all finite) is
     * counted apart too.
     */
    void addOutput(float[] values, long offset, int rowLength, boolean[] rows) {
        for (int k = 0; k < values.length; k++) {
            float v = values[k];
            if (!Float.isFinite(v)) {
                count(v, offset + k);
                if (!rows[k / rowLength]) {
                    fromFinite++;
                    if (firstFromFinite < 0) {
                        firstFromFinite = offset + k;
                    }
                }
            }
        }
    }

    private void count(float v, long at) {
        if (Float.isNaN(v)) {
            nan++;
        } else {
            inf++;
        }
        if (first < 0) {
            first = at;
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

    /** The index of the flat position {@code at} in an array of this shape, e.g. [9, 1, 0]. */
    private static String index(long at, int[] shape) {
        int[] index = new int[shape.length];
        long rest = at;
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d] = (int) (rest % shape[d]);
            rest /= shape[d];
        }
        return Arrays.toString(index);
    }

    /**
     * "5 of 25 values are NaN or ±infinite (3 NaN, 2 ±infinite), the first at [9, 0]", for an array
     * of this shape.
     */
    String describe(int[] shape) {
        long size = 1;
        for (int d : shape) {
            size *= d;
        }
        return (nan + inf) + " of " + size + " values are NaN or ±infinite (" + nan + " NaN, " + inf + " ±infinite), "
                + "the first at " + index(first, shape);
    }

    private static final String MODEL_MADE = "so the model made them, for example where a value passed float32's range, "
            + "as it would in Keras' float32 (an activation or a state overflowing; README.md, \"Backends\", says "
            + "where), or from weights with NaN or infinite values (the load warns of those)";

    /**
     * One warning per output with NaN or infinite values, saying where they come from, as far as
     * the counts tell: the sequences whose inputs hold such values (Keras carries them into the
     * outputs of those sequences too; the inputs are named, with their counts), and those whose
     * inputs are all finite, whose NaN and infinite values the model made. Each list holds one
     * entry per input or output, in the model's order.
     *
     * @param outputFiles the output files' names, or null when none are written
     */
    static List<String> warnings(List<String> inputNames, List<String> inputFiles, List<int[]> inputShapes,
                                 List<NonFinite> inputs, List<String> outputNames, List<String> outputFiles,
                                 List<int[]> outputShapes, List<NonFinite> outputs) {
        List<String> bad = new ArrayList<>();
        for (int k = 0; k < inputs.size(); k++) {
            NonFinite in = inputs.get(k);
            if (in.any()) {
                bad.add("input '" + inputNames.get(k) + "' (" + inputFiles.get(k) + "): " + in.describe(inputShapes.get(k)));
            }
        }
        String badInputs = String.join("; ", bad);
        List<String> warnings = new ArrayList<>();
        for (int k = 0; k < outputs.size(); k++) {
            NonFinite o = outputs.get(k);
            if (!o.any()) {
                continue;
            }
            long all = o.nan + o.inf;
            String cause;
            if (bad.isEmpty()) {
                cause = "every input is finite, " + MODEL_MADE;
            } else if (o.fromFinite == 0) {
                cause = "each is in a sequence whose inputs hold NaN or infinite values, which Keras carries into "
                        + "the outputs too: " + badInputs;
            } else if (o.fromFinite == all) {
                cause = "each is in a sequence whose inputs are all finite, " + MODEL_MADE + "; the sequences whose "
                        + "inputs hold NaN or infinite values have none here: " + badInputs;
            } else {
                cause = (all - o.fromFinite) + " are in sequences whose inputs hold NaN or infinite values, which Keras "
                        + "carries into the outputs too (" + badInputs + "); the other " + o.fromFinite + ", the first at "
                        + index(o.firstFromFinite, outputShapes.get(k)) + ", are in sequences whose inputs are all "
                        + "finite, " + MODEL_MADE;
            }
            warnings.add("output '" + outputNames.get(k) + "'"
                    + (outputFiles == null ? "" : " (" + outputFiles.get(k) + ")") + ": "
                    + o.describe(outputShapes.get(k)) + "; " + cause + ".");
        }
        return warnings;
    }
}
