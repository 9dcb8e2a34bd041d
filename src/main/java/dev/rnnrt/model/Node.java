package dev.rnnrt.model;

import dev.rnnrt.layers.Layer;
import java.util.List;

/**
 * A layer placed in a model: where its inputs come from, and what it outputs (shapes without the
 * batch axis, and whether each output carries a mask).
 */
record Node(Layer layer, List<Ref> inputs, List<int[]> outputShapes, List<Boolean> outputsMasked) {
}
