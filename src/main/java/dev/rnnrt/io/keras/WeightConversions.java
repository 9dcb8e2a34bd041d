package dev.rnnrt.io.keras;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.RecurrentLayer;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns weights as older files store them into the Keras 2/3 layout rnnrt's layers take:
 * Keras 1's per-gate arrays, and CuDNNLSTM / CuDNNGRU's layout (as Keras 2's
 * {@code _convert_rnn_weights} does in keras/engine/saving.py).
 */
final class WeightConversions {

    private WeightConversions() {
    }

    /**
     * The [kernel, recurrent_kernel, bias] (or without bias) of a recurrent layer.
     *
     * @param layer       the layer the weights are for (its class after mapping CuDNN classes, its units,
     *                    a GRU's reset_after)
     * @param cudnnLayout whether a bias of both halves is CuDNN's layout, to convert: in files of Keras 1
     *                    and 2, whose loaders converted it (Keras 3 has no CuDNN layers and converts nothing)
     */
    static List<Tensor> recurrent(String where, RecurrentLayer layer, List<NamedWeight> raw, boolean cudnnLayout) {
        String cls = layer.className();
        int units = layer.units();
        List<Tensor> keras1 = fromKeras1(where, cls, raw);
        if (keras1 != null) {
            return keras1;
        }
        List<Tensor> w = values(raw);
        if (cudnnLayout && w.size() == 3 && w.get(2).rank() == 1) {
            int gates = cls.equals("LSTM") ? 4 : cls.equals("GRU") ? 3 : 1;
            // CuDNN's layout: a bias of both halves, with kernels of Keras' shapes (anything else is left
            // for the shape check, which names the layer and the shapes)
            if (gates > 1 && w.get(2).size() == 2 * gates * units && w.get(1).rank() == 2 && w.get(1).dim(0) == units
                    && w.get(1).dim(1) == gates * units && w.get(0).rank() == 2 && w.get(0).dim(1) == gates * units) {
                if (layer instanceof Gru g && !g.resetAfter()) {
                    // Keras 2's _convert_rnn_weights: "CuDNNGRU is not compatible with GRU(reset_after=False)"
                    throw new ModelLoadException(where + ": its bias [" + 2 * gates * units + "] is CuDNNGRU's "
                            + "layout (an input and a recurrent bias for each of 3 gates x " + units + " units), which "
                            + "only a GRU with reset_after=True computes with; this GRU has reset_after=False, and Keras "
                            + "refuses these weights for it too. Load them with the model that saved them (CuDNNGRU, or "
                            + "GRU with reset_after=True).");
                }
                return fromCudnn(w, gates, units, cls.equals("GRU"));
            }
        }
        return w;
    }

    /** Keras 1 stores each gate apart: W_i, U_i, b_i, … (LSTM), W_z, … (GRU), W, U, b (SimpleRNN). */
    private static List<Tensor> fromKeras1(String where, String cls, List<NamedWeight> raw) {
        String[] gates = switch (cls) {
            case "LSTM" -> new String[] {"i", "f", "c", "o"};
            case "GRU" -> new String[] {"z", "r", "h"};
            default -> null;
        };
        if (gates == null || raw.size() != 3 * gates.length || !suffix(raw.get(0).name()).startsWith("W_")) {
            return null;
        }
        List<Tensor> kernel = new ArrayList<>();
        List<Tensor> recurrent = new ArrayList<>();
        List<Tensor> bias = new ArrayList<>();
        for (String g : gates) {
            kernel.add(find(where, raw, "W_" + g));
            recurrent.add(find(where, raw, "U_" + g));
            bias.add(find(where, raw, "b_" + g));
        }
        return List.of(concatLast(where, "W", gates, kernel), concatLast(where, "U", gates, recurrent),
                concatLast(where, "b", gates, bias));
    }

    /**
     * CuDNN layout to Keras layout, gate block by gate block: input kernel
     * {@code k.T.reshape(k.shape, order='F')}, recurrent kernel {@code k.T}; the LSTM bias is the
     * sum of its input and recurrent halves, the GRU bias becomes [2, 3H] (reset_after=True).
     */
    static List<Tensor> fromCudnn(List<Tensor> w, int gates, int units, boolean gru) {
        Tensor k = w.get(0);
        Tensor u = w.get(1);
        int in = k.dim(0);
        int g = gates * units;
        float[] kernel = new float[in * g];
        float[] recurrent = new float[units * g];
        for (int gate = 0; gate < gates; gate++) {
            for (int i = 0; i < in; i++) {
                for (int h = 0; h < units; h++) {
                    // block out[i][h] = block.flatC[i + I·h], where block[r][c] = k[r][gate·H + c]
                    int n = i + in * h;
                    kernel[i * g + gate * units + h] = k.data()[(n / units) * g + gate * units + n % units];
                }
            }
            for (int r = 0; r < units; r++) {
                for (int c = 0; c < units; c++) {
                    recurrent[r * g + gate * units + c] = u.data()[c * g + gate * units + r];
                }
            }
        }
        float[] b = w.get(2).data();
        Tensor bias;
        if (gru) {
            bias = Tensor.of(b, 2, g);
        } else {
            float[] sum = new float[g];
            for (int j = 0; j < g; j++) {
                sum[j] = b[j] + b[g + j];
            }
            bias = Tensor.wrap(sum, g);
        }
        return List.of(Tensor.wrap(kernel, in, g), Tensor.wrap(recurrent, units, g), bias);
    }

    static List<Tensor> values(List<NamedWeight> raw) {
        List<Tensor> out = new ArrayList<>();
        for (NamedWeight w : raw) {
            out.add(w.value());
        }
        return out;
    }

    /** "lstm_1_W_i" and "lstm_1_W_i:0" → "W_i"; "dense_1/kernel:0" → "kernel". */
    private static String suffix(String name) {
        String s = withoutIndex(name.substring(name.lastIndexOf('/') + 1));
        int k = s.lastIndexOf('_');
        int k2 = k > 0 ? s.lastIndexOf('_', k - 1) : -1;
        return k2 >= 0 ? s.substring(k2 + 1) : s;
    }

    /**
     * A TensorFlow variable's name without its output index: Keras 1 on TensorFlow saved its
     * per-gate weights as "lstm_1_W_i:0", on Theano as "lstm_1_W_i".
     */
    private static String withoutIndex(String name) {
        return name.replaceFirst(":\\d+$", "");
    }

    private static Tensor find(String where, List<NamedWeight> raw, String gateSuffix) {
        for (NamedWeight w : raw) {
            String name = withoutIndex(w.name());
            if (name.endsWith("_" + gateSuffix) || name.equals(gateSuffix)) {
                return w.value();
            }
        }
        throw new ModelLoadException(where + ": Keras 1 weights lack '" + gateSuffix + "'; found "
                + raw.stream().map(NamedWeight::name).toList() + ".");
    }

    /**
     * The gates' arrays side by side along their last axis; refused unless every one has the rank
     * (1 or 2) and, for rank 2, the rows of the first, as Keras 1 made them.
     */
    private static Tensor concatLast(String where, String kind, String[] gates, List<Tensor> parts) {
        Tensor first = parts.get(0);
        for (Tensor p : parts) {
            if (p.rank() < 1 || p.rank() > 2 || p.rank() != first.rank() || p.rank() == 2 && p.dim(0) != first.dim(0)) {
                StringBuilder shapes = new StringBuilder();
                for (int g = 0; g < gates.length; g++) {
                    shapes.append(g == 0 ? "" : ", ").append(kind).append('_').append(gates[g]).append(' ')
                            .append(java.util.Arrays.toString(parts.get(g).shape()));
                }
                throw new ModelLoadException(where + ": Keras 1 per-gate weights " + shapes + " do not fit together: each "
                        + kind + "_* should be " + (kind.equals("b") ? "[units]" : kind.equals("W") ? "[input, units]"
                        : "[units, units]") + ". The file is corrupt or was not written by Keras 1; save the model again.");
            }
        }
        int rows = first.rank() == 1 ? 1 : first.dim(0);
        int total = 0;
        for (Tensor p : parts) {
            total += p.dim(-1);
        }
        float[] out = new float[rows * total];
        int off = 0;
        for (Tensor p : parts) {
            int c = p.dim(-1);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(p.data(), r * c, out, r * total + off, c);
            }
            off += c;
        }
        return first.rank() == 1 ? Tensor.wrap(out, total) : Tensor.wrap(out, rows, total);
    }
}
