package dev.rnnrt.io.keras;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The integer fields of a Keras config (units, filters, kernel_size, input shape sizes, axes, the
 * node and tensor indices of the inputs a layer is called on, …), read strictly in one place, so
 * that no wrong number becomes a model of another size or another graph.
 *
 * <p>Keras writes these as JSON integers. Keras 1 and 2 store some of them as the user passed them
 * (keras/layers/recurrent.py {@code self.units = units}; conv_utils.normalize_tuple checks only
 * that {@code int(value)} works and returns the value as given), so a whole float such as 3.0 can
 * be in a file those versions saved, and is read as 3. Everything else is refused with the file,
 * the layer, the field, the value and what was expected: a fraction (32.5), a string ("4"), a
 * boolean, or a number outside int's range (2^40, which Jackson's {@code asInt()} would wrap).
 */
final class ConfigInts {

    private ConfigInts() {
    }

    /** {@code v} as an int: a JSON integer, or a whole float, in int's range; null for anything else. */
    static Integer exact(JsonNode v) {
        if (v == null) {
            return null;
        }
        if (v.isIntegralNumber()) {
            return v.canConvertToInt() ? v.intValue() : null;
        }
        if (v.isFloatingPointNumber()) {
            double d = v.doubleValue();
            if (d == Math.rint(d) && d >= Integer.MIN_VALUE && d <= Integer.MAX_VALUE) {
                return (int) d;
            }
        }
        return null;
    }

    /**
     * Field {@code field} of a config, whose value is {@code v}, as an int.
     *
     * @param where the file and the layer, as "model.h5, layer 'lstm' (LSTM)"
     * @throws ModelLoadException if {@code v} is missing, null or not a whole number in int's range
     */
    static int read(JsonNode v, String where, String field) {
        Integer n = exact(v);
        if (n == null) {
            throw notAnInteger(v, where, field);
        }
        return n;
    }

    /** As {@link #read(JsonNode, String, String)}, but {@code fallback} where the field is missing or null. */
    static int read(JsonNode v, int fallback, String where, String field) {
        return v == null || v.isMissingNode() || v.isNull() ? fallback : read(v, where, field);
    }

    /** The refusal of a value that is not a whole number in int's range. */
    static ModelLoadException notAnInteger(JsonNode v, String where, String field) {
        String value = v == null || v.isMissingNode() ? "missing" : v.toString();
        return new ModelLoadException(where + ": " + field + " is " + value + "; expected a whole number from "
                + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE + " (Keras writes an integer there). The config may "
                + "have been edited or written by another tool; save the model again from Keras.");
    }
}
