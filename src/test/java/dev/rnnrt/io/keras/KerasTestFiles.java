package dev.rnnrt.io.keras;

import dev.rnnrt.api.Tensor;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** The real Keras files under src/test/resources/keras (see PROVENANCE.md there). */
final class KerasTestFiles {

    private KerasTestFiles() {
    }

    static Path path(String name) {
        URL url = KerasTestFiles.class.getClassLoader().getResource("keras/" + name);
        if (url == null) {
            throw new IllegalStateException("missing test resource keras/" + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A float dataset of an HDF5 test file. */
    static Tensor dataset(String file, String datasetPath) {
        try (HdfFile f = new HdfFile(path(file))) {
            Dataset d = f.getDatasetByPath(datasetPath);
            return Tensor.of((float[]) d.getDataFlat(), d.getDimensions());
        }
    }
}
