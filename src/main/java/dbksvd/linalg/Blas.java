package dbksvd.linalg;

import dev.ludovic.netlib.blas.JavaBLAS;

/**
 * The dense kernels dbksvd needs, on column-major {@code float[]}, through the BLAS layer Spark MLlib uses
 * (dev.ludovic.netlib). Its JNI layer runs the native library {@link BlasLibrary} chooses — by default the OpenBLAS
 * shipped in dbksvd's jar — loaded on the first native call, so that the setting can arrive first; without any, the
 * pure-Java BLAS, about 15× slower for SGEMM, with a loud warning. The choice is logged once per JVM.
 *
 * <p>Layout conventions: D is d × m (atom j = {@code D[j*d .. j*d+d)}), Y is d × n (sample s contiguous),
 * P = DᵀY is m × n (the correlations of sample s contiguous), G = DᵀD is m × m.
 */
public final class Blas {
  private Blas() {}

  /** The implementation in use, e.g. {@code dev.ludovic.netlib.blas.JNIBLAS}. */
  public static String implementation() {
    return BlasLibrary.current().implementation();
  }

  /** True when a native BLAS is in use. */
  public static boolean isNative() {
    return BlasLibrary.current().isNative();
  }

  /**
   * Logs once which BLAS is active (warns when it is not native or its kernels fall short of the CPU). Returns
   * {@link #description()}.
   */
  public static String announce() {
    return BlasLibrary.announce().describe();
  }

  /**
   * The implementation, the OpenBLAS version and core name, and where the library came from, e.g.
   * {@code dev.ludovic.netlib.blas.JNIBLAS, OpenBLAS 0.3.31 core Zen (bundled)}.
   */
  public static String description() {
    return BlasLibrary.current().describe();
  }

  /** The pure-Java BLAS, for benchmarks that compare against it. */
  public static dev.ludovic.netlib.blas.BLAS javaBlas() {
    return JavaBLAS.getInstance();
  }

  /** netlib's instance once the library is loaded and announced (the first call does both). */
  private static volatile dev.ludovic.netlib.blas.BLAS ready;

  static dev.ludovic.netlib.blas.BLAS blas() {
    dev.ludovic.netlib.blas.BLAS b = ready;
    if (b == null) {
      b = BlasLibrary.announce().blas();
      ready = b;
    }
    return b;
  }

  /** C(m×n) = alpha·op(A)·op(B) + beta·C, column-major, with offsets. */
  public static void sgemm(String transA, String transB, int m, int n, int k, float alpha,
      float[] a, int offA, int lda, float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
    blas().sgemm(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
  }

  /**
   * P(mAtoms × n) = D[:, atomOffset .. atomOffset+mAtoms)ᵀ · Y(d × n), samples starting at column {@code sampleOffset}.
   */
  public static void correlations(float[] D, int d, int atomOffset, int mAtoms, float[] Y, int sampleOffset, int n,
      float[] P) {
    sgemm("T", "N", mAtoms, n, d, 1f, D, atomOffset * d, d, Y, sampleOffset * d, d, 0f, P, 0, mAtoms);
  }

  /**
   * G = DᵀD (m × m), the Gram matrix of the dictionary. With one BLAS thread per call (OPENBLAS_NUM_THREADS=1, as
   * dbksvd runs it) the columns of G are split into blocks computed at once on the JVM's cores (on an executor, by
   * the first task that needs G; the others wait for it). Blocks start at multiples of 48 columns, where OpenBLAS gives a column the
   * same bits as in one call (see {@code GemmLanes}; {@code BlasTest} checks it), so the split changes nothing.
   */
  public static float[] gram(float[] D, int d, int m) {
    return gram(D, d, m, gramThreads());
  }

  /** {@link #gram(float[], int, int)} in {@code parts} column blocks, computed at once. */
  public static float[] gram(float[] D, int d, int m, int parts) {
    float[] G = new float[m * m];
    int blocks = Math.max(1, Math.min(parts, m / GRAM_ALIGN));
    if (blocks == 1) {
      sgemm("T", "N", m, m, d, 1f, D, 0, d, D, 0, d, 0f, G, 0, m);
      return G;
    }
    int per = (m / blocks + GRAM_ALIGN - 1) / GRAM_ALIGN * GRAM_ALIGN;
    java.util.List<java.util.concurrent.Future<?>> running = new java.util.ArrayList<>();
    for (int c0 = per; c0 < m; c0 += per) {
      final int from = c0;
      final int cols = Math.min(per, m - c0);
      running.add(GRAM_POOL.submit(() -> sgemm("T", "N", m, cols, d, 1f, D, 0, d, D, from * d, d, 0f, G,
          from * m, m)));
    }
    sgemm("T", "N", m, Math.min(per, m), d, 1f, D, 0, d, D, 0, d, 0f, G, 0, m);
    try {
      for (java.util.concurrent.Future<?> f : running) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while computing G", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("computing G failed", e.getCause());
    }
    return G;
  }

  /** Column blocks of G start at multiples of this (a multiple of every OpenBLAS single-precision tile width). */
  static final int GRAM_ALIGN = 48;

  /** Threads for G: the JVM's cores when each BLAS call is single-threaded, else 1 (OpenBLAS threads it). */
  static int gramThreads() {
    return "1".equals(System.getenv("OPENBLAS_NUM_THREADS")) ? Runtime.getRuntime().availableProcessors() : 1;
  }

  private static final java.util.concurrent.ExecutorService GRAM_POOL =
      java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "dbksvd-gram");
        t.setDaemon(true);
        return t;
      });

  /** y = alpha·op(A)·x + beta·y with A (rows × cols) column-major. */
  public static void sgemv(String trans, int rows, int cols, float alpha, float[] a, int offA, int lda,
      float[] x, int offX, float beta, float[] y, int offY) {
    blas().sgemv(trans, rows, cols, alpha, a, offA, lda, x, offX, 1, beta, y, offY, 1);
  }

  /** Dot product of x[offX..offX+n) and y[offY..offY+n), accumulated in double. */
  public static double dot(int n, float[] x, int offX, float[] y, int offY) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      s += (double) x[offX + i] * y[offY + i];
    }
    return s;
  }

  /** Squared norm of x[off..off+n), accumulated in double. */
  public static double sqNorm(int n, float[] x, int off) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      double v = x[off + i];
      s += v * v;
    }
    return s;
  }

  /** y[offY..] += a · x[offX..] (vectorised, the same bits as the scalar loop: {@link Simd#axpy}). */
  public static void axpy(int n, float a, float[] x, int offX, float[] y, int offY) {
    Simd.axpy(n, a, x, offX, y, offY);
  }

  /** Scales every column of D (d × m) to unit norm; a zero column is left as it is and reported. */
  public static int normalizeColumns(float[] D, int d, int m) {
    int zero = 0;
    for (int j = 0; j < m; j++) {
      double nrm = Math.sqrt(sqNorm(d, D, j * d));
      if (nrm == 0) {
        zero++;
        continue;
      }
      float inv = (float) (1.0 / nrm);
      for (int i = 0; i < d; i++) {
        D[j * d + i] *= inv;
      }
    }
    return zero;
  }
}
