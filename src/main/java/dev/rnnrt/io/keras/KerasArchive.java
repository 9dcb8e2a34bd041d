package dev.rnnrt.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A Keras 3 {@code .keras} archive: a zip of {@code config.json}, {@code metadata.json} and
 * {@code model.weights.h5}. Entries are read with a byte limit each, however large the archive
 * says they are; an entry whose name leaves the archive root is refused, and nothing is ever
 * written to disk.
 */
final class KerasArchive {

    /** The format name loaded models report. */
    static final String FORMAT = "Keras 3 archive";

    /** The most bytes read from config.json or metadata.json. */
    static final long MAX_JSON_BYTES = 64L << 20;
    /** The most bytes read from model.weights.h5 (one Java array). */
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
            byte[] weights = read(zip, "model.weights.h5", MAX_WEIGHTS_BYTES, source, true);
            try (Hdf5 h5 = Hdf5.open(weights, source + " (model.weights.h5)")) {
                return KerasModelLoader.assemble(source, version, null,
                        ConfigReader.parse(config, source + " config.json"), new WeightStore.Keras3(h5), FORMAT, backend);
            }
        } catch (ZipException e) {
            throw new ModelLoadException(source + " is not a readable zip archive (" + e.getMessage()
                    + "). It may be truncated or corrupt; export it again with model.save(\"model.keras\").", e);
        } catch (IOException e) {
            throw new ModelLoadException(source + ": cannot read the archive (" + e.getMessage() + ").", e);
        }
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
                        + "metadata.json and model.weights.h5. Export it again with model.save(\"model.keras\").");
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
