package dev.rnnrt.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.layers.TensorOp;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Reads the tensor operations a functional config applies between layers into {@link TensorOp}
 * layers: Keras 3's keras.ops entries (module keras.src.ops.*: GetItem, Subtract, Mean, …) and
 * tf.keras' TFOpLambda / SlicingOpLambda layers (function "math.subtract", "__operators__.getitem",
 * …). Only declarative data is read (the function's name, its axes and numbers); an operation
 * rnnrt does not compute is refused with its name.
 */
final class OpReader {

    /** What the reader made of one operation: the layer and the references of its tensor inputs, in order. */
    record Made(TensorOp op, List<String> inputs) {
    }

    static final List<String> KERAS3_SUPPORTED = List.of("GetItem", "Add", "Subtract", "Multiply", "Divide",
            "TrueDivide", "Maximum", "Minimum", "Absolute", "Abs", "Negative", "Exp", "Log", "Sqrt", "Square", "Tanh",
            "Sigmoid", "Relu", "ReLU", "Sum", "Mean", "Max", "Min", "Concatenate", "ExpandDims", "Squeeze", "Softmax",
            "Transpose", "Matmul");

    static final List<String> KERAS2_SUPPORTED = List.of("__operators__.getitem", "__operators__.add", "math.add",
            "math.subtract", "math.multiply", "math.truediv", "math.divide", "math.maximum", "math.minimum",
            "math.abs", "math.negative", "math.exp", "math.log", "math.sqrt", "math.square", "math.tanh", "nn.tanh",
            "math.sigmoid", "nn.sigmoid", "nn.relu", "math.reduce_sum", "math.reduce_mean", "math.reduce_max",
            "math.reduce_min", "concat", "expand_dims", "squeeze", "compat.v1.squeeze", "nn.softmax", "math.softmax",
            "transpose", "compat.v1.transpose", "linalg.matmul");

    private final String source;
    /** A Keras tensor's JSON (Keras 3 __keras_tensor__, or a tf.keras [layer, node, index] list) to its reference. */
    private final Function<JsonNode, String> ref;

    OpReader(String source, Function<JsonNode, String> ref) {
        this.source = source;
        this.ref = ref;
    }

    // ---- Keras 3 ------------------------------------------------------------------------------------

    static boolean isKeras3Tensor(JsonNode v) {
        return v != null && v.isObject() && v.path("class_name").asText("").equals("__keras_tensor__");
    }

    /** Whether a relu option is missing or the number 0 (a string, null or list is not: refused). */
    private static boolean zeroOrAbsent(JsonNode v) {
        return v.isMissingNode() || v.isNumber() && v.asDouble() == 0;
    }

    /** A keras.ops entry of a Keras 3 config ({@code node}: its one inbound node, {"args", "kwargs"}). */
    Made keras3(String name, String cls, JsonNode config, JsonNode node) {
        JsonNode args = node.path("args");
        JsonNode kwargs = node.path("kwargs");
        String where = source + ": the Keras operation '" + name + "' (" + cls + ")";
        switch (cls) {
            case "GetItem":
                return new Made(TensorOp.slice(name, keras3Key(where, arg(args, kwargs, 1, "key"))),
                        List.of(tensor(where, arg(args, kwargs, 0, "x"))));
            case "Absolute", "Abs", "Negative", "Exp", "Log", "Sqrt", "Square", "Tanh", "Sigmoid", "Relu":
                return new Made(TensorOp.unary(name, unary(cls)), List.of(tensor(where, arg(args, kwargs, 0, "x"))));
            case "ReLU": {      // keras.activations.relu on a Keras tensor: an operation, so the mask stops there
                if (!zeroOrAbsent(config.path("negative_slope")) || !zeroOrAbsent(config.path("threshold"))
                        || !config.path("max_value").isMissingNode() && !config.path("max_value").isNull()) {
                    throw new ModelLoadException(where + " has negative_slope, max_value or threshold set; rnnrt "
                            + "computes keras.activations.relu between layers only as max(x, 0). Use a ReLU layer for "
                            + "it and export the model again.");
                }
                return new Made(TensorOp.unary(name, unary("Relu")), List.of(tensor(where, arg(args, kwargs, 0, "x"))));
            }
            case "Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Maximum", "Minimum":
                return binary(where, name, binaryOf(cls), arg(args, kwargs, 0, "x1"), arg(args, kwargs, 1, "x2"));
            case "Sum", "Mean", "Max", "Min": {
                JsonNode initial = config.path("initial");
                if (!initial.isMissingNode() && !initial.isNull()) {
                    throw new ModelLoadException(where + " has initial=" + initial + "; rnnrt computes "
                            + cls.toLowerCase() + " without an initial value.");
                }
                return new Made(TensorOp.reduce(name, TensorOp.Reduce.valueOf(cls.toUpperCase()),
                        config.path("keepdims").asBoolean(false), axes(where, config.path("axis"), "axis=None (every "
                                + "axis, the batch axis too)")),
                        List.of(tensor(where, arg(args, kwargs, 0, "x"))));
            }
            case "Concatenate": {
                JsonNode xs = arg(args, kwargs, 0, "xs");
                List<String> in = new ArrayList<>();
                for (JsonNode t : xs) {
                    in.add(tensor(where, t));
                }
                return new Made(TensorOp.concatenate(name, ConfigInts.read(config.path("axis"), 0, where, "axis")), in);
            }
            case "ExpandDims":
                return new Made(TensorOp.expandDims(name, axis(where, config.path("axis"))),
                        List.of(tensor(where, arg(args, kwargs, 0, "x"))));
            case "Squeeze":
                return new Made(TensorOp.squeeze(name, axes(where, config.path("axis"), "axis=None (it would depend "
                        + "on the batch size)")), List.of(tensor(where, arg(args, kwargs, 0, "x"))));
            case "Softmax":
                return new Made(TensorOp.softmax(name, config.has("axis") ? axis(where, config.path("axis")) : -1),
                        List.of(tensor(where, arg(args, kwargs, 0, "x"))));
            case "Transpose":
                return new Made(TensorOp.transpose(name, axes(where, config.path("axes"), "axes=None (every axis "
                        + "reversed, the batch axis moved)")), List.of(tensor(where, arg(args, kwargs, 0, "x"))));
            case "Matmul":
                return new Made(TensorOp.matmul(name, false, false), List.of(tensor(where, arg(args, kwargs, 0, "x1")),
                        tensor(where, arg(args, kwargs, 1, "x2"))));
            default:
                throw new ModelLoadException(where + " is applied between layers; rnnrt computes these operations: "
                        + String.join(", ", KERAS3_SUPPORTED) + ". Use a layer for it and export the model again.");
        }
    }

    /** Positional argument k, or the keyword argument of that name. */
    private static JsonNode arg(JsonNode args, JsonNode kwargs, int k, String keyword) {
        return args.size() > k ? args.get(k) : kwargs.path(keyword);
    }

    private List<TensorOp.Index> keras3Key(String where, JsonNode key) {
        List<TensorOp.Index> out = new ArrayList<>();
        if (key.isArray()) {
            for (JsonNode k : key) {
                out.add(keras3Index(where, k));
            }
        } else {
            out.add(keras3Index(where, key));
        }
        return out;
    }

    private TensorOp.Index keras3Index(String where, JsonNode k) {
        if (k.isNull()) {
            return TensorOp.Index.newAxis();
        }
        if (k.isIntegralNumber()) {
            return TensorOp.Index.at(ConfigInts.read(k, where, "index"));
        }
        String cls = k.path("class_name").asText("");
        if (cls.equals("__ellipsis__")) {
            return TensorOp.Index.ellipsis();
        }
        if (cls.equals("__slice__")) {
            JsonNode c = k.path("config");
            return slice(where, c.path("start"), c.path("stop"), c.path("step"));
        }
        throw new ModelLoadException(where + " takes a subscript rnnrt does not read: " + k + " (it reads integers, "
                + "slices with integer bounds, ... and None).");
    }

    // ---- tf.keras TFOpLambda ---------------------------------------------------------------------------

    /**
     * A TFOpLambda or SlicingOpLambda layer of a tf.keras config: {@code function} its config's
     * "function", {@code node} its one inbound node (entries [layer, node, index, kwargs], or
     * ["_CONSTANT_VALUE", -1, value, kwargs] for a number as the first argument).
     */
    Made keras2(String name, String function, JsonNode node) {
        String where = source + ": layer '" + name + "' (tf." + function + ")";
        if (!node.isArray() || node.isEmpty()) {
            throw new ModelLoadException(where + " has no inputs.");
        }
        // one tensor (or number) as the first argument: the node is that entry itself, as op layers keep
        // their input structure; a list of tensors (concat): a list of entries
        JsonNode first = node.get(0).isTextual() ? node : node.size() == 1 ? node.get(0) : node;
        if (!first.isArray() || first.isEmpty() || !first.get(0).isTextual() && !first.get(0).isArray()) {
            throw new ModelLoadException(where + " has a call rnnrt cannot read: " + node + ".");
        }
        JsonNode entry = first.get(0).isTextual() ? first : first.get(0);
        JsonNode kwargs = entry.size() > 3 ? entry.get(3) : com.fasterxml.jackson.databind.node.MissingNode.getInstance();
        if (first.get(0).isTextual() && CONSTANT.equals(first.get(0).asText())) {
            first = first.get(2);                                    // a number as the first argument
        }
        switch (function) {
            case "__operators__.getitem":
                return new Made(TensorOp.slice(name, keras2Key(where, kwargs.path("slice_spec"))),
                        List.of(tensor(where, first)));
            case "math.abs", "math.negative", "math.exp", "math.log", "math.sqrt", "math.square", "math.tanh",
                    "nn.tanh", "math.sigmoid", "nn.sigmoid", "nn.relu":
                return new Made(TensorOp.unary(name, unary(function.substring(function.indexOf('.') + 1))),
                        List.of(tensor(where, first)));
            case "__operators__.add", "math.add", "math.subtract", "math.multiply", "math.truediv", "math.divide",
                    "math.maximum", "math.minimum": {
                String f = function.substring(function.indexOf('.') + 1);
                TensorOp.Binary op = TensorOp.Binary.valueOf((f.equals("truediv") ? "divide" : f).toUpperCase());
                return binary(where, name, op, first, kwargs.path("y"));
            }
            case "math.reduce_sum", "math.reduce_mean", "math.reduce_max", "math.reduce_min":
                return new Made(TensorOp.reduce(name, TensorOp.Reduce.valueOf(function.substring(12).toUpperCase()),
                        kwargs.path("keepdims").asBoolean(false), axes(where, kwargs.path("axis"),
                                "axis=None (every axis, the batch axis too)")),
                        List.of(tensor(where, first)));
            case "concat": {
                List<String> in = new ArrayList<>();
                for (JsonNode t : first.isArray() && first.get(0).isTextual() ? List.of(first) : first) {
                    in.add(tensor(where, t));
                }
                return new Made(TensorOp.concatenate(name, axis(where, kwargs.path("axis"))), in);
            }
            case "expand_dims":
                return new Made(TensorOp.expandDims(name, axis(where, kwargs.path("axis"))), List.of(tensor(where, first)));
            case "squeeze", "compat.v1.squeeze":
                return new Made(TensorOp.squeeze(name, axes(where, kwargs.has("axis") ? kwargs.path("axis")
                        : kwargs.path("squeeze_dims"), "axis=None (it would depend on the batch size)")),
                        List.of(tensor(where, first)));
            case "transpose", "compat.v1.transpose":
                return new Made(TensorOp.transpose(name, axes(where, kwargs.path("perm"), "perm=None (every axis "
                        + "reversed, the batch axis moved)")), List.of(tensor(where, first)));
            case "linalg.matmul": {
                for (String unsupported : new String[] {"adjoint_a", "adjoint_b", "a_is_sparse", "b_is_sparse"}) {
                    if (kwargs.path(unsupported).asBoolean(false)) {
                        throw new ModelLoadException(where + " has " + unsupported + "=True, which rnnrt does not compute.");
                    }
                }
                return new Made(TensorOp.matmul(name, kwargs.path("transpose_a").asBoolean(false),
                        kwargs.path("transpose_b").asBoolean(false)), List.of(tensor(where, first),
                        tensor(where, kwargs.path("b"))));
            }
            case "nn.softmax", "math.softmax": {
                JsonNode axis = kwargs.path("axis");
                return new Made(TensorOp.softmax(name, axis.isMissingNode() || axis.isNull() ? -1 : axis(where, axis)),
                        List.of(tensor(where, first)));
            }
            default:
                throw new ModelLoadException(where + " is a TensorFlow function applied between layers; rnnrt "
                        + "computes these: tf." + String.join(", tf.", KERAS2_SUPPORTED) + ". Use a layer for it "
                        + "and export the model again.");
        }
    }

    /** slice_spec: an index, a {"start", "stop", "step"} dict, {"class_name": "__ellipsis__"}, null, or a list of them. */
    private List<TensorOp.Index> keras2Key(String where, JsonNode spec) {
        List<TensorOp.Index> out = new ArrayList<>();
        for (JsonNode k : spec.isArray() ? spec : List.of(spec)) {
            if (k.isNull()) {
                out.add(TensorOp.Index.newAxis());
            } else if (k.isIntegralNumber()) {
                out.add(TensorOp.Index.at(ConfigInts.read(k, where, "index")));
            } else if (k.path("class_name").asText("").equals("__ellipsis__")) {
                out.add(TensorOp.Index.ellipsis());
            } else if (k.isObject() && k.has("start")) {
                out.add(slice(where, k.path("start"), k.path("stop"), k.path("step")));
            } else {
                throw new ModelLoadException(where + " takes a subscript rnnrt does not read: " + k + ".");
            }
        }
        return out;
    }

    // ---- shared ------------------------------------------------------------------------------------

    private Made binary(String where, String name, TensorOp.Binary op, JsonNode a, JsonNode b) {
        boolean aNumber = a.isNumber();
        boolean bNumber = b.isNumber();
        if (aNumber && bNumber || (!aNumber && !isTensor(a)) || (!bNumber && !isTensor(b))) {
            throw new ModelLoadException(where + " takes " + a + " and " + b + "; rnnrt computes it on two tensors, or "
                    + "on a tensor and a number.");
        }
        if (aNumber) {
            return new Made(TensorOp.binary(name, op, (float) a.asDouble(), true), List.of(tensor(where, b)));
        }
        if (bNumber) {
            return new Made(TensorOp.binary(name, op, (float) b.asDouble(), false), List.of(tensor(where, a)));
        }
        return new Made(TensorOp.binary(name, op), List.of(tensor(where, a), tensor(where, b)));
    }

    /** How tf.keras writes a first argument that is not a tensor: ["_CONSTANT_VALUE", -1, value, kwargs]. */
    private static final String CONSTANT = "_CONSTANT_VALUE";

    private static boolean isTensor(JsonNode v) {
        return isKeras3Tensor(v) || v.isArray() && v.size() >= 3 && v.get(0).isTextual() && v.get(1).isInt()
                && !CONSTANT.equals(v.get(0).asText());
    }

    private String tensor(String where, JsonNode v) {
        if (!isTensor(v)) {
            throw new ModelLoadException(where + " takes " + v + " where rnnrt reads a tensor of the model.");
        }
        return ref.apply(v);
    }

    private static TensorOp.Unary unary(String f) {
        return switch (f) {
            case "Absolute", "Abs", "abs" -> TensorOp.Unary.ABS;
            default -> TensorOp.Unary.valueOf(f.toUpperCase());
        };
    }

    private static TensorOp.Binary binaryOf(String cls) {
        return cls.equals("TrueDivide") ? TensorOp.Binary.DIVIDE : TensorOp.Binary.valueOf(cls.toUpperCase());
    }

    private TensorOp.Index slice(String where, JsonNode start, JsonNode stop, JsonNode step) {
        for (JsonNode b : new JsonNode[] {start, stop, step}) {
            if (!b.isMissingNode() && !b.isNull() && !b.isIntegralNumber()) {
                throw new ModelLoadException(where + " slices with a bound rnnrt does not read: " + b
                        + " (it reads integers and None).");
            }
        }
        try {
            return TensorOp.Index.slice(bound(where, start), bound(where, stop), bound(where, step));
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(where + ": " + e.getMessage(), e);
        }
    }

    private static Integer bound(String where, JsonNode b) {
        return b.isMissingNode() || b.isNull() ? null : ConfigInts.read(b, where, "slice bound");
    }

    private int axis(String where, JsonNode v) {
        if (!v.isIntegralNumber()) {
            throw new ModelLoadException(where + " needs an integer axis; got " + (v.isMissingNode() ? "none" : v) + ".");
        }
        return ConfigInts.read(v, where, "axis");
    }

    private int[] axes(String where, JsonNode v, String noneMeans) {
        if (v.isMissingNode() || v.isNull()) {
            throw new ModelLoadException(where + " has " + noneMeans + "; rnnrt computes it along given axes only.");
        }
        if (v.isArray()) {
            int[] a = new int[v.size()];
            for (int k = 0; k < a.length; k++) {
                a[k] = axis(where, v.get(k));
            }
            return a;
        }
        return new int[] {axis(where, v)};
    }
}
