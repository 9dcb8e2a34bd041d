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
 * <p>Masks, as Keras applies them from tf.keras 2.10 on: value step j is hidden from query step i
 * unless the query's mask keeps i and the value's and key's masks keep j (and, with
 * {@code use_causal_mask}, j ≤ i); hidden steps take no weight, and the output carries the query's
 * mask (the scores none). A row with every step hidden (a masked query step, or a sequence whose
 * every value step is masked) is where Keras versions differ ({@link MaskRule}): nearly uniform
 * weights from scores with 1e9 taken off in float32, exactly uniform weights, or zeros (the output
 * there is then the output bias). tf.keras 2.4 to 2.9 did not use the masks at all.
 */
public final class MultiHeadAttention extends Layer {

    /**
     * What the layer does with its inputs' masks, which changed between Keras versions: above all
     * with a row of scores whose every step is masked (every row of a masked query step).
     */
    public enum MaskRule {
        /**
         * tf.keras 2.4 to 2.9: the layer did not support masking; the inputs' masks are not used
         * and the output carries none.
         */
        IGNORED,
        /**
         * tf.keras 2.10 and later Keras 2, Keras 3.0 to 3.6, and Keras 3.7 to 3.9 where the scores
         * are returned or dropout is set: 1e9 is taken off masked scores in float32 (Keras' Softmax
         * with a mask), so a fully masked row weighs its steps by the rounded scores, nearly
         * uniformly.
         */
        MINUS_1E9,
        /**
         * Keras 3.7 and later without returned scores or dropout ({@code ops.dot_product_attention}):
         * masked scores become a large negative number, so a fully masked row weighs every value
         * step equally.
         */
        UNIFORM,
        /**
         * Keras 3.10 and later where the scores are returned or dropout is set: Keras' Softmax then
         * zeroes masked weights, so a fully masked row has none and its context is zero.
         */
        ZEROS;

        /**
         * The rule of the Keras version that wrote a model.
         *
         * @param returnScores the call's {@code return_attention_scores}
         * @param dropout      whether the layer's {@code dropout} is above 0 (Keras 3.7+ then skips
         *                     {@code dot_product_attention}, though dropout does nothing at inference)
         */
        public static MaskRule of(dev.rnnrt.api.KerasVersion version, boolean returnScores, boolean dropout) {
            if (version.major() < 3) {
                return version.major() == 2 && version.minor() < 10 ? IGNORED : MINUS_1E9;
            }
            if (version.major() == 3 && version.minor() < 7) {
                return MINUS_1E9;
            }
            if (!returnScores && !dropout) {
                return UNIFORM;
            }
            return version.major() == 3 && version.minor() < 10 ? MINUS_1E9 : ZEROS;
        }
    }

    private final int heads;
    private final int keyDim;
    private final int valueDim;
    private final boolean useBias;
    private final int outputDim;        // -1: the query's features
    private final boolean causal;
    private final boolean returnScores;
    private final MaskRule maskRule;
    /** Whose affine map ({@link RecurrentBackend#affine}) computes the four projections. */
    private final RecurrentBackend backend;
    /**
     * q kernel, q bias, k kernel, k bias, v kernel, v bias, o kernel, o bias (biases null without
     * use_bias) with Keras' shapes, then the same eight as the affine map takes them ([in, cols]
     * kernels, flat biases): the backend packs a kernel once per tensor, so these are made once.
     */
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
        this(name, heads, keyDim, valueDim, useBias, outputDim, causal, returnScores,
                returnScores ? MaskRule.ZEROS : MaskRule.UNIFORM, backend);
    }

    /**
     * As above, with the mask rule of a given Keras version ({@link MaskRule#of}); the other
     * constructors take the newest Keras' rule (Keras 3.10 and later, without dropout).
     */
    public MultiHeadAttention(String name, int heads, int keyDim, int valueDim, boolean useBias, int outputDim,
                              boolean causal, boolean returnScores, MaskRule maskRule, RecurrentBackend backend) {
        super(name != null ? name : uniqueName("multi_head_attention"));
        this.backend = java.util.Objects.requireNonNull(backend, "backend");
        this.maskRule = java.util.Objects.requireNonNull(maskRule, "maskRule");
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
        for (int k = 0; k < n; k++) {
            if (values.get(k) == null) {
                throw new IllegalArgumentException(describe() + ": weight " + k + " (" + weightNames().get(k)
                        + ") is null; expected " + n + " weights " + weightNames() + ".");
            }
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
        Tensor[] all = java.util.Arrays.copyOf(w, 16);
        for (int p = 0; p < 4; p++) {       // the same values as the backend's affine map takes them, made once
            Tensor kernel = w[2 * p];
            all[8 + 2 * p] = p < 3 ? Tensor.wrap(kernel.data(), kernel.dim(0), kernel.dim(1) * kernel.dim(2))
                    : Tensor.wrap(kernel.data(), heads * valueDim, out);
            all[9 + 2 * p] = w[2 * p + 1] == null ? null : Tensor.wrap(w[2 * p + 1].data(), w[2 * p + 1].size());
        }
        weights = all;
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

    /** What the layer does with its inputs' masks. */
    public MaskRule maskRule() {
        return maskRule;
    }

    @Override
    public List<Mask> outputMasks(List<Tensor> inputs, List<Mask> masks, List<Tensor> outputs) {
        Mask q = masks.isEmpty() || maskRule == MaskRule.IGNORED ? null : masks.get(0);
        return returnScores ? java.util.Arrays.asList(q, null) : java.util.Collections.singletonList(q);
    }

    @Override
    public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
        boolean q = maskRule != MaskRule.IGNORED && !inputsMasked.isEmpty() && inputsMasked.get(0);
        return returnScores ? List.of(q, false) : List.of(q);
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
        Mask qMask = mask(masks, 0, b, tq, "query");
        Mask vMask = mask(masks, 1, b, tv, "value");
        Mask kMask = inputs.size() > 2 ? mask(masks, 2, b, tv, "key") : null;
        // every array the call makes must fit a Java array: say so before any projection runs
        valueCount(b, tq, w[8].dim(1));
        valueCount(b, tv, w[10].dim(1));
        valueCount(b, tv, w[12].dim(1));
        int scoreCount = valueCount(b, heads, tq, tv);
        int contextCount = valueCount(b, tq, heads, valueDim);
        valueCount(b, tq, out);
        float scale = (float) (1.0 / Math.sqrt(keyDim));
        float[] q = project(query, w[8], w[9]);     // [B, Tq, H, dk]
        for (int i = 0; i < q.length; i++) {
            q[i] *= scale;
        }
        float[] k = project(key, w[10], w[11]);     // [B, Tv, H, dk]
        float[] v = project(value, w[12], w[13]);   // [B, Tv, H, dv]
        float[] scores = new float[scoreCount];
        float[] context = new float[contextCount];
        double[] row = new double[tv];
        boolean[] hidden = new boolean[tv];
        for (int n = 0; n < b; n++) {
            for (int i = 0; i < tq; i++) {
                boolean queryKept = qMask == null || qMask.get(n, i);
                boolean allHidden = tv > 0;
                for (int j = 0; j < tv; j++) {
                    hidden[j] = causal && j > i || !queryKept || vMask != null && !vMask.get(n, j)
                            || kMask != null && !kMask.get(n, j);
                    allHidden &= hidden[j];
                }
                for (int h = 0; h < heads; h++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < tv; j++) {
                        double s = 0;
                        int qo = ((n * tq + i) * heads + h) * keyDim;
                        int ko = ((n * tv + j) * heads + h) * keyDim;
                        for (int d = 0; d < keyDim; d++) {
                            s += (double) q[qo + d] * k[ko + d];
                        }
                        if (!hidden[j]) {
                            row[j] = (float) s;
                        } else if (maskRule == MaskRule.MINUS_1E9) {
                            row[j] = (float) s + -1.0e9f;     // Keras' Softmax: scores + (1 - mask) · -1e9, in float32
                        } else {
                            row[j] = allHidden ? 0.0 : Double.NEGATIVE_INFINITY;
                        }
                        max = Math.max(max, row[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < tv; j++) {
                        row[j] = Math.exp(row[j] - max);
                        sum += row[j];
                    }
                    boolean zero = allHidden && maskRule == MaskRule.ZEROS;
                    int so = ((n * heads + h) * tq + i) * tv;
                    for (int j = 0; j < tv; j++) {
                        scores[so + j] = zero ? 0f : (float) (row[j] / sum);
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
        float[] y = backend.affine(context, b * tq, w[14], w[15]);
        List<Tensor> result = new ArrayList<>();
        result.add(Tensor.wrap(y, b, tq, out));
        if (returnScores) {
            result.add(Tensor.wrap(scores, b, heads, tq, tv));
        }
        return result;
    }

    /** Input k's mask, checked against its [batch, steps]; null where it has none or the rule ignores masks. */
    private Mask mask(List<Mask> masks, int k, int batch, int steps, String what) {
        Mask m = masks == null || masks.size() <= k || maskRule == MaskRule.IGNORED ? null : masks.get(k);
        if (m != null && (m.rows() != batch || m.cols() != steps)) {
            throw new IllegalArgumentException(describe() + ": the " + what + "'s mask must be [batch, timesteps] = "
                    + Tensor.shapeString(new int[] {batch, steps}) + "; got " + Tensor.shapeString(m.shape()) + ".");
        }
        return m;
    }

    /** x [B, T, D] · kernel [D, H·dim] + bias [H·dim] → [B, T, H, dim], on the backend's affine map. */
    private float[] project(Tensor x, Tensor kernel, Tensor bias) {
        valueCount(x.dim(0), x.dim(1), kernel.dim(1));
        return backend.affine(x.data(), x.dim(0) * x.dim(1), kernel, bias);
    }

    @Override
    public long parameterCount() {
        long n = 0;
        Tensor[] w = weights;
        for (int k = 0; w != null && k < 8; k++) {
            n += w[k] == null ? 0 : w[k].size();
        }
        return n;
    }

    @Override
    public String describeOptions() {
        return "num_heads=" + heads + ", key_dim=" + keyDim + (valueDim != keyDim ? ", value_dim=" + valueDim : "")
                + (useBias ? "" : ", use_bias=False") + (outputDim > 0 ? ", output_shape=" + outputDim : "")
                + (causal ? ", use_causal_mask=True" : "") + (returnScores ? ", return_attention_scores=True" : "")
                + (maskRule != (returnScores ? MaskRule.ZEROS : MaskRule.UNIFORM) ? ", masks=" + maskRule : "");
    }
}
