package dbksvd.linalg;

import java.util.Arrays;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The float kernels of the encoders and of the K-SVD update, on the JDK Vector API ({@code jdk.incubator.vector},
 * in {@link SimdVector}) when the JVM has the module, else on the plain loops below ({@code *Scalar}). The choice
 * is made once per JVM and logged.
 *
 * <p>Determinism: every kernel gives the same bits on every call in a JVM, whatever the JIT has compiled so far.
 * Element-wise kernels (axpy, the encoders' updates, argmax) use exactly the arithmetic of the scalar loops they
 * replace (a product, then a sum or difference; no fused multiply-add), so the two paths agree bit for bit; E·v
 * ({@link #times}, new code) uses fused multiply-adds on both paths, also bit for bit. Reductions (dot products, Gram matrices) use fused multiply-adds in per-lane accumulators whose lanes are summed
 * in a fixed order; they agree with the scalar path to rounding only.
 *
 * <p>Matrices whose columns lie scattered in one array (the residual columns of the samples Ω of an atom, inside an
 * atom batch's block) are passed as the array A plus {@code off}: column i is {@code A[off[i] .. off[i] + d)}.
 */
public final class Simd {
  private static final Logger LOG = Logger.getLogger(Simd.class.getName());
  /** Why the scalar kernels are in use, for {@link #describe}; set by probe(), so declared (and not reset) first. */
  private static String scalarReason;
  /** True when the Vector API is usable; a static final, so the JIT drops the branch not taken. */
  static final boolean VECTOR = probe();

  private Simd() {}

  private static boolean probe() {
    if (Boolean.getBoolean("dbksvd.simd.scalar")) {
      scalarReason = "dbksvd.simd.scalar=true";
      LOG.info("SIMD: scalar kernels (dbksvd.simd.scalar=true)");
      return false;
    }
    try {
      LOG.fine("SIMD: Vector API, " + SimdVector.species());
      return true;
    } catch (LinkageError | RuntimeException e) {
      // the module is absent (no --add-modules=jdk.incubator.vector) or unusable: the plain loops
      scalarReason = "jdk.incubator.vector not available";
      LOG.log(Level.WARNING, "SIMD: jdk.incubator.vector is not available (" + e + "); using scalar kernels, "
          + "several times slower. Add --add-modules=jdk.incubator.vector to the JVM options.");
      return false;
    }
  }

  /** E.g. {@code "Vector API, FloatVector 512 bits (16 lanes)"}, or {@code "scalar"}. */
  public static String describe() {
    return VECTOR ? "Vector API, " + SimdVector.species() : "scalar (" + scalarReason + ")";
  }

  // ---------------------------------------------------------------------------------------------------------------
  // encoders

  /**
   * Index (relative to off) of the first entry of largest magnitude of {@code p[off .. off+len)} among those above
   * {@code floor}; -1 when none is. With floor = −1 every entry but NaN qualifies.
   */
  public static int argmaxAbs(float[] p, int off, int len, float floor) {
    return VECTOR ? SimdVector.argmaxAbs(p, off, len, floor) : argmaxAbsScalar(p, off, len, floor);
  }

  /**
   * The matching pursuit step: {@code p[i] −= a·g[i]} for i in [0, len) (p from pOff, g from gOff), then
   * {@code p[zero] = 0}; returns {@link #argmaxAbs}(p, pOff, len, −1) of the result, found in the same pass.
   */
  public static int subtractScaledArgmaxAbs(float[] p, int pOff, int len, float a, float[] g, int gOff, int zero) {
    if (!VECTOR) {
      return subtractScaledArgmaxAbsScalar(p, pOff, len, a, g, gOff, zero);
    }
    int best = SimdVector.subtractScaledMaxAbs(p, pOff, len, a, g, gOff);
    p[pOff + zero] = 0f;
    return SimdVector.locateAfterZero(p, pOff, len, best, -1f);
  }

  /**
   * {@link #subtractScaledArgmaxAbs} for two vectors at once (p1 at p1Off with a1 and the column at g1Off, p2 at
   * p2Off with a2, g2Off): the same bits as two calls, in one pass over both. Returns the two indices as
   * {@code (long) j1 << 32 | j2} (each as the single call returns it).
   */
  public static long subtractScaledArgmaxAbs2(float[] p, int p1Off, int p2Off, int len, float a1, float a2,
      float[] g, int g1Off, int g2Off, int zero1, int zero2) {
    if (!VECTOR) {
      int j1 = subtractScaledArgmaxAbsScalar(p, p1Off, len, a1, g, g1Off, zero1);
      int j2 = subtractScaledArgmaxAbsScalar(p, p2Off, len, a2, g, g2Off, zero2);
      return ((long) j1 << 32) | (j2 & 0xffffffffL);
    }
    long best = SimdVector.subtractScaledMaxAbs2(p, p1Off, p2Off, len, a1, a2, g, g1Off, g2Off);
    p[p1Off + zero1] = 0f;
    p[p2Off + zero2] = 0f;
    int j1 = SimdVector.locateAfterZero(p, p1Off, len, (int) (best >>> 32), -1f);
    int j2 = SimdVector.locateAfterZero(p, p2Off, len, (int) best, -1f);
    return ((long) j1 << 32) | (j2 & 0xffffffffL);
  }

  /**
   * Batch-OMP's correlation update {@code α = α⁰ − Σ_r γ_r·G[:, col_r]} for r = 0 .. size−1 (column r at
   * {@code G[colOff[r] ..]}; each term a product then a difference, in that order, as one pass per column would
   * do) in one pass over α; returns {@link #argmaxAbs}(α, aOff, len, 0) of the result.
   */
  public static int subtractColumnsArgmaxAbs(float[] alpha, int aOff, float[] alpha0, int len, float[] G,
      int[] colOff, float[] gamma, int size) {
    return VECTOR ? SimdVector.subtractColumnsArgmaxAbs(alpha, aOff, alpha0, len, G, colOff, gamma, size)
        : subtractColumnsArgmaxAbsScalar(alpha, aOff, alpha0, len, G, colOff, gamma, size);
  }

  static int argmaxAbsScalar(float[] p, int off, int len, float floor) {
    int best = -1;
    float bestAbs = floor;
    for (int i = 0; i < len; i++) {
      float v = Math.abs(p[off + i]);
      if (v > bestAbs) {
        bestAbs = v;
        best = i;
      }
    }
    return best;
  }

  static int subtractScaledArgmaxAbsScalar(float[] p, int pOff, int len, float a, float[] g, int gOff, int zero) {
    for (int i = 0; i < len; i++) {
      p[pOff + i] -= a * g[gOff + i];
    }
    p[pOff + zero] = 0f;
    return argmaxAbsScalar(p, pOff, len, -1f);
  }

  static int subtractColumnsArgmaxAbsScalar(float[] alpha, int aOff, float[] alpha0, int len, float[] G,
      int[] colOff, float[] gamma, int size) {
    System.arraycopy(alpha0, 0, alpha, aOff, len);
    for (int r = 0; r < size; r++) {
      float g = gamma[r];
      int col = colOff[r];
      for (int i = 0; i < len; i++) {
        alpha[aOff + i] -= g * G[col + i];
      }
    }
    return argmaxAbsScalar(alpha, aOff, len, 0f);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // element-wise: the same bits on both paths

  /** y[offY ..] += a·x[offX ..] over n entries. */
  public static void axpy(int n, float a, float[] x, int offX, float[] y, int offY) {
    if (VECTOR) {
      SimdVector.axpy(n, a, x, offX, y, offY);
    } else {
      axpyScalar(n, a, x, offX, y, offY);
    }
  }

  static void axpyScalar(int n, float a, float[] x, int offX, float[] y, int offY) {
    for (int i = 0; i < n; i++) {
      y[offY + i] += a * x[offX + i];
    }
  }

  /**
   * y[offY ..] += Σ_t a[t]·x_t over n entries, x_t = x[xOff[t] ..], t = 0 .. c−1 in order for every entry: the
   * bits of c {@link #axpy} calls, in one pass over y (four columns of x at a time).
   */
  public static void axpyColumns(int n, float[] a, float[] x, int[] xOff, int c, float[] y, int offY) {
    if (VECTOR) {
      SimdVector.axpyColumns(n, a, x, xOff, c, y, offY);
    } else {
      for (int t = 0; t < c; t++) {
        axpyScalar(n, a[t], x, xOff[t], y, offY);
      }
    }
  }

  /** y[offY ..] −= x[offX ..]·a over n entries. */
  public static void subtractScaled(int n, float a, float[] x, int offX, float[] y, int offY) {
    if (VECTOR) {
      SimdVector.subtractScaled(n, a, x, offX, y, offY);
    } else {
      subtractScaledScalar(n, a, x, offX, y, offY);
    }
  }

  static void subtractScaledScalar(int n, float a, float[] x, int offX, float[] y, int offY) {
    for (int i = 0; i < n; i++) {
      y[offY + i] -= x[offX + i] * a;
    }
  }

  /** y[offY ..] = a·x[offX ..] over n entries (x and y may be the same array at the same offset). */
  public static void scale(int n, float a, float[] x, int offX, float[] y, int offY) {
    if (VECTOR) {
      SimdVector.scale(n, a, x, offX, y, offY);
    } else {
      for (int i = 0; i < n; i++) {
        y[offY + i] = a * x[offX + i];
      }
    }
  }

  /**
   * w = E·v = Σ_i v_i·e_i (length d, at wOff; v from vOff): per entry, fused multiply-adds over the columns in
   * order, the same bits on both paths; eight columns per pass over w.
   */
  public static void times(float[] A, int[] off, int c, int d, float[] v, int vOff, float[] w, int wOff) {
    if (VECTOR) {
      SimdVector.times(A, off, c, d, v, vOff, w, wOff);
    } else {
      timesScalar(A, off, c, d, v, vOff, w, wOff);
    }
  }

  static void timesScalar(float[] A, int[] off, int c, int d, float[] v, int vOff, float[] w, int wOff) {
    Arrays.fill(w, wOff, wOff + d, 0f);
    for (int i = 0; i < c; i++) {
      float a = v[vOff + i];
      int o = off[i];
      for (int r = 0; r < d; r++) {
        w[wOff + r] = Math.fma(A[o + r], a, w[wOff + r]);
      }
    }
  }

  /**
   * 1.5·2^52: fma(a, x, C) − C is the exact product a·x rounded once to an integer, half to even, for |a·x| below
   * 2^51 (doubles in (2^52, 2^53) are the integers there).
   */
  static final double ROUND = 6755399441055744.0;

  /**
   * acc[offAcc ..] += round(a·x[offX ..]) over n entries, each exact product a·x_i rounded once to an integer, half
   * to even (one fused multiply-add); every |a·x_i| must be below 2^51 and every sum below 2^53, so that the sums
   * are exact and do not depend on the order of the additions. The same bits on both paths.
   */
  public static void addRounded(int n, double a, float[] x, int offX, double[] acc, int offAcc) {
    if (VECTOR) {
      SimdVector.addRounded(n, a, x, offX, acc, offAcc);
    } else {
      addRoundedScalar(n, a, x, offX, acc, offAcc);
    }
  }

  /**
   * acc[accOff ..] += Σ_i round(a_i·A_col_i) over the c columns A[off[i] .. off[i] + d), each product rounded as in
   * {@link #addRounded}; the sums are exact, so the grouping of columns (four per pass over acc) changes no bit.
   */
  public static void addRoundedColumns(float[] A, int[] off, int c, int d, double[] a, double[] acc, int accOff) {
    if (VECTOR) {
      SimdVector.addRoundedColumns(A, off, c, d, a, acc, accOff);
    } else {
      for (int i = 0; i < c; i++) {
        addRoundedScalar(d, a[i], A, off[i], acc, accOff);
      }
    }
  }

  /** The exact product a·b rounded once to an integer, half to even, for |a·b| below 2^51 (as {@link #addRounded}). */
  public static double roundedProduct(double a, double b) {
    return Math.fma(a, b, ROUND) - ROUND;
  }

  static void addRoundedScalar(int n, double a, float[] x, int offX, double[] acc, int offAcc) {
    for (int i = 0; i < n; i++) {
      acc[offAcc + i] += roundedProduct(a, x[offX + i]);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // reductions: fused multiply-adds, lanes summed in a fixed order

  /** Σ x_i·y_i over n entries. */
  public static double dot(int n, float[] x, int offX, float[] y, int offY) {
    return VECTOR ? SimdVector.dot(n, x, offX, y, offY) : dotScalar(n, x, offX, y, offY);
  }

  static double dotScalar(int n, float[] x, int offX, float[] y, int offY) {
    float s = 0f;
    for (int i = 0; i < n; i++) {
      s = Math.fma(x[offX + i], y[offY + i], s);
    }
    return s;
  }

  /**
   * Σ x_i² over n entries in double, four partial sums (entries i mod 4) added at the end: the loop is not bound by
   * the latency of one chain of double additions. Plain Java: no widening vector conversions, which C2 sometimes
   * leaves out of line.
   */
  public static double sumOfSquares(int n, float[] x, int off) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
      double a = x[off + i], b = x[off + i + 1], c = x[off + i + 2], e = x[off + i + 3];
      s0 += a * a;
      s1 += b * b;
      s2 += c * c;
      s3 += e * e;
    }
    for (; i < n; i++) {
      double a = x[off + i];
      s0 += a * a;
    }
    return (s0 + s1) + (s2 + s3);
  }

  /**
   * K = EᵀE (c × c, row-major, both triangles) for E = the c columns A[off[i] .. off[i]+d); with u not null, also
   * s = Eᵀu (length c) in the same pass.
   */
  public static void gram(float[] A, int[] off, int c, int d, double[] K, float[] u, float[] s) {
    if (VECTOR) {
      SimdVector.gram(A, off, c, d, K, u, s);
    } else {
      gramScalar(A, off, c, d, K);
      if (u != null) {
        transposeTimes(A, off, c, d, u, 0, s);
      }
    }
  }

  static void gramScalar(float[] A, int[] off, int c, int d, double[] K) {
    for (int i = 0; i < c; i++) {
      for (int j = i; j < c; j++) {
        double v = dotScalar(d, A, off[i], A, off[j]);
        K[i * c + j] = v;
        K[j * c + i] = v;
      }
    }
  }

  /**
   * s_i = e_iᵀq for the c columns of E (q from qOff). Each s_i depends on its column and q only, not on the other
   * columns or its position among them (the Jacobi update relies on it: a sample's term is the same in any block).
   */
  public static void transposeTimes(float[] A, int[] off, int c, int d, float[] q, int qOff, float[] s) {
    if (VECTOR) {
      SimdVector.transposeTimes(A, off, c, d, q, qOff, s);
      return;
    }
    for (int i = 0; i < c; i++) {
      s[i] = (float) dotScalar(d, A, off[i], q, qOff);
    }
  }

  /**
   * A Lanczos step on EEᵀ: s = Eᵀq, then w = E·s (w overwritten, length d), by blocks of columns that stay in L2
   * between the two uses, eight columns per pass over q or w (about 2× faster than a dot product and an axpy per
   * column, whose loads per FMA are twice as many). The same bits as {@link #transposeTimes} then {@link #times}.
   */
  public static void gramTimes(float[] A, int[] off, int c, int d, float[] q, int qOff, float[] w, float[] s) {
    if (VECTOR) {
      SimdVector.gramTimes(A, off, c, d, q, qOff, w, s);
    } else {
      transposeTimes(A, off, c, d, q, qOff, s);
      times(A, off, c, d, s, 0, w, 0);
    }
  }

  /**
   * The rank-1 downdate that ends a K-SVD atom update, in one pass over E: x_i = e_iᵀu, then e_i −= u·x_i.
   */
  public static void projectOut(float[] A, int[] off, int c, int d, float[] u, float[] x) {
    for (int i = 0; i < c; i++) {
      int o = off[i];
      float xi = (float) dot(d, A, o, u, 0);
      x[i] = xi;
      subtractScaled(d, xi, u, 0, A, o);
    }
  }
}
