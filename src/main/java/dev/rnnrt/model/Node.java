package dev.rnnrt.model;

import dev.rnnrt.layers.Layer;
import java.util.List;

/**
 * A layer placed in a model: where its inputs come from, and what it outputs (shapes without the
 * batch axis, whether each output carries a mask, and the layer that made that mask, or null).
 */
record Node(Layer layer, List<Ref> inputs, List<int[]> outputShapes, List<Boolean> outputsMasked,
            List<String> maskOrigins) {
}
