package dev.rnnrt.backend.cuda;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The device buffers of one {@link WorkspacePlan}, owned here and freed together. The backend keeps
 * the workspace of its last shape and replaces it only when the shape changes. Close is idempotent
 * and frees in reverse order of allocation; use after close throws IllegalStateException.
 */
final class Workspace implements AutoCloseable {

    private final WorkspacePlan plan;
    private final Map<String, DeviceBuffer> buffers = new LinkedHashMap<>();
    private boolean closed;

    /** Allocates every buffer of the plan; on a failure frees what was already allocated. */
    Workspace(WorkspacePlan plan) {
        this.plan = plan;
        try {
            for (Map.Entry<String, Long> e : plan.sizes().entrySet()) {
                buffers.put(e.getKey(), new DeviceBuffer(e.getKey(), e.getValue()));
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    WorkspacePlan plan() {
        return plan;
    }

    /** The buffer named in the plan; the workspace keeps owning it. */
    DeviceBuffer get(String name) {
        if (closed) {
            throw new IllegalStateException("The CUDA workspace for " + plan.describe() + " was used after it was closed.");
        }
        DeviceBuffer b = buffers.get(name);
        if (b == null) {
            throw new IllegalStateException("The CUDA workspace for " + plan.describe() + " has no buffer '" + name
                    + "'; it has " + buffers.keySet() + ".");
        }
        return b;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<DeviceBuffer> all = new ArrayList<>(buffers.values());
        for (int k = all.size() - 1; k >= 0; k--) {
            all.get(k).close();
        }
    }
}
