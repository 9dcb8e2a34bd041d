package dev.rnnrt.testing;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.backend.LoopSpec;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentResult;
import dev.rnnrt.backend.StackCall;
import dev.rnnrt.backend.StackStage;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import java.util.ArrayList;
import java.util.List;

/**
 * The CPU reference as a backend that keeps stacks ({@link RecurrentBackend#keepsStacks()}), so
 * that models hand it runs of layers as the CUDA backend gets them, run here by the interface's
 * default (stage after stage); logs what it is asked: "forward LSTM" for a layer called on its
 * own, "stack LSTM Bidirectional(GRU,sum) Dense(relu)" for a stack call.
 */
public final class StackingReference implements RecurrentBackend {

    /** What was asked, in order; not thread-safe. */
    public final List<String> log = new ArrayList<>();
    private boolean inStack;

    @Override
    public String name() {
        return "cpu-reference (stacking)";
    }

    @Override
    public boolean keepsStacks() {
        return true;
    }

    @Override
    public RecurrentResult forward(CellSpec cell, LoopSpec loop, Tensor x, Mask mask, List<Tensor> initialState) {
        if (!inStack) {
            log.add("forward " + cell.kind().kerasName());
        }
        return RecurrentReference.INSTANCE.forward(cell, loop, x, mask, initialState);
    }

    @Override
    public Tensor forwardStack(StackCall call) {
        StringBuilder line = new StringBuilder("stack");
        for (StackStage s : call.stages()) {
            line.append(' ').append(describe(s));
        }
        log.add(line.toString());
        inStack = true;
        try {
            return RecurrentBackend.super.forwardStack(call);
        } finally {
            inStack = false;
        }
    }

    private static String describe(StackStage s) {
        if (s instanceof StackStage.Recurrent r) {
            return r.cell().kind().kerasName();
        }
        if (s instanceof StackStage.Bidirectional b) {
            return "Bidirectional(" + describe(b.forward()) + "," + b.merge().kerasName() + ")";
        }
        return "Dense(" + ((StackStage.Dense) s).activation().kerasName() + ")";
    }
}
