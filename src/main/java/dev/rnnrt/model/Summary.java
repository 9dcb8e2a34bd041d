package dev.rnnrt.model;

import dev.rnnrt.layers.Layer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The text of {@link Model#summary()}, laid out like Keras' {@code model.summary()}. */
final class Summary {

    private Summary() {
    }

    static String of(Model model, List<Node> nodes, Map<String, int[]> inputs, List<Ref> outputs) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"Layer (type)", "Output Shape", "Param #", "Connected to", "Options"});
        for (Map.Entry<String, int[]> in : inputs.entrySet()) {
            rows.add(new String[] {in.getKey() + " (InputLayer)", Layer.shapeText(in.getValue()), "0", "", ""});
        }
        for (Node n : nodes) {
            Layer l = n.layer();
            List<String> shapes = new ArrayList<>();
            for (int[] s : n.outputShapes()) {
                shapes.add(Layer.shapeText(s));
            }
            List<String> from = new ArrayList<>();
            for (Ref r : n.inputs()) {
                from.add(r.toString());
            }
            boolean again = !n.name().equals(l.name());       // a shared layer's later call: its weights are counted once
            rows.add(new String[] {n.name() + " (" + (again ? "call of '" + l.name() + "'" : l.className()) + ")",
                    String.join(", ", shapes), again ? "0" : Long.toString(l.parameterCount()), String.join(", ", from),
                    again ? "" : l.describeOptions()});
        }
        int[] width = new int[5];
        for (String[] r : rows) {
            for (int c = 0; c < 5; c++) {
                width[c] = Math.max(width[c], r[c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append("Model: \"").append(model.name()).append("\"\n");
        int total = 0;
        for (int w : width) {
            total += w + 2;
        }
        String rule = "-".repeat(total) + "\n";
        for (int k = 0; k < rows.size(); k++) {
            if (k <= 1) {
                sb.append(k == 0 ? "=".repeat(total) + "\n" : rule);
            }
            String[] r = rows.get(k);
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < 5; c++) {
                line.append(String.format("%-" + (width[c] + 2) + "s", r[c]));
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        sb.append("=".repeat(total)).append('\n');
        List<String> outs = new ArrayList<>();
        for (Ref r : outputs) {
            outs.add(r.toString());
        }
        sb.append("Outputs: ").append(String.join(", ", outs)).append('\n');
        sb.append("Total params: ").append(model.parameterCount()).append('\n');
        if (model.isStateful()) {
            sb.append("Stateful: ").append(model.fixedBatchSize().isPresent()
                    ? "each call takes " + model.fixedBatchSize().getAsInt() + " sequences (the fixed batch size)"
                    : "the first call's batch size holds until resetStates()").append('\n');
        }
        List<String> unmasked = new ArrayList<>();
        for (Node n : nodes) {
            if (n.computesUnmasked() && model.carriesMask(n.inputs().get(0).toString())) {
                unmasked.add(n.name());
            }
        }
        if (!unmasked.isEmpty()) {
            sb.append("Computes the masked steps too, and passes the mask on (Keras 3: initial_state given, no mask=): ")
                    .append(String.join(", ", unmasked)).append('\n');
        }
        if (!model.stackedRuns().isEmpty()) {
            sb.append("Run as one stack each, values kept on the device: ").append(String.join(", ", model.stackedRuns()))
                    .append('\n');
        }
        return sb.toString();
    }
}
