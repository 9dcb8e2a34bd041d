package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import java.util.ArrayList;
import java.util.List;

/**
 * Keras {@code MultiHeadAttention} over the time axis, as in LSTM-and-attention models: inputs
 * query [B, Tq, Dq], value [B, Tv, Dv] and optionally key [B, Tv, Dk] (default: value). Per head
 * h: q = query·Wq[:, h] + bq[h] scaled by 1/sqrt(key_dim), k and v likewise (unscaled),
 * weights = softmax(q·kᵀ) over the value steps (with {@code use_causal_mask}, step i sees value
 * steps up to i), context = weights·v; the output is Σ_h context_h·Wo[h] + bo, [B, Tq, out]
 * (out: {@code output_shape}, default Dq). With {@code return_attention_scores} the weights
 * [B, heads, Tq, Tv] are a second output. The four projections run on the layer's backend's
 * affine map (float64 on the reference, the fast path's SGEMM on {@code RecurrentCpu}); the scores
 * and context in float64, each stage rounded to float32.
 *
 * <p>Weights in Keras' order, each with its Keras shape: query kernel [Dq, heads, key_dim] and bias
 * [heads, key_dim], key kernel and bias, value kernel [Dv, heads, value_dim] and bias, output
 * kernel [heads, value_dim, out] and bias [out] (no biases with {@code use_bias=False}).
 *
 * <p>Masked inputs are not taken: how Keras applies their masks here has changed between versions
 * (whether fully masked rows give uniform weights or zeros), so a mask reaching the layer is
 * refused when the model is built.
 */
public final class MultiHeadAttention extends Layer {

    private final int heads;
    private final int keyDim;
    private final int valueDim;
    private final boolean useBias;
    private final int outputDim;        // -1: the query's features
    private final boolean causal;
    private final boolean returnScores;
    /** Whose affine map ({@link RecurrentBackend#affine}) computes the four projections. */
    private final RecurrentBackend backend;
    /** q kernel, q bias, k kernel, k bias, v kernel, v bias, o kernel, o bias (biases null without use_bias). */
    private volatile Tensor[] weights;

    /**
     * @param outputDim {@code output_shape}: the output features, or -1 for the query's
     * @param causal    {@code use_causal_mask} of the call
     */
    public MultiHeadAttention(String name, int heads, int keyDim, int valueDim, boolean useBias, int outputDim,
                              boolean causal, boolean returnScores) {
        this(name, heads, keyDim, valueDim, useBias, outputDim, causal, returnScores, RecurrentReference.INSTANCE);
    }

    /**
     * As above, with the projections on {@code backend}'s affine map (the fast CPU path's SGEMM for
     * {@code RecurrentCpu.INSTANCE}; the float64 reference by default).
     */
    public MultiHeadAttention(String name, int heads, int keyDim, int valueDim, boolean useBias, int outputDim,
                              boolean causal, boolean returnScores, RecurrentBackend backend) {
        super(name != null ? name : uniqueName("multi_head_attention"));
        this.backend = java.util.Objects.requireNonNull(backend, "backend");
        if (heads < 1 || keyDim < 1 || valueDim < 1 || outputDim == 0 || outputDim < -1) {
            throw new IllegalArgumentException("MultiHeadAttention '" + name() + "': num_heads, key_dim and value_dim "
                    + "must be at least 1 and output_shape positive; got num_heads=" + heads + ", key_dim=" + keyDim
                    + ", value_dim=" + valueDim + ", output_shape=" + outputDim + ".");
        }
        this.heads = heads;
        this.keyDim = keyDim;
        this.valueDim = valueDim;
        this.useBias = useBias;
        this.outputDim = outputDim;
        this.causal = causal;
        this.returnScores = returnScores;
    }

    @Override
    public String className() {
        return "MultiHeadAttention";
    }

    /** Keras' weight names, in order. */
    public List<String> weightNames() {
        List<String> names = new ArrayList<>();
        for (String p : new String[] {"query", "key", "value", "attention_output"}) {
            names.add(p + "/kernel");
            if (useBias) {
                names.add(p + "/bias");
            }
        }
        return names;
    }

    /** Sets the weights named by {@link #weightNames()}, with Keras' shapes; copied. */
    public void setWeights(List<Tensor> values) {
        int n = weightNames().size();
        if (values == null || values.size() != n) {
            throw new IllegalArgumentException(describe() + " has " + n + " weights " + weightNames() + "; got "
                    + (values == null ? 0 : values.size()) + ".");
        }
        Tensor[] w = new Tensor[8];
        int k = 0;
        for (int p = 0; p < 4; p++) {
            w[2 * p] = copy(values.get(k++));
            w[2 * p + 1] = useBias ? copy(values.get(k++)) : null;
        }
        int dq = w[0].rank() == 3 ? w[0].dim(0) : -1;
        expect(w[0], "query kernel", dq, heads, keyDim);
        expect(w[2], "key kernel", w[2].rank() == 3 ? w[2].dim(0) : -1, heads, keyDim);
        expect(w[4], "value kernel", w[4].rank() == 3 ? w[4].dim(0) : -1, heads, valueDim);
        int out = w[6].rank() == 3 ? w[6].dim(2) : -1;
        expect(w[6], "output kernel", heads, valueDim, outputDim > 0 ? outputDim : out);
        if (outputDim < 0 && out != dq) {
            throw new IllegalArgumentException(describe() + ": without output_shape the output kernel gives the "
                    + "query's " + dq + " features; got " + Tensor.shapeString(w[6].shape()) + ".");
        }
        if (useBias) {
            expect(w[1], "query bias", heads, keyDim);
            expect(w[3], "key bias", heads, keyDim);
            expect(w[5], "value bias", heads, valueDim);
            expect(w[7], "output bias", out);
        }
        weights = w;
    }

    private static Tensor copy(Tensor t) {
        return Tensor.of(t.data(), t.shape());
    }

    private void expect(Tensor t, String what, int... shape) {
        for (int d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException(describe() + ": the " + what + " has shape "
                        + Tensor.shapeString(t.shape()) + ", not a Keras MultiHeadAttention weight.");
            }
        }
        if (!t.hasShape(shape)) {
            throw new IllegalArgumentException(describe() + ": the " + what + " must have shape "
                    + Tensor.shapeString(shape) + "; got " + Tensor.shapeString(t.shape()) + ".");
        }
    }

    @Override
    public int minInputs() {
        return 2;
    }

    @Override
    public int maxInputs() {
        return 3;
    }

    @Override
    public boolean supportsMasking() {
        return false;
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] q = inputShapes.get(0);
        int[] v = inputShapes.get(1);
        int[] k = inputShapes.size() > 2 ? inputShapes.get(2) : v;
        checkRank(q, 2, "query [batch, timesteps, features]");
        checkRank(v, 2, "value [batch, timesteps, features]");
        checkRank(k, 2, "key [batch, timesteps, features]");
        if (v[0] >= 0 && k[0] >= 0 && v[0] != k[0]) {
            throw new IllegalArgumentException(describe() + ": key and value must have the same number of steps; got "
                    + shapeText(k) + " and " + shapeText(v) + ".");
        }
        Tensor[] w = weights;
        if (w != null) {
            checkFeatures("query", q, w[0]);
            checkFeatures("value", v, w[4]);
            checkFeatures("key", k, w[2]);
        }
        int out = outputDim > 0 ? outputDim : w != null ? w[6].dim(2) : q[1];
        List<int[]> shapes = new ArrayList<>();
        shapes.add(new int[] {q[0], out});
        if (returnScores) {
            shapes.add(new int[] {heads, q[0], v[0]});
        }
        return shapes;
    }

    private void checkFeatures(String what, int[] shape, Tensor kernel) {
        if (shape[1] >= 0 && shape[1] != kernel.dim(0)) {
            throw new IllegalArgumentException(describe() + " expects " + what + " [batch, timesteps, " + kernel.dim(0)
                    + "]; got " + shapeText(shape) + ".");
        }
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor[] w = weights;
        if (w == null) {
            throw new IllegalStateException(describe() + " has no weights; set them first.");
        }
        Tensor query = inputs.get(0);
        Tensor value = inputs.get(1);
        Tensor key = inputs.size() > 2 ? inputs.get(2) : value;
        List<int[]> shapes = new ArrayList<>();
        for (Tensor t : new Tensor[] {query, value, key}) {
            if (t.rank() != 3) {
                throw new IllegalArgumentException(describe() + " expects [batch, timesteps, features] inputs; got "
                        + Tensor.shapeString(t.shape()) + ".");
            }
            shapes.add(new int[] {t.dim(1), t.dim(2)});
        }
        outputShapes(inputs.size() > 2 ? shapes : shapes.subList(0, 2));
        int b = query.dim(0);
        if (value.dim(0) != b || key.dim(0) != b) {
            throw new IllegalArgumentException(describe() + ": query, value and key must have the same batch size; got "
                    + b + ", " + value.dim(0) + " and " + key.dim(0) + ".");
        }
        int tq = query.dim(1);
        int tv = value.dim(1);
        int out = w[6].dim(2);
        float scale = (float) (1.0 / Math.sqrt(keyDim));
        float[] q = project(query, w[0], w[1], keyDim);     // [B, Tq, H, dk]
        for (int i = 0; i < q.length; i++) {
            q[i] *= scale;
        }
        float[] k = project(key, w[2], w[3], keyDim);       // [B, Tv, H, dk]
        float[] v = project(value, w[4], w[5], valueDim);   // [B, Tv, H, dv]
        float[] scores = new float[valueCount(b, heads, tq, tv)];
        float[] context = new float[valueCount(b, tq, heads, valueDim)];
        double[] row = new double[tv];
        for (int n = 0; n < b; n++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < tq; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < tv; j++) {
                        double s = 0;
                        int qo = ((n * tq + i) * heads + h) * keyDim;
                        int ko = ((n * tv + j) * heads + h) * keyDim;
                        for (int d = 0; d < keyDim; d++) {
                            s += (double) q[qo + d] * k[ko + d];
                        }
                        row[j] = causal && j > i ? Double.NEGATIVE_INFINITY : (float) s;
                        max = Math.max(max, row[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < tv; j++) {
                        row[j] = Math.exp(row[j] - max);
                        sum += row[j];
                    }
                    int so = ((n * heads + h) * tq + i) * tv;
                    for (int j = 0; j < tv; j++) {
                        scores[so + j] = (float) (row[j] / sum);
                    }
                    int co = ((n * tq + i) * heads + h) * valueDim;
                    for (int d = 0; d < valueDim; d++) {
                        double c = 0;
                        for (int j = 0; j < tv; j++) {
                            c += (double) scores[so + j] * v[((n * tv + j) * heads + h) * valueDim + d];
                        }
                        context[co + d] = (float) c;
                    }
                }
            }
        }
        // output: Σ_h Σ_d context[n, i, h, d] · Wo[h, d, e] + bo[e], Wo as [heads·value_dim, out]
        float[] y = backend.affine(context, b * tq, Tensor.wrap(w[6].data(), heads * valueDim, out), w[7]);
        List<Tensor> result = new ArrayList<>();
        result.add(Tensor.wrap(y, b, tq, out));
        if (returnScores) {
            result.add(Tensor.wrap(scores, b, heads, tq, tv));
        }
        return result;
    }

    /** x [B, T, D] · kernel [D, H, dim] + bias [H, dim] → [B, T, H, dim], on the backend's affine map. */
    private float[] project(Tensor x, Tensor kernel, Tensor bias, int dim) {
        int cols = heads * dim;
        valueCount(x.dim(0), x.dim(1), cols);
        return backend.affine(x.data(), x.dim(0) * x.dim(1), Tensor.wrap(kernel.data(), kernel.dim(0), cols),
                bias == null ? null : Tensor.wrap(bias.data(), cols));
    }

    @Override
    public long parameterCount() {
        long n = 0;
        Tensor[] w = weights;
        if (w != null) {
            for (Tensor t : w) {
                n += t == null ? 0 : t.size();
            }
        }
        return n;
    }

    @Override
    public String describeOptions() {
        return "num_heads=" + heads + ", key_dim=" + keyDim + (valueDim != keyDim ? ", value_dim=" + valueDim : "")
                + (useBias ? "" : ", use_bias=False") + (outputDim > 0 ? ", output_shape=" + outputDim : "")
                + (causal ? ", use_causal_mask=True" : "") + (returnScores ? ", return_attention_scores=True" : "");
    }
}
