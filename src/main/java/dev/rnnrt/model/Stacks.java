package dev.rnnrt.model;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.StackCall;
import dev.rnnrt.backend.StackStage;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.InferenceNoOp;
import dev.rnnrt.layers.Layer;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.TimeDistributed;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The runs of layers a model hands to its backend as one {@link StackCall}, so that a backend that
 * keeps values on a device ({@link RecurrentBackend#keepsStacks()}: CUDA) copies only the last
 * layer's output back. Found once, when the model is made.
 *
 * <p>A run starts at a recurrent or Bidirectional layer of such a backend and goes on through the
 * layers after it while each takes only the one before's output, that output is used nowhere else
 * (no other layer and no model output reads it), and the layer is one of: a recurrent or
 * Bidirectional layer on the same backend ({@link RecurrentLayer#stackable()},
 * {@link Bidirectional#stackable()}; only after layers that return sequences), Dense or
 * TimeDistributed(Dense), or a layer that does nothing at inference (Dropout and the like). A
 * Dense with softmax or log_softmax ends a run: the backend computes its affine part and the
 * activation is applied to the output on the host. A run needs two layers that compute; a
 * recurrent layer with initial states, stateful, returned states or time-major, and a
 * Bidirectional one with merge_mode None, run on their own, as does a call that computes unmasked.
 */
final class Stacks {

    /** Nodes {@code first..last} of the model, {@code first} a recurrent or Bidirectional layer. */
    record Run(int first, int last, RecurrentBackend backend) {
    }

    private Stacks() {
    }

    /** The runs, keyed by their first node's index. */
    static Map<Integer, Run> find(List<Node> nodes, List<Ref> outputs) {
        Map<String, Integer> readers = new HashMap<>();
        for (Node n : nodes) {
            for (Ref r : n.inputs()) {
                readers.merge(r.toString(), 1, Integer::sum);
            }
        }
        for (Ref r : outputs) {
            readers.merge(r.toString(), 1, Integer::sum);
        }
        Map<Integer, Run> runs = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            Node start = nodes.get(i);
            RecurrentBackend backend = stackingBackend(start.layer());
            if (backend == null || !backend.keepsStacks() || start.inputs().size() != 1 || start.computesUnmasked()) {
                continue;
            }
            int last = i;
            int computing = 1;
            boolean sequences = returnsSequences(start.layer());
            while (last + 1 < nodes.size() && !endsRun(nodes.get(last).layer())) {
                Node prev = nodes.get(last);
                Node next = nodes.get(last + 1);
                Ref prevOut = new Ref(prev.name(), 0);
                if (prev.outputShapes().size() != 1 || readers.getOrDefault(prevOut.toString(), 0) != 1
                        || next.inputs().size() != 1 || !next.inputs().get(0).equals(prevOut) || next.computesUnmasked()) {
                    break;
                }
                Layer layer = next.layer();
                if (layer instanceof RecurrentLayer || layer instanceof Bidirectional) {
                    if (stackingBackend(layer) != backend || !sequences) {
                        break;
                    }
                    sequences = returnsSequences(layer);
                } else if (dense(layer) == null && !(layer instanceof InferenceNoOp)) {
                    break;
                }
                if (!(layer instanceof InferenceNoOp)) {
                    computing++;
                }
                last++;
            }
            if (computing >= 2) {
                runs.put(i, new Run(i, last, backend));
                i = last;
            }
        }
        return Collections.unmodifiableMap(runs);
    }

    /** The backend of a recurrent or Bidirectional layer that can be a stack stage; null otherwise. */
    private static RecurrentBackend stackingBackend(Layer layer) {
        if (layer instanceof RecurrentLayer r && r.stackable()) {
            return r.backend();
        }
        if (layer instanceof Bidirectional b && b.stackable()) {
            return b.forwardLayer().backend();
        }
        return null;
    }

    /** Whether a recurrent or Bidirectional layer returns sequences. */
    private static boolean returnsSequences(Layer layer) {
        return layer instanceof Bidirectional b ? b.forwardLayer().returnSequences()
                : ((RecurrentLayer) layer).returnSequences();
    }

    /** The Dense layer, bare or in TimeDistributed; null for other layers. */
    private static Dense dense(Layer layer) {
        if (layer instanceof Dense d) {
            return d;
        }
        if (layer instanceof TimeDistributed td && td.inner() instanceof Dense d) {
            return d;
        }
        return null;
    }

    /** A Dense whose activation is not element-wise (softmax) ends a run. */
    private static boolean endsRun(Layer layer) {
        Dense d = dense(layer);
        return d != null && !d.activation().isElementwise();
    }

    /** What a run gives the model: the last node's output and its mask. */
    record Result(Tensor output, Mask mask) {
    }

    /**
     * Runs the run's layers as one stack call on {@code x} and {@code mask}, what its first layer
     * reads. Returns null when x does not fit the layers (a wrong rank or feature count, an empty
     * batch, a mask of another shape): the layers then run one by one, and the first that does not
     * fit says so, naming itself and the shapes.
     */
    static Result call(Run run, List<Node> nodes, Tensor x, Mask mask) {
        if (x == null || x.rank() != 3 || x.dim(0) < 1 || x.dim(1) < 1
                || mask != null && (mask.rows() != x.dim(0) || mask.cols() != x.dim(1))) {
            return null;
        }
        List<StackStage> stages = new ArrayList<>();
        int width = x.dim(2);
        Mask outMask = mask;
        Dense hostActivation = null;
        for (int k = run.first(); k <= run.last(); k++) {
            Layer layer = nodes.get(k).layer();
            StackStage stage;
            if (layer instanceof RecurrentLayer r) {
                stage = r.stackStage(width);
                outMask = r.returnSequences() ? outMask : null;
            } else if (layer instanceof Bidirectional b) {
                stage = b.stackStage(width);
                outMask = b.forwardLayer().returnSequences() ? outMask : null;
            } else if (dense(layer) != null) {
                Dense d = dense(layer);
                boolean elementwise = d.activation().isElementwise();
                stage = d.stackStage(width, elementwise);
                hostActivation = elementwise ? null : d;
            } else {
                continue; // does nothing at inference
            }
            if (stage == null) {
                return null;
            }
            stages.add(stage);
            width = stage.outputSize();
        }
        Tensor out = run.backend().forwardStack(new StackCall(stages, x, mask));
        if (hostActivation != null) {
            hostActivation.activation().applyInPlace(out.data(), width);
        }
        return new Result(out, outMask);
    }
}
