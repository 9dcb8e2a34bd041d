package dev.rnnrt.backend.cuda;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * float32 device memory with one owner. Closing frees it once; use after close throws
 * IllegalStateException naming the buffer.
 */
final class DeviceBuffer implements AutoCloseable {

    private final String name;
    private final long count;
    private final CUdeviceptr ptr = new CUdeviceptr();
    private boolean closed;

    DeviceBuffer(String name, long count) {
        this.name = name;
        this.count = Math.max(1, count);
        JCudaDriver.cuMemAlloc(ptr, sizeBytes());
    }

    long count() {
        return count;
    }

    long sizeBytes() {
        return count * Sizeof.FLOAT;
    }

    CUdeviceptr ptr() {
        check();
        return ptr;
    }

    /** A pointer {@code offset} floats into the buffer. */
    Pointer at(long offset) {
        check();
        return ptr.withByteOffset(offset * Sizeof.FLOAT);
    }

    void upload(float[] host, int n) {
        check();
        JCudaDriver.cuMemcpyHtoD(ptr, Pointer.to(host), (long) n * Sizeof.FLOAT);
    }

    void download(float[] host, int n) {
        check();
        JCudaDriver.cuMemcpyDtoH(Pointer.to(host), ptr, (long) n * Sizeof.FLOAT);
    }

    /** Fills the first n floats with NaN (debugging: unwritten outputs show). */
    void poison(long n) {
        check();
        JCudaDriver.cuMemsetD32(ptr, Float.floatToRawIntBits(Float.NaN), n);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            JCudaDriver.cuMemFree(ptr);
        }
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("Device buffer '" + name + "' was used after it was closed.");
        }
    }
}
