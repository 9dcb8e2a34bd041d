package dev.rnnrt.cli;

import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.io.keras.KerasModelLoader;
import dev.rnnrt.io.keras.LoadedModel;
import dev.rnnrt.io.keras.ModelLoadException;
import java.nio.file.Path;

/** Loads the file a command's --model names, saying in command-line terms what a user can do about it. */
final class ModelFiles {

    private ModelFiles() {
    }

    /** {@code model} loaded with its recurrent layers on {@code backend}. */
    static LoadedModel load(Path model, RecurrentBackend backend) {
        try {
            return KerasModelLoader.load(model, backend);
        } catch (ModelLoadException e) {
            if (e.kind() == ModelLoadException.Kind.WEIGHTS_ONLY) {
                throw new CliException(model + " holds a model's weights but no model config (no layers to build), as "
                        + "model.save_weights writes it; --model needs the whole model. Save it from Keras with "
                        + "model.save(\"model.keras\") or model.save(\"model.h5\") and pass that file; or, in Java, load "
                        + "these weights onto the architecture with KerasModelLoader.loadWeights(file, json), json "
                        + "from Keras' model.to_json().",
                        e);
            }
            throw e;
        }
    }
}
