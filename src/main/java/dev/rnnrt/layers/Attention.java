package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Keras {@code Attention} (Luong: score_mode dot or concat) and {@code AdditiveAttention}
 * (Bahdanau) at inference. Inputs [query [B, Tq, dim], value [B, Tv, dv]] or [query, value, key
 * [B, Tv, dim]] (the key is the value when left out); output [B, Tq, dv], and with
 * {@code return_attention_scores} also the attention weights [B, Tq, Tv].
 *
 * <p>Scores, as Keras computes them: dot {@code q·k (× scale)}; concat {@code concat_score_weight
 * · Σ tanh((scale ×) (q + k))}; additive {@code Σ scale_d · tanh(q_d + k_d)} (scale a vector, or 1
 * without {@code use_scale}). A masked value step (value mask false) or, with
 * {@code use_causal_mask}, a later step has 1e9 subtracted from its score in float32, as Keras
 * does, so it takes no weight, and a query whose every value step is masked averages all of them
 * (Keras' result). softmax over the value steps, then the weighted sum of values; a masked query
 * step gives zeros. The query's mask is passed on; the weights carry none. Scores and sums in
 * float64.
 */
public final class Attention extends Layer {

    /** How a query and a key are scored. */
    public enum Score {
        /** Keras Attention(score_mode="dot"). */
        DOT,
        /** Keras Attention(score_mode="concat"). */
        CONCAT,
        /** Keras AdditiveAttention. */
        ADDITIVE
    }

    private final Score score;
    private final boolean useScale;
    private final boolean causal;
    private final boolean returnScores;
    private final boolean passesMask;
    private final boolean causalIgnoresValueMask;
    /** Dot and concat: the scalars scale and concat_score_weight (1 until set, Keras' initializer). */
    private volatile double scale = 1.0;
    private volatile double concatWeight = 1.0;
    /** Additive with use_scale: the vector scale [dim]; null until set. */
    private volatile double[] scaleVector;

    /**
     * @param useScale     Keras' {@code use_scale} (Attention's default is false, AdditiveAttention's true)
     * @param causal       Keras' {@code use_causal_mask} call argument (older tf.keras: {@code causal})
     * @param returnScores Keras' {@code return_attention_scores} call argument: a second output
     */
    public Attention(String name, Score score, boolean useScale, boolean causal, boolean returnScores) {
        this(name, score, useScale, causal, returnScores, true);
    }

    /**
     * @param passesMask whether the output carries the query's mask: true except for models written
     *                   by Keras 3.0 to 3.3, whose layers with several inputs passed no mask on
     */
    public Attention(String name, Score score, boolean useScale, boolean causal, boolean returnScores,
                     boolean passesMask) {
        this(name, score, useScale, causal, returnScores, passesMask, false);
    }

    /**
     * @param causalIgnoresValueMask Keras 3.0.0 to 3.0.4's rule: with {@code use_causal_mask} the
     *                               value's mask was not used (its causal mask replaced it; fixed in 3.0.5)
     */
    public Attention(String name, Score score, boolean useScale, boolean causal, boolean returnScores,
                     boolean passesMask, boolean causalIgnoresValueMask) {
        super(name != null ? name : uniqueName(score == Score.ADDITIVE ? "additive_attention" : "attention"));
        this.score = java.util.Objects.requireNonNull(score, "score");
        this.useScale = useScale;
        this.causal = causal;
        this.returnScores = returnScores;
        this.passesMask = passesMask;
        this.causalIgnoresValueMask = causal && causalIgnoresValueMask;
    }

    /** Whether the layer applies a causal mask ({@code use_causal_mask}). */
    public boolean causal() {
        return causal;
    }

    @Override
    public String className() {
        return score == Score.ADDITIVE ? "AdditiveAttention" : "Attention";
    }

    @Override
    public int minInputs() {
        return 2;
    }

    @Override
    public int maxInputs() {
        return 3;
    }

    /** The weight names, in Keras' order. */
    public List<String> weightNames() {
        List<String> names = new ArrayList<>();
        if (useScale) {
            names.add("scale");
        }
        if (score == Score.CONCAT) {
            names.add("concat_score_weight");
        }
        return names;
    }

    /** Sets the weights named by {@link #weightNames()}: scalars, but a vector [dim] for AdditiveAttention's scale. */
    public void setWeights(List<Tensor> weights) {
        List<String> names = weightNames();
        if (weights == null || weights.size() != names.size()) {
            throw new IllegalArgumentException(describe() + " has " + names.size() + " weight(s) ("
                    + String.join(", ", names) + "); got " + (weights == null ? 0 : weights.size()) + ".");
        }
        for (int k = 0; k < names.size(); k++) {
            Tensor w = weights.get(k);
            boolean vector = score == Score.ADDITIVE;
            if (w == null || (vector ? w.rank() != 1 : w.size() != 1)) {
                throw new IllegalArgumentException(describe() + ": weight '" + names.get(k) + "' must be "
                        + (vector ? "a vector [dim]" : "a scalar") + "; got "
                        + (w == null ? "null" : Tensor.shapeString(w.shape())) + ".");
            }
        }
        if (score == Score.ADDITIVE) {
            if (useScale) {
                float[] v = weights.get(0).data();
                double[] s = new double[v.length];
                for (int d = 0; d < v.length; d++) {
                    s[d] = v[d];
                }
                scaleVector = s;
            }
            return;
        }
        int k = 0;
        scale = useScale ? weights.get(k++).data()[0] : 1.0;
        concatWeight = score == Score.CONCAT ? weights.get(k).data()[0] : 1.0;
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] q = inputShapes.get(0);
        int[] v = inputShapes.get(1);
        int[] k = inputShapes.size() > 2 ? inputShapes.get(2) : v;
        for (int i = 0; i < inputShapes.size(); i++) {
            checkRank(inputShapes.get(i), 2, "[batch, timesteps, features]");
        }
        if (q[1] >= 0 && k[1] >= 0 && q[1] != k[1]) {
            throw new IllegalArgumentException(describe() + ": the query's features (" + q[1] + ") must equal the key's ("
                    + k[1] + "); got query " + shapeText(q) + " and key " + shapeText(k) + ".");
        }
        if (v[0] >= 0 && k[0] >= 0 && v[0] != k[0]) {
            throw new IllegalArgumentException(describe() + ": the value and the key must have the same timesteps; got "
                    + "value " + shapeText(v) + " and key " + shapeText(k) + ".");
        }
        double[] sv = scaleVector;
        if (score == Score.ADDITIVE && useScale && sv != null && q[1] >= 0 && sv.length != q[1] && sv.length != 1
                && q[1] != 1) {
            throw new IllegalArgumentException(describe() + ": its scale has " + sv.length + " values but the query "
                    + "has " + q[1] + " features; got query " + shapeText(q) + ".");
        }
        int[] out = {q[0], v[1]};
        return returnScores ? List.of(out, new int[] {q[0], v[0]}) : List.of(out);
    }

    @Override
    public List<Mask> outputMasks(List<Tensor> inputs, List<Mask> masks, List<Tensor> outputs) {
        Mask q = masks.isEmpty() || !passesMask ? null : masks.get(0);
        return returnScores ? Arrays.asList(q, null) : java.util.Collections.singletonList(q);
    }

    @Override
    public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
        boolean q = passesMask && !inputsMasked.isEmpty() && inputsMasked.get(0);
        return returnScores ? List.of(q, false) : List.of(q);
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor q = inputs.get(0);
        Tensor v = inputs.get(1);
        Tensor k = inputs.size() > 2 ? inputs.get(2) : v;
        if (q.rank() != 3 || v.rank() != 3 || k.rank() != 3 || v.dim(0) != q.dim(0) || k.dim(0) != q.dim(0)
                || k.dim(1) != v.dim(1) || k.dim(2) != q.dim(2)) {
            throw new IllegalArgumentException(describe() + " expects query [batch, Tq, dim], value [batch, Tv, dv] and "
                    + "key [batch, Tv, dim]; got query " + Tensor.shapeString(q.shape()) + ", value "
                    + Tensor.shapeString(v.shape()) + ", key " + Tensor.shapeString(k.shape()) + ".");
        }
        int batch = q.dim(0);
        int tq = q.dim(1);
        int tv = v.dim(1);
        int dim = q.dim(2);
        int dv = v.dim(2);
        double[] sv = scaleVector;
        if (score == Score.ADDITIVE && useScale && sv == null) {
            throw new IllegalStateException(describe() + " has no weights; set them first.");
        }
        outputShapes(inputs.size() > 2 ? List.of(new int[] {tq, dim}, new int[] {tv, dv}, new int[] {k.dim(1), k.dim(2)})
                : List.of(new int[] {tq, dim}, new int[] {tv, dv}));
        Mask qMask = mask(masks, 0, batch, tq, "query");
        Mask vMask = causalIgnoresValueMask ? null : mask(masks, 1, batch, tv, "value");
        float[] qd = q.data();
        float[] kd = k.data();
        float[] vd = v.data();
        float[] out = new float[valueCount(batch, tq, dv)];
        float[] weights = returnScores ? new float[valueCount(batch, tq, tv)] : null;
        double[] s = new double[tv];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < tq; i++) {
                int qo = (b * tq + i) * dim;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < tv; j++) {
                    double x = score(qd, qo, kd, (b * tv + j) * dim, dim, sv);
                    if ((vMask != null && !vMask.get(b, j)) || (causal && j > i)) {
                        x = (float) x - 1.0e9f;           // Keras: scores -= 1e9 · padding, in float32
                    }
                    s[j] = x;
                    max = Math.max(max, x);
                }
                double sum = 0;
                for (int j = 0; j < tv; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                boolean keep = qMask == null || qMask.get(b, i);
                int o = (b * tq + i) * dv;
                if (weights != null) {
                    for (int j = 0; j < tv; j++) {
                        weights[(b * tq + i) * tv + j] = (float) (s[j] / sum);
                    }
                }
                if (keep) {
                    for (int d = 0; d < dv; d++) {
                        double acc = 0;
                        for (int j = 0; j < tv; j++) {
                            acc += s[j] / sum * vd[(b * tv + j) * dv + d];
                        }
                        out[o + d] = (float) acc;
                    }
                }
            }
        }
        Tensor result = Tensor.wrap(out, batch, tq, dv);
        return returnScores ? List.of(result, Tensor.wrap(weights, batch, tq, tv)) : List.of(result);
    }

    /** Input k's mask, checked against its [batch, timesteps]; null where it has none. */
    private Mask mask(List<Mask> masks, int k, int batch, int steps, String what) {
        Mask m = masks == null || masks.size() <= k ? null : masks.get(k);
        if (m != null && (m.rows() != batch || m.cols() != steps)) {
            throw new IllegalArgumentException(describe() + ": the " + what + "'s mask must be [batch, timesteps] = "
                    + Tensor.shapeString(new int[] {batch, steps}) + "; got " + Tensor.shapeString(m.shape()) + ".");
        }
        return m;
    }

    private double score(float[] q, int qo, float[] k, int ko, int dim, double[] sv) {
        double acc = 0;
        switch (score) {
            case DOT -> {
                for (int d = 0; d < dim; d++) {
                    acc += (double) q[qo + d] * k[ko + d];
                }
                return acc * scale;
            }
            case CONCAT -> {
                for (int d = 0; d < dim; d++) {
                    acc += Math.tanh(scale * ((double) q[qo + d] + k[ko + d]));
                }
                return concatWeight * acc;
            }
            default -> {
                if (dim == 1 && sv != null && sv.length > 1) {
                    // tf.keras sizes the scale by the value's features: [dv] against tanh(q + k) of
                    // one feature broadcasts to Σ scale · tanh(q + k)
                    double total = 0;
                    for (double v : sv) {
                        total += v;
                    }
                    return total * Math.tanh((double) q[qo] + k[ko]);
                }
                for (int d = 0; d < dim; d++) {
                    // tf.keras sizes the scale by the value's features: one value broadcasts over all
                    acc += (sv == null ? 1.0 : sv[sv.length == 1 ? 0 : d]) * Math.tanh((double) q[qo + d] + k[ko + d]);
                }
                return acc;
            }
        }
    }

    @Override
    public long parameterCount() {
        double[] sv = scaleVector;
        return score == Score.ADDITIVE ? (useScale && sv != null ? sv.length : 0) : weightNames().size();
    }

    @Override
    public String describeOptions() {
        List<String> parts = new ArrayList<>();
        if (score != Score.ADDITIVE) {
            parts.add("score_mode=" + (score == Score.DOT ? "dot" : "concat"));
        }
        parts.add("use_scale=" + (useScale ? "True" : "False"));
        if (causal) {
            parts.add("use_causal_mask=True");
        }
        if (returnScores) {
            parts.add("return_attention_scores=True");
        }
        return String.join(", ", parts);
    }
}
