package dev.rnnrt.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;

/**
 * Finds out, without crashing and without side effects that outlive it, whether the CUDA backend
 * can run: the driver library, a device, cuBLAS 12 and the kernels. Any failure of the native
 * libraries (a missing libcuda.so, no device, no libcublas.so.12) becomes a reason in
 * {@link CudaStatus}.
 */
public final class CudaProbe {

    private static volatile CudaStatus cached;

    private CudaProbe() {
    }

    /** The status, probed once per JVM. */
    public static CudaStatus status() {
        CudaStatus s = cached;
        if (s == null) {
            synchronized (CudaProbe.class) {
                if (cached == null) {
                    cached = probe();
                }
                s = cached;
            }
        }
        return s;
    }

    private static CudaStatus probe() {
        List<String> problems = new ArrayList<>();
        boolean kernels = KernelModule.allPresent();
        if (!kernels) {
            problems.add("the CUDA kernels (PTX) are missing from this build of rnnrt; rebuild it with cuda/build-ptx.sh");
        }
        boolean driver = false;
        String device = null;
        try {
            JCudaDriver.setExceptionsEnabled(true);
            JCudaDriver.cuInit(0);
            driver = true;
            int[] count = new int[1];
            JCudaDriver.cuDeviceGetCount(count);
            if (count[0] == 0) {
                problems.add("the CUDA driver sees no device; check nvidia-smi");
            } else {
                CUdevice dev = new CUdevice();
                JCudaDriver.cuDeviceGet(dev, 0);
                byte[] name = new byte[256];
                JCudaDriver.cuDeviceGetName(name, name.length, dev);
                device = new String(name, java.nio.charset.StandardCharsets.US_ASCII).trim().replace("\0", "");
            }
        } catch (LinkageError e) {
            problems.add("the CUDA driver library could not be loaded (" + concise(e) + "); install the NVIDIA "
                    + "driver (it provides libcuda.so.1)");
        } catch (RuntimeException e) {
            problems.add("the CUDA driver failed to start (" + concise(e) + "); check the driver with nvidia-smi");
        }
        boolean cublas = false;
        if (driver && device != null) {
            try {
                JCublas2.setExceptionsEnabled(true);
                JCublas2.initialize();
                cublas = true;
            } catch (LinkageError | RuntimeException e) {
                cublas = false; // optional: the SGEMM kernel takes over
            }
        }
        return new CudaStatus(driver, device, cublas, kernels, problems);
    }

    private static final java.util.regex.Pattern MISSING_LIBRARY =
            java.util.regex.Pattern.compile("([\\w.+-]+\\.so[\\w.]*): cannot open shared object file: ([^\\n\\r]*)");

    /**
     * The gist of a native-library failure: JCuda's UnsatisfiedLinkError carries whole nested stack
     * traces in its message; the line that matters names the library the loader could not open.
     */
    static String concise(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        java.util.regex.Matcher missing = MISSING_LIBRARY.matcher(m);
        if (missing.find()) {
            return missing.group(1) + ": cannot open shared object file: " + missing.group(2).trim();
        }
        String first = m.lines().findFirst().orElse(m).trim();
        return first.length() > 200 ? first.substring(0, 200) + "…" : first;
    }
}
