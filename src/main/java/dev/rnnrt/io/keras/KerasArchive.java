package dev.rnnrt.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A Keras 3 {@code .keras} archive: a zip of {@code config.json}, {@code metadata.json} and
 * {@code model.weights.h5} (tf.keras 2.12-2.14 wrote the same). tf.keras 2.11's archives (from its
 * experimental saving_lib) hold {@code variables.h5} in place of {@code model.weights.h5}, with the
 * layers' groups under {@code layers} as in Keras 3 ({@link WeightStore.Keras3#tfKeras211}); they
 * load only where metadata.json says 2.11 and the file has that layout. Entries are read with a
 * byte limit each, however large the archive says they are; an entry whose name leaves the archive
 * root is refused, and nothing is ever written to disk.
 */
final class KerasArchive {

    /** The format name loaded models report. */
    static final String FORMAT = "Keras 3 archive";
    /** The format name of tf.keras 2.11's archives (weights in variables.h5). */
    static final String FORMAT_TF_KERAS_2_11 = "tf.keras 2.11 archive";

    /** Keras 3's (and tf.keras 2.12-2.14's) weights entry. */
    static final String WEIGHTS = "model.weights.h5";
    /** tf.keras 2.11's weights entry. */
    static final String TF_KERAS_2_11_WEIGHTS = "variables.h5";

    /** The most bytes read from config.json or metadata.json. */
    static final long MAX_JSON_BYTES = 64L << 20;
    /** The most bytes read from model.weights.h5 or variables.h5 (one Java array). */
    static final long MAX_WEIGHTS_BYTES = Integer.MAX_VALUE - 64;

    private KerasArchive() {
    }

    static LoadedModel load(Path path, String source, dev.rnnrt.backend.RecurrentBackend backend) {
        try (ZipFile zip = new ZipFile(path.toFile())) {
            checkNames(zip, source);
            String config = KerasModelLoader.utf8(read(zip, "config.json", MAX_JSON_BYTES, source, true));
            byte[] metadata = read(zip, "metadata.json", MAX_JSON_BYTES, source, false);
            String version = null;
            if (metadata != null) {
                JsonNode meta = ConfigReader.parse(KerasModelLoader.utf8(metadata), source + " metadata.json");
                version = meta.path("keras_version").isTextual() ? meta.path("keras_version").asText() : null;
            }
            boolean keras3 = zip.getEntry(WEIGHTS) != null;
            boolean tfKeras211 = zip.getEntry(TF_KERAS_2_11_WEIGHTS) != null;
            if (keras3 && tfKeras211) {
                throw new ModelLoadException(source + " holds both " + WEIGHTS + " (Keras 3, tf.keras 2.12+) and "
                        + TF_KERAS_2_11_WEIGHTS + " (tf.keras 2.11); Keras writes one of them, so which weights "
                        + "belong to the model is not clear. The archive is refused; export it again with "
                        + "model.save(\"model.keras\").");
            }
            if (tfKeras211) {
                checkTfKeras211Version(source, version, metadata != null);
            }
            String name = tfKeras211 ? TF_KERAS_2_11_WEIGHTS : WEIGHTS;
            byte[] weights = read(zip, name, MAX_WEIGHTS_BYTES, source, true);
            try (Hdf5 h5 = Hdf5.open(weights, source + " (" + name + ")")) {
                WeightStore store = tfKeras211 ? tfKeras211Store(h5, source) : new WeightStore.Keras3(h5);
                return KerasModelLoader.assemble(source, version, null, ConfigReader.parse(config, source + " config.json"),
                        store, tfKeras211 ? FORMAT_TF_KERAS_2_11 : FORMAT, backend);
            }
        } catch (ZipException e) {
            throw new ModelLoadException(source + " is not a readable zip archive (" + e.getMessage()
                    + "). It may be truncated or corrupt; export it again with model.save(\"model.keras\").", e);
        } catch (IOException e) {
            throw new ModelLoadException(source + ": cannot read the archive (" + e.getMessage() + ").", e);
        }
    }

    /**
     * Refuses a variables.h5 archive whose metadata.json does not say tf.keras 2.11, the only version
     * that wrote one: where and how another one (a nightly between 2.11 and 2.12, a tool copying the
     * name) keeps the weights is not known, and reading it as 2.11's would be a guess.
     */
    private static void checkTfKeras211Version(String source, String version, boolean hasMetadata) {
        dev.rnnrt.api.KerasVersion v = null;
        if (version != null) {
            try {
                v = dev.rnnrt.api.KerasVersion.parse(version);
            } catch (IllegalArgumentException e) {
                v = null;
            }
        }
        if (v == null || v.major() != 2 || v.minor() != 11) {
            throw new ModelLoadException(source + " keeps its weights in " + TF_KERAS_2_11_WEIGHTS + ", which only tf.keras "
                    + "2.11's .keras archives use, but " + (!hasMetadata ? "it has no metadata.json"
                    : version == null ? "its metadata.json has no keras_version"
                    : "its metadata.json says keras_version '" + version + "'") + ". rnnrt reads " + TF_KERAS_2_11_WEIGHTS
                    + " only as tf.keras 2.11 laid it out, and refuses to guess another writer's layout. Load the model "
                    + "in the Keras that saved it and export it again with model.save(\"model.keras\").");
        }
    }

    /**
     * The store of a tf.keras 2.11 variables.h5, after checking it has 2.11's layout: the layers'
     * groups below {@code layers}, one per layer of the model. A file with the groups elsewhere
     * (tf.keras 2.12-2.14's {@code _layer_checkpoint_dependencies}) or none is refused, naming what it has.
     */
    private static WeightStore tfKeras211Store(Hdf5 h5, String source) {
        if (h5.child(h5.root(), "layers") instanceof io.jhdf.api.Group) {
            return WeightStore.Keras3.tfKeras211(h5);
        }
        List<String> top = h5.children(h5.root());
        boolean later = top.contains(WeightStore.Keras3.TF_KERAS_LAYERS);
        throw new ModelLoadException(source + ": " + TF_KERAS_2_11_WEIGHTS + " has no 'layers' group, where tf.keras "
                + "2.11 keeps the layers' weights (layers/<class>[_<n>]/vars/<i>); its top-level groups are "
                + WeightStore.listed(top) + (later ? ". '" + WeightStore.Keras3.TF_KERAS_LAYERS + "' is where tf.keras "
                + "2.12-2.14 keep them, in model.weights.h5, so the archive's weights and its version disagree"
                : "") + ". The archive is refused rather than read in a layout it may not have; export it again with "
                + "model.save(\"model.keras\").");
    }

    /** Refuses entries that would land outside the archive root if extracted. */
    private static void checkNames(ZipFile zip, String source) {
        Enumeration<? extends ZipEntry> entries = zip.entries();
        while (entries.hasMoreElements()) {
            String name = entries.nextElement().getName();
            String n = name.replace('\\', '/');
            if (n.startsWith("/") || n.matches("^[A-Za-z]:.*") || n.equals("..") || n.startsWith("../")
                    || n.contains("/../") || n.endsWith("/..")) {
                throw new ModelLoadException(source + ": the archive entry '" + name + "' points outside the archive "
                        + "root. The file is not a Keras archive or has been tampered with; it is refused.");
            }
        }
    }

    private static byte[] read(ZipFile zip, String name, long limit, String source, boolean required) throws IOException {
        ZipEntry entry = zip.getEntry(name);
        if (entry == null) {
            if (required) {
                throw new ModelLoadException(source + " has no " + name + "; a Keras 3 archive holds config.json, "
                        + "metadata.json and model.weights.h5 (tf.keras 2.11's variables.h5). Export it again with "
                        + "model.save(\"model.keras\").");
            }
            return null;
        }
        if (entry.getSize() > limit) {
            throw new ModelLoadException(source + ": " + name + " is " + entry.getSize() + " bytes, more than the "
                    + limit + " rnnrt reads.");
        }
        try (InputStream in = zip.getInputStream(entry)) {
            byte[] data = in.readNBytes((int) Math.min(limit, Integer.MAX_VALUE - 64));
            if (data.length >= limit && in.read() != -1) {
                throw new ModelLoadException(source + ": " + name + " holds more than the " + limit
                        + " bytes rnnrt reads (its header claims " + entry.getSize() + ").");
            }
            return data;
        }
    }
}
