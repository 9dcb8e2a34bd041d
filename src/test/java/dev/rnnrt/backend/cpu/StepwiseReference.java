package dev.rnnrt.backend.cpu;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.backend.LoopSpec;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentResult;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import java.util.List;

/**
 * The reference run one step at a time, its states rounded to float32 between steps as the fast
 * path stores them: how far float32 storage alone takes a configuration from the float64 reference
 * (an LSTM whose cell state passes float32's range, where the reference keeps it in float64).
 * x is [B, T, I], mask [B, T] or null, states each [B, H].
 */
final class StepwiseReference implements RecurrentBackend {

    static final StepwiseReference INSTANCE = new StepwiseReference();

    private StepwiseReference() {
    }

    @Override
    public String name() {
        return "cpu-reference-stepwise";
    }

    @Override
    public RecurrentResult forward(CellSpec cell, LoopSpec loop, Tensor x, Mask mask, List<Tensor> initialState) {
        int batch = x.dim(0);
        int time = x.dim(1);
        int in = x.dim(2);
        int units = cell.units();
        LoopSpec one = new LoopSpec(false, false, false);
        float[] seq = loop.returnSequences() ? new float[batch * time * units] : null;
        float[] out = new float[batch * units];
        List<Tensor> states = initialState;
        for (int p = 0; p < time; p++) {
            int t = loop.goBackwards() ? time - 1 - p : p;
            float[] xt = new float[batch * in];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(x.data(), (b * time + t) * in, xt, b * in, in);
            }
            RecurrentResult r = RecurrentReference.INSTANCE.forward(cell, one, Tensor.wrap(xt, batch, 1, in), null,
                    states);
            List<Tensor> next = r.states();
            for (int b = 0; b < batch; b++) {
                boolean keep = mask == null || mask.get(b, t);
                if (keep) {
                    System.arraycopy(r.output().data(), b * units, out, b * units, units);
                } else {
                    // a masked step keeps the states; the output repeats, or is zeros
                    for (int s = 0; s < next.size(); s++) {
                        System.arraycopy(states.get(s).data(), b * units, next.get(s).data(), b * units, units);
                    }
                    if (loop.zeroOutputForMask()) {
                        java.util.Arrays.fill(out, b * units, (b + 1) * units, 0f);
                    }
                }
            }
            states = next;
            if (seq != null) {
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(out, b * units, seq, (b * time + p) * units, units);
                }
            }
        }
        Tensor output = seq != null ? Tensor.wrap(seq, batch, time, units) : Tensor.wrap(out.clone(), batch, units);
        return new RecurrentResult(output, states);
    }
}
