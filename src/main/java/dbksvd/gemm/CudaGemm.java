package dbksvd.gemm;

import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.cublasCreate_v2;
import static org.bytedeco.cuda.global.cublas.cublasGetStatusString;
import static org.bytedeco.cuda.global.cublas.cublasSetStream_v2;
import static org.bytedeco.cuda.global.cublas.cublasSgemm_v2;
import static org.bytedeco.cuda.global.cudart.cudaEventCreate;
import static org.bytedeco.cuda.global.cudart.cudaEventElapsedTime;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaEventSynchronize;
import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaFreeHost;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceProperties;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMallocHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;
import static org.bytedeco.cuda.global.cudart.cudaStreamCreate;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;

import java.lang.ref.WeakReference;
import java.util.SplittableRandom;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The GPU backend: cuBLAS SGEMM (FP32, cuBLAS's default math mode, no TF32) on one CUDA device, through JavaCPP's
 * {@code org.bytedeco:cuda} presets. Compiled in every build against those classes ({@code provided} scope); only
 * the {@code cuda} Maven profile ships them and their JNI libraries in the jar, and the CUDA 12 runtime libraries
 * (libcudart, libcublas) come from the node. Without them {@link #open} fails and {@link Backends} falls back to the
 * CPU.
 *
 * <p>D stays on the device while calls pass the same D array (an iteration's broadcast value; a new array uploads
 * again). P = DᵀY runs in blocks of {@link #BLOCK} samples on two streams: while one block's SGEMM runs, the next
 * block's samples are copied into a pinned host buffer and on to the device, and the block before it comes back.
 * {@link #start} runs a product on this device's worker thread, so that the encoder's next call computes on the GPU
 * while the task's thread runs matching pursuit on the previous one.
 * G = DᵀD is computed here only when asked ({@link #gram}); the encoders use G on the CPU, where matching pursuit
 * runs. One instance serves every task of the JVM that runs on its device: calls are serialised.
 */
public final class CudaGemm implements Gemm {
  /** Samples per host→device copy and SGEMM: a call of 1024 samples (encode-chunk) runs as 2 pipelined blocks. */
  static final int BLOCK = 512;

  private final int device;
  private final String name;
  private final cublasContext handle = new cublasContext();
  private final CUstream_st[] streams = {new CUstream_st(), new CUstream_st()};
  private final FloatPointer one = new FloatPointer(1f);
  private final FloatPointer zero = new FloatPointer(0f);
  /** The D now on the device, by identity. */
  private WeakReference<float[]> residentD = new WeakReference<>(null);
  private final Buffer dD = new Buffer(false);
  private final Buffer[] dY = {new Buffer(false), new Buffer(false)};
  private final Buffer[] dP = {new Buffer(false), new Buffer(false)};
  private final Buffer[] hY = {new Buffer(true), new Buffer(true)};
  private final Buffer[] hP = {new Buffer(true), new Buffer(true)};
  /** Runs started products beside the tasks' threads (one per device: calls are serialised anyway). */
  private final java.util.concurrent.ExecutorService worker;

  private CudaGemm(int device) {
    this.device = device;
    check(cudaSetDevice(device), "cudaSetDevice(" + device + ")");
    cudaDeviceProp prop = new cudaDeviceProp();
    check(cudaGetDeviceProperties(prop, device), "cudaGetDeviceProperties");
    this.name = "cuda (GPU " + device + ": " + prop.name().getString() + ", "
        + Math.round(prop.totalGlobalMem() / 1e9) + " GB)";
    checkBlas(cublasCreate_v2(handle), "cublasCreate");
    for (CUstream_st s : streams) {
      check(cudaStreamCreate(s), "cudaStreamCreate");
    }
    worker = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "dbksvd-cuda-" + device);
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public Pending start(float[] D, int d, int atomOffset, int mAtoms, float[] Y, int sampleOffset, int n, float[] P) {
    java.util.concurrent.Future<?> f = worker.submit(() -> correlations(D, d, atomOffset, mAtoms, Y, sampleOffset, n,
        P));
    return () -> {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the GPU", e);
      } catch (java.util.concurrent.ExecutionException e) {
        throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
      }
    };
  }

  /** Opens CUDA device {@code device} (an address Spark assigned to the task); Backends calls it by reflection. */
  public static CudaGemm open(int device) {
    // the JNI libraries first: without them (or without libcudart / libcublas) this fails with the library's name
    org.bytedeco.javacpp.Loader.load(org.bytedeco.cuda.global.cudart.class);
    org.bytedeco.javacpp.Loader.load(org.bytedeco.cuda.global.cublas.class);
    return new CudaGemm(device);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean gpu() {
    return true;
  }

  @Override
  public synchronized void correlations(float[] D, int d, int atomOffset, int mAtoms, float[] Y, int sampleOffset,
      int n, float[] P) {
    check(cudaSetDevice(device), "cudaSetDevice");
    FloatPointer A = new FloatPointer(resident(D)).position((long) atomOffset * d);
    int blocks = (n + BLOCK - 1) / BLOCK;
    int bs = Math.min(BLOCK, n);
    for (int s = 0; s < 2; s++) {
      dY[s].ensure((long) d * bs);
      hY[s].ensure((long) d * bs);
      dP[s].ensure((long) mAtoms * bs);
      hP[s].ensure((long) mAtoms * bs);
    }
    for (int b = 0; b < blocks; b++) {
      int s = b & 1;
      if (b >= 2) {
        finish(b - 2, mAtoms, n, P);
      }
      int c0 = b * BLOCK;
      int w = Math.min(BLOCK, n - c0);
      hY[s].p.position(0).put(Y, (sampleOffset + c0) * d, w * d);
      check(cudaMemcpyAsync(dY[s].p, hY[s].p, 4L * w * d, cudaMemcpyHostToDevice, streams[s]), "copy Y to GPU");
      checkBlas(cublasSetStream_v2(handle, streams[s]), "cublasSetStream");
      checkBlas(cublasSgemm_v2(handle, CUBLAS_OP_T, CUBLAS_OP_N, mAtoms, w, d, one, A, d, dY[s].p, d, zero, dP[s].p,
          mAtoms), "cublasSgemm");
      check(cudaMemcpyAsync(hP[s].p, dP[s].p, 4L * w * mAtoms, cudaMemcpyDeviceToHost, streams[s]), "copy P back");
    }
    for (int b = Math.max(0, blocks - 2); b < blocks; b++) {
      finish(b, mAtoms, n, P);
    }
  }

  /** Waits for block b's stream and copies its P columns out of the pinned buffer. */
  private void finish(int b, int mAtoms, int n, float[] P) {
    int s = b & 1;
    check(cudaStreamSynchronize(streams[s]), "cudaStreamSynchronize");
    int c0 = b * BLOCK;
    int w = Math.min(BLOCK, n - c0);
    hP[s].p.position(0).get(P, c0 * mAtoms, w * mAtoms);
  }

  @Override
  public synchronized float[] gram(float[] D, int d, int m) {
    check(cudaSetDevice(device), "cudaSetDevice");
    FloatPointer A = resident(D);
    dP[0].ensure((long) m * m);
    hP[0].ensure((long) m * m);
    checkBlas(cublasSetStream_v2(handle, streams[0]), "cublasSetStream");
    checkBlas(cublasSgemm_v2(handle, CUBLAS_OP_T, CUBLAS_OP_N, m, m, d, one, A, d, A, d, zero, dP[0].p, m),
        "cublasSgemm");
    check(cudaMemcpyAsync(hP[0].p, dP[0].p, 4L * m * m, cudaMemcpyDeviceToHost, streams[0]), "copy G back");
    check(cudaStreamSynchronize(streams[0]), "cudaStreamSynchronize");
    float[] G = new float[m * m];
    hP[0].p.position(0).get(G, 0, m * m);
    return G;
  }

  @Override
  public synchronized double deviceSgemmGflops(int d, int m, int n) {
    check(cudaSetDevice(device), "cudaSetDevice");
    Buffer a = new Buffer(false);
    Buffer y = new Buffer(false);
    Buffer p = new Buffer(false);
    Buffer h = new Buffer(true);
    CUevent_st start = new CUevent_st();
    CUevent_st stop = new CUevent_st();
    try {
      a.ensure((long) d * m);
      y.ensure((long) d * n);
      p.ensure((long) m * n);
      h.ensure((long) d * Math.max(m, n));
      SplittableRandom rng = new SplittableRandom(1);
      float[] v = new float[d * Math.max(m, n)];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) rng.nextGaussian();
      }
      h.p.position(0).put(v, 0, v.length);
      check(cudaMemcpyAsync(a.p, h.p, 4L * d * m, cudaMemcpyHostToDevice, streams[0]), "copy D to GPU");
      check(cudaMemcpyAsync(y.p, h.p, 4L * d * n, cudaMemcpyHostToDevice, streams[0]), "copy Y to GPU");
      check(cudaEventCreate(start), "cudaEventCreate");
      check(cudaEventCreate(stop), "cudaEventCreate");
      checkBlas(cublasSetStream_v2(handle, streams[0]), "cublasSetStream");
      float[] ms = new float[1];
      double best = 0;
      for (int rep = 0; rep < 4; rep++) {
        check(cudaEventRecord(start, streams[0]), "cudaEventRecord");
        for (int r = 0; r < 5; r++) {
          checkBlas(cublasSgemm_v2(handle, CUBLAS_OP_T, CUBLAS_OP_N, m, n, d, one, a.p, d, y.p, d, zero, p.p, m),
              "cublasSgemm");
        }
        check(cudaEventRecord(stop, streams[0]), "cudaEventRecord");
        check(cudaEventSynchronize(stop), "cudaEventSynchronize");
        check(cudaEventElapsedTime(ms, start, stop), "cudaEventElapsedTime");
        if (rep > 0) { // the first round warms up
          best = Math.max(best, 5 * 2.0 * m * d * n / (ms[0] / 1e3) / 1e9);
        }
      }
      return best;
    } finally {
      a.free();
      y.free();
      p.free();
      h.free();
      org.bytedeco.cuda.global.cudart.cudaEventDestroy(start);
      org.bytedeco.cuda.global.cudart.cudaEventDestroy(stop);
    }
  }

  /** D on the device: uploaded when the array is not the one uploaded last. */
  private FloatPointer resident(float[] D) {
    if (residentD.get() != D) {
      dD.ensure(D.length);
      hY[0].ensure(D.length);
      hY[0].p.position(0).put(D, 0, D.length);
      check(cudaMemcpyAsync(dD.p, hY[0].p, 4L * D.length, cudaMemcpyHostToDevice, streams[0]), "copy D to GPU");
      check(cudaStreamSynchronize(streams[0]), "cudaStreamSynchronize");
      residentD = new WeakReference<>(D);
    }
    return dD.p;
  }

  /** A device or pinned host buffer of floats that grows on demand. */
  private static final class Buffer {
    final boolean pinned;
    FloatPointer p = new FloatPointer();
    long capacity;

    Buffer(boolean pinned) {
      this.pinned = pinned;
    }

    void ensure(long floats) {
      if (floats <= capacity) {
        return;
      }
      free();
      FloatPointer q = new FloatPointer();
      check(pinned ? cudaMallocHost(q, 4L * floats) : cudaMalloc(q, 4L * floats),
          (pinned ? "cudaMallocHost " : "cudaMalloc ") + 4L * floats + " bytes");
      q.capacity(floats).limit(floats);
      p = q;
      capacity = floats;
    }

    void free() {
      if (capacity > 0) {
        check(pinned ? cudaFreeHost(p) : cudaFree(p), pinned ? "cudaFreeHost" : "cudaFree");
        capacity = 0;
      }
    }
  }

  private static void check(int rc, String what) {
    if (rc != 0) {
      throw new IllegalStateException(what + ": CUDA error " + rc + " (" + cudaGetErrorString(rc).getString() + ")");
    }
  }

  private static void checkBlas(int rc, String what) {
    if (rc != 0) {
      throw new IllegalStateException(what + ": cuBLAS status " + rc + " (" + cublasGetStatusString(rc).getString()
          + ")");
    }
  }
}
