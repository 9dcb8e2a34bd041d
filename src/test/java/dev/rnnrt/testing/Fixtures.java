package dev.rnnrt.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** Reads the JSON fixtures under src/test/resources/fixtures (made by the scripts beside them). */
public final class Fixtures {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {
    }

    /** The parsed JSON resource at {@code path} (relative to the classpath root). */
    public static JsonNode json(String path) {
        try (InputStream in = Fixtures.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("Missing test resource " + path);
            }
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {"shape": [...], "data": [...]} as float32. */
    public static Tensor tensor(JsonNode node) {
        return Tensor.of(doubles(node), shape(node));
    }

    /** {"shape": [...], "data": [...]} values in float64, as the generator wrote them. */
    public static double[] doubles(JsonNode node) {
        JsonNode data = node.get("data");
        double[] v = new double[data.size()];
        for (int k = 0; k < v.length; k++) {
            v[k] = data.get(k).asDouble();
        }
        return v;
    }

    public static int[] shape(JsonNode node) {
        JsonNode s = node.get("shape");
        int[] shape = new int[s.size()];
        for (int k = 0; k < shape.length; k++) {
            shape[k] = s.get(k).asInt();
        }
        return shape;
    }

    /** A list of tensors, or null for JSON null. */
    public static List<Tensor> tensors(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        List<Tensor> out = new ArrayList<>();
        for (JsonNode n : node) {
            out.add(tensor(n));
        }
        return out;
    }

    /** [[true, false, ...], ...], or null. */
    public static Mask mask(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        boolean[][] m = new boolean[node.size()][];
        for (int i = 0; i < m.length; i++) {
            JsonNode row = node.get(i);
            m[i] = new boolean[row.size()];
            for (int j = 0; j < m[i].length; j++) {
                m[i][j] = row.get(j).asBoolean();
            }
        }
        return Mask.of(m);
    }
}
