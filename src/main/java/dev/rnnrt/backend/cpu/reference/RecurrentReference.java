package dev.rnnrt.backend.cpu.reference;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.backend.LoopSpec;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentResult;
import java.util.ArrayList;
import java.util.List;

/**
 * The CPU reference backend: plain loops, one sequence at a time, float64 states and
 * accumulation, results rounded to float32 once at the end. Every other backend is tested
 * against it. Clarity over speed; never optimized.
 *
 * <p>The time loop follows Keras' generic RNN loop (keras/src/backend/tensorflow/rnn.py, the
 * masked {@code _step} of the while loop; Keras 2: keras/backend.py {@code rnn}):
 * <ul>
 *   <li>{@code go_backwards} processes the input and the mask in reverse time; returned sequences
 *       stay in processing order;</li>
 *   <li>at a masked step the states are kept, and the output is the previous output (zeros
 *       before the first step), or zeros with {@code zero_output_for_mask};</li>
 *   <li>the last output is the output of the last processed step, so after trailing padding it
 *       is the output of the last unmasked step (zeros with {@code zero_output_for_mask}).</li>
 * </ul>
 */
public final class RecurrentReference implements RecurrentBackend {

    public static final RecurrentReference INSTANCE = new RecurrentReference();

    private RecurrentReference() {
    }

    @Override
    public String name() {
        return "cpu-reference";
    }

    /** x is [B, T, I], mask [B, T] or null, states each [B, H]. */
    @Override
    public RecurrentResult forward(CellSpec cell, LoopSpec loop, Tensor x, Mask mask, List<Tensor> initialState) {
        int batch = x.dim(0);
        int time = x.dim(1);
        int inputSize = x.dim(2);
        int units = cell.units();
        int stateCount = cell.kind().stateCount();
        CellReference step = cellFor(cell);

        float[] seq = loop.returnSequences() ? new float[batch * time * units] : null;
        float[] last = new float[batch * units];
        List<float[]> finalStates = new ArrayList<>();
        for (int s = 0; s < stateCount; s++) {
            finalStates.add(new float[batch * units]);
        }

        for (int b = 0; b < batch; b++) {
            double[][] state = new double[stateCount][units];
            for (int s = 0; s < stateCount; s++) {
                float[] init = initialState.get(s).data();
                for (int j = 0; j < units; j++) {
                    state[s][j] = init[b * units + j];
                }
            }
            double[][] next = new double[stateCount][units];
            double[] output = new double[units]; // the previous output: zeros before the first step

            for (int p = 0; p < time; p++) {
                int t = loop.goBackwards() ? time - 1 - p : p;
                boolean keep = mask == null || mask.get(b, t);
                if (keep) {
                    step.step(x.data(), (b * time + t) * inputSize, state, next);
                    double[][] swap = state;
                    state = next;
                    next = swap;
                    System.arraycopy(state[0], 0, output, 0, units);
                } else if (loop.zeroOutputForMask()) {
                    java.util.Arrays.fill(output, 0.0);
                } // else: states frozen, output repeats the previous one
                if (seq != null) {
                    for (int j = 0; j < units; j++) {
                        seq[(b * time + p) * units + j] = (float) output[j];
                    }
                }
            }
            for (int j = 0; j < units; j++) {
                last[b * units + j] = (float) output[j];
            }
            for (int s = 0; s < stateCount; s++) {
                for (int j = 0; j < units; j++) {
                    finalStates.get(s)[b * units + j] = (float) state[s][j];
                }
            }
        }

        Tensor out = seq != null ? Tensor.wrap(seq, batch, time, units) : Tensor.wrap(last, batch, units);
        List<Tensor> states = new ArrayList<>();
        for (float[] s : finalStates) {
            states.add(Tensor.wrap(s, batch, units));
        }
        return new RecurrentResult(out, states);
    }

    private static CellReference cellFor(CellSpec cell) {
        switch (cell.kind()) {
            case SIMPLE_RNN:
                return new SimpleRnnReference(cell);
            case LSTM:
                return new LstmReference(cell);
            case GRU:
                return new GruReference(cell);
            default:
                throw new IllegalStateException("No reference cell for " + cell.kind());
        }
    }
}
