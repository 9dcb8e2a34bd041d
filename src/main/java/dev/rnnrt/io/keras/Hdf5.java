package dev.rnnrt.io.keras;

import dev.rnnrt.api.Tensor;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.List;

/**
 * Bounded reads from an HDF5 file through jhdf: every size is checked before anything is read,
 * and every failure of the reader becomes a {@link ModelLoadException} naming the file and path.
 */
final class Hdf5 implements AutoCloseable {

    /** The most bytes one attribute (a model config, a name list) may hold. */
    static final long MAX_ATTRIBUTE_BYTES = 64L << 20;

    private final HdfFile file;
    private final String source;
    private final long fileBytes;

    private Hdf5(HdfFile file, String source, long fileBytes) {
        this.file = file;
        this.source = source;
        this.fileBytes = fileBytes;
    }

    /** Opens an HDF5 image held in memory (a file read whole, or a zip entry). */
    static Hdf5 open(byte[] bytes, String source) {
        try {
            return new Hdf5(HdfFile.fromBytes(bytes), source, bytes.length);
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            throw new ModelLoadException(source + " is not a readable HDF5 file (" + describe(e)
                    + "). It may be truncated or corrupt; export it again from Keras.", e);
        }
    }

    /** Opens an HDF5 file on disk without reading it whole. */
    static Hdf5 open(java.nio.file.Path path, String source) {
        try {
            long size = java.nio.file.Files.size(path);
            return new Hdf5(new HdfFile(path), source, size);
        } catch (java.io.IOException e) {
            throw new ModelLoadException(source + ": cannot read the file (" + describe(e) + ").", e);
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            throw new ModelLoadException(source + " is not a readable HDF5 file (" + describe(e)
                    + "). It may be truncated or corrupt; export it again from Keras.", e);
        }
    }

    String source() {
        return source;
    }

    Group root() {
        return file;
    }

    /** The child group or dataset at {@code path} below {@code group}, or null. */
    Node child(Group group, String path) {
        try {
            Node n = group;
            for (String part : path.split("/")) {
                if (part.isEmpty()) {
                    continue;
                }
                if (!(n instanceof Group g)) {
                    return null;
                }
                n = g.getChildren().get(part);
                if (n == null) {
                    return null;
                }
            }
            return n;
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            throw corrupt(group.getPath() + "/" + path, e);
        }
    }

    /** The names of a group's children, in the file's order. */
    List<String> children(Group group) {
        try {
            return new ArrayList<>(group.getChildren().keySet());
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            throw corrupt(group.getPath(), e);
        }
    }

    /** A string attribute (fixed- or variable-length, scalar or one-element array), or null when absent. */
    String stringAttribute(Node node, String name) {
        Object data = attributeData(node, name);
        if (data == null) {
            return null;
        }
        if (data instanceof String s) {
            return s;
        }
        if (data.getClass().isArray() && Array.getLength(data) == 1 && Array.get(data, 0) instanceof String s) {
            return s;
        }
        if (data instanceof byte[] b) {
            return new String(b, java.nio.charset.StandardCharsets.UTF_8);
        }
        throw new ModelLoadException(source + ": attribute '" + name + "' of " + node.getPath()
                + " should be a string but holds " + data.getClass().getSimpleName() + ".");
    }

    /** A list-of-strings attribute ({@code layer_names}, {@code weight_names}); empty when absent or empty. */
    List<String> stringListAttribute(Node node, String name) {
        Object data = attributeData(node, name);
        List<String> out = new ArrayList<>();
        if (data == null) {
            return out;
        }
        if (data instanceof String s) {
            out.add(s);
            return out;
        }
        if (!data.getClass().isArray()) {
            throw new ModelLoadException(source + ": attribute '" + name + "' of " + node.getPath()
                    + " should be a list of names but holds " + data.getClass().getSimpleName() + ".");
        }
        int n = Array.getLength(data);
        for (int k = 0; k < n; k++) {
            Object v = Array.get(data, k);
            if (!(v instanceof String s)) {
                throw new ModelLoadException(source + ": attribute '" + name + "' of " + node.getPath()
                        + " should be a list of names but item " + k + " is " + (v == null ? "null" : v.getClass().getSimpleName()) + ".");
            }
            out.add(s);
        }
        return out;
    }

    /**
     * The float32 values of the dataset at {@code path} below {@code group}.
     *
     * @param budget the bytes still allowed for weights; a dataset larger than it, or than the
     *               file itself, is refused before it is read
     */
    Tensor floatDataset(Group group, String path, long[] budget) {
        Node node = child(group, path);
        String where = group.getPath() + (group.getPath().endsWith("/") ? "" : "/") + path;
        if (!(node instanceof Dataset ds)) {
            throw new ModelLoadException(source + ": expected a weight array at " + where + " but found "
                    + (node == null ? "nothing" : "a group") + ". The file may be truncated; export it again from Keras.");
        }
        try {
            int[] dims = ds.getDimensions();
            long count = 1;
            for (int d : dims) {
                if (d < 0) {
                    throw new ModelLoadException(source + ": weight array " + where + " has a negative size.");
                }
                count = Math.multiplyExact(count, (long) d);
            }
            long bytes = Math.multiplyExact(count, 4L);
            boolean compressed = !ds.getFilters().isEmpty();
            if (count > Integer.MAX_VALUE - 8 || (!compressed && ds.getSizeInBytes() > fileBytes) || bytes > budget[0]) {
                throw new ModelLoadException(source + ": weight array " + where + " declares " + count
                        + " values (" + bytes + " bytes), more than the file (" + fileBytes
                        + " bytes) or the weight limit allows. The file is corrupt or not a Keras model.");
            }
            Class<?> type = ds.getJavaType();
            boolean integer = type == int.class || type == long.class || type == Integer.class || type == Long.class;
            if (type != float.class && type != double.class && type != Float.class && type != Double.class && !integer) {
                throw new ModelLoadException(source + ": weight array " + where + " holds " + type.getSimpleName()
                        + " values; Keras weights are numbers.");
            }
            // integer arrays: counters Keras keeps beside weights (Normalization's count)
            Object flat = ds.isScalar() ? new float[] {((Number) ds.getData()).floatValue()} : ds.getDataFlat();
            float[] values;
            if (flat instanceof float[] f) {
                values = f;
            } else if (flat instanceof double[] d) {
                values = new float[d.length];
                for (int k = 0; k < d.length; k++) {
                    values[k] = (float) d[k];
                }
            } else if (flat instanceof long[] l) {
                values = new float[l.length];
                for (int k = 0; k < l.length; k++) {
                    values[k] = l[k];
                }
            } else if (flat instanceof int[] i) {
                values = new float[i.length];
                for (int k = 0; k < i.length; k++) {
                    values[k] = i[k];
                }
            } else {
                throw new ModelLoadException(source + ": weight array " + where + " could not be read as numbers.");
            }
            if (values.length != count) {
                throw new ModelLoadException(source + ": weight array " + where + " holds " + values.length
                        + " values but declares " + count + ". The file is corrupt.");
            }
            budget[0] -= bytes;
            return Tensor.wrap(values, dims);
        } catch (ModelLoadException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            throw corrupt(where, e);
        }
    }

    @Override
    public void close() {
        try {
            file.close();
        } catch (RuntimeException e) {
            // nothing to release for an in-memory file
        }
    }

    private Object attributeData(Node node, String name) {
        try {
            Attribute a = node.getAttribute(name);
            if (a == null) {
                return null;
            }
            if (a.getSizeInBytes() > MAX_ATTRIBUTE_BYTES) {
                throw new ModelLoadException(source + ": attribute '" + name + "' of " + node.getPath() + " holds "
                        + a.getSizeInBytes() + " bytes, more than the " + MAX_ATTRIBUTE_BYTES + " rnnrt reads.");
            }
            return a.getData();
        } catch (ModelLoadException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            throw corrupt(node.getPath() + " attribute '" + name + "'", e);
        }
    }

    private ModelLoadException corrupt(String where, Throwable e) {
        return new ModelLoadException(source + ": cannot read " + where + " (" + describe(e)
                + "). The file may be truncated or corrupt; export it again from Keras.", e);
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + (m.length() > 200 ? m.substring(0, 200) + "…" : m));
    }
}
