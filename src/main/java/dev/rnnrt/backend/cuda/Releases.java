package dev.rnnrt.backend.cuda;

/**
 * Release steps run in turn, each even where one before it failed, so that a failing release does
 * not leak what the later ones free. After a sticky CUDA error (an illegal address, say) every call
 * in the context fails, frees included; closing must still go through every release, down to the
 * reference to the device's primary context that the backend retained (a context is destroyed, and
 * its error with it, only once no reference is left). {@link #done} throws the first failure, the
 * later ones suppressed in it. Host logic only.
 */
final class Releases {

    private RuntimeException first;

    /** Runs one release step, keeping its failure for {@link #done}. */
    void run(Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            if (first == null) {
                first = e;
            } else if (first != e) {
                first.addSuppressed(e);
            }
        }
    }

    /** Throws the first failure of the steps run, if any. */
    void done() {
        if (first != null) {
            throw first;
        }
    }
}
