package dev.rnnrt.io.keras;

import dev.rnnrt.model.Model;
import java.util.List;

/**
 * A model loaded from a Keras file.
 *
 * @param model        the model, ready to predict
 * @param kerasVersion the {@code keras_version} the file records, or null when it records none
 * @param format       "HDF5", "Keras 3 archive", "tf.keras 2.11 archive", "weights-only HDF5 + JSON" or
 *                     "Keras 3 weights HDF5 + JSON"
 * @param warnings     what looked wrong but did not stop the load (NaN weights, a missing version)
 */
public record LoadedModel(Model model, String kerasVersion, String format, List<String> warnings) {
    public LoadedModel {
        warnings = List.copyOf(warnings);
    }
}
