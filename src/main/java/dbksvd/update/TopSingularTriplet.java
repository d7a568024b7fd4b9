package dbksvd.update;

import dbksvd.linalg.Blas;
import dbksvd.linalg.Simd;
import dbksvd.linalg.SymmetricEigen;
import java.util.Arrays;

/**
 * The top singular triplet (σ, u, v) of a dense float E (rows × cols), started from a left vector u₀ (in K-SVD, the
 * current atom). Never a full SVD. The shape alone picks one of two paths, so equal inputs give equal bits:
 *
 * <ul>
 *   <li><b>Gram path</b>, min(rows, cols) ≤ {@link #GRAM_MAX} (in K-SVD: |Ω| small): K = EᵀE (or EEᵀ) by one
 *       register-tiled pass ({@link Simd#gram}), then Lanczos on K, where a step costs |Ω|² and touches no column of
 *       E, run until the Ritz pair is at float resolution; then u = Ev/‖Ev‖. Exact to rounding.
 *   <li><b>Lanczos path</b> otherwise: Lanczos on EEᵀ (vectors of length rows) from u₀, two passes over E per step
 *       ({@link Simd#gramTimes}: Eᵀq, then E·(Eᵀq), eight columns at a time), full reorthogonalisation,
 *       the Ritz pair tested after every step, so that a good start (an atom that already fits) stops after a few
 *       steps; restarted from the Ritz vector after maxKrylov steps.
 * </ul>
 *
 * Both paths guard against a Krylov space that closes (breakdown) before it reaches the top: the eigenvalues of the
 * operator left out of the space sum to trace − Σα ≥ each of them, so θ is the top when that is ≤ θ; otherwise the
 * iteration continues from a fresh direction (a column of E, or of K, orthogonal to the space). This also covers a
 * start orthogonal to E's range.
 *
 * @param maxKrylov Krylov dimension per restart on the Lanczos path
 * @param maxRestarts restarts before giving up on the tolerance (the result is then the best Ritz vector)
 * @param tol relative residual of the Ritz pair, ‖A s − θ s‖ ≤ tol·θ, on the Lanczos path (A = EEᵀ); the sine of
 *     the angle between u and the top singular vector is about tol / (1 − σ₂²/σ₁²)
 */
public record TopSingularTriplet(int maxKrylov, int maxRestarts, double tol) implements java.io.Serializable {
  public static final TopSingularTriplet DEFAULT = new TopSingularTriplet(24, 20, 1e-7);

  /**
   * The Gram path up to this many columns (or rows). Forming K costs |Ω|²·d/2 multiply-adds, at about twice the
   * rate per multiply-add of a Lanczos step on E, which costs 2·|Ω|·d; the Lanczos path needs 9 to 13 steps (tol
   * 1e-5 to 1e-7) on the first iteration of bench-core's data. Measured at d = 2304: the Gram path is 1.5× faster
   * at |Ω| ≈ 40, about even at |Ω| ≈ 80.
   */
  public static final int GRAM_MAX = 64;
  /** Tolerance of the Lanczos iteration on K: its steps are cheap, so it runs to float resolution. */
  static final double GRAM_TOL = 1e-7;
  /** β below this times the largest α: the Krylov space is invariant to float resolution. */
  static final double BREAKDOWN = 1e-6;

  public TopSingularTriplet {
    if (maxKrylov < 2 || maxRestarts < 1 || !(tol > 0)) {
      throw new IllegalArgumentException("bad Lanczos settings " + maxKrylov + ", " + maxRestarts + ", " + tol);
    }
  }

  /** Work space, grown on demand, and counters for the benchmark; one per thread. */
  public static final class Scratch {
    float[] Q = new float[0];
    float[] w = new float[0];
    float[] s = new float[0];
    float[] zf = new float[0];
    int[] off = new int[0];
    int[] qOff = new int[0];
    double[] K = new double[0];
    /** K in float, and the offsets of its columns, for the vectorised K·q. */
    float[] Kf = new float[0];
    int[] kOff = new int[0];
    double[] alpha = new double[0];
    double[] beta = new double[0];
    double[] tDiag = new double[0];
    double[] tOff = new double[0];
    double[] Z = new double[0];
    double[] work = new double[0];
    /** The top Ritz value found by the last {@code topRitz}. */
    double theta;

    /** Calls, calls on the Gram path, operator applications, restarts, fresh directions after a breakdown. */
    public long calls, gramCalls, steps, restarts, freshStarts;
    /** When true, {@link AtomBatchUpdate} adds its time per phase to the fields below. */
    public boolean profile;
    /** Nanoseconds forming E in place, in the solver, and in the final downdate R = E − u·xᵀ. */
    public long formNanos, solveNanos, downdateNanos;
    /** Of the solver's time: forming K on the Gram path (the rest is Lanczos, on K or on E, and u = Ev). */
    public long gramNanos;

    /** Makes room for vectors of length dim, a Krylov space of lmax, cols columns and a Gram matrix of g × g. */
    void ensure(int dim, int lmax, int cols, int g) {
      if (Q.length < dim * (lmax + 1)) {
        Q = new float[dim * (lmax + 1)];
      }
      if (w.length < dim) {
        w = new float[dim];
      }
      if (s.length < cols) {
        s = new float[cols];
      }
      if (K.length < g * g) {
        K = new double[g * g];
        Kf = new float[g * g];
        kOff = new int[g];
      }
      if (alpha.length < lmax + 1) {
        alpha = new double[lmax + 1];
        beta = new double[lmax + 1];
        tDiag = new double[lmax + 1];
        tOff = new double[lmax + 1];
        zf = new float[lmax + 1];
        qOff = new int[lmax + 1];
      }
      if (Z.length < lmax + 1) {
        Z = new double[lmax + 1];
        work = new double[5 * (lmax + 1)];
      }
    }

    int[] offsets(int cols, int rows) {
      if (off.length < cols) {
        off = new int[cols];
      }
      for (int c = 0; c < cols; c++) {
        off[c] = c * rows;
      }
      return off;
    }
  }

  /**
   * Computes the top triplet. Writes u (unit, length rows) to {@code u} and x = Eᵀu = σ·v (length cols) to
   * {@code x}; the sign makes the entry of u of largest magnitude positive. The start vector is read from
   * {@code u} on entry. Returns σ (0 when E is zero; u is then left as it was and x is zero).
   */
  public double compute(float[] E, int rows, int cols, float[] u, float[] x, Scratch sc) {
    int[] off = sc.offsets(cols, rows);
    if (!topLeft(E, off, rows, cols, u, sc)) {
      Arrays.fill(x, 0, cols, 0f);
      return 0;
    }
    Simd.transposeTimes(E, off, cols, rows, u, 0, x);
    return Math.sqrt(Blas.sqNorm(cols, x, 0));
  }

  /**
   * The top left singular vector u of E whose column c is {@code A[off[c] .. off[c] + rows)} (columns anywhere in A,
   * e.g. the residuals of the samples Ω inside an atom batch's block), started from {@code u}, where it is written:
   * unit, its entry of largest magnitude positive. Returns false, leaving u as it was, when E is zero.
   */
  public boolean topLeft(float[] A, int[] off, int rows, int cols, float[] u, Scratch sc) {
    sc.calls++;
    boolean ok;
    if (Math.min(rows, cols) <= GRAM_MAX) {
      sc.gramCalls++;
      ok = cols <= rows ? gramTall(A, off, rows, cols, u, sc) : gramWide(A, off, rows, cols, u, sc);
    } else {
      ok = lanczosRows(A, off, rows, cols, u, sc);
    }
    if (!ok) {
      return false;
    }
    int big = 0;
    for (int r = 1; r < rows; r++) {
      if (Math.abs(u[r]) > Math.abs(u[big])) {
        big = r;
      }
    }
    if (u[big] < 0) {
      for (int r = 0; r < rows; r++) {
        u[r] = -u[r];
      }
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // the two paths

  /** cols ≤ rows, cols ≤ GRAM_MAX: Lanczos on K = EᵀE from v₀ = Eᵀu₀, then u = Ev/‖Ev‖. */
  private boolean gramTall(float[] A, int[] off, int rows, int cols, float[] u, Scratch sc) {
    final int c = cols;
    sc.ensure(c, c, c, c);
    double[] K = sc.K;
    long t0 = sc.profile ? System.nanoTime() : 0;
    Simd.gram(A, off, c, rows, K, u, sc.Q); // and v₀ = Eᵀu₀, the start
    if (sc.profile) {
      sc.gramNanos += System.nanoTime() - t0;
    }
    double trace = 0;
    for (int i = 0; i < c; i++) {
      trace += K[i * c + i];
    }
    if (!(trace > 0)) {
      return false; // E = 0 (or not finite)
    }
    startOrLargestDiagonal(sc, c, K, c);
    double theta = lanczos(sc, null, null, 0, 0, floatK(sc, c), c, c, 1, GRAM_TOL, trace);
    if (!(theta > 0)) {
      return false;
    }
    Simd.times(A, off, c, rows, sc.Q, 0, u, 0);
    return normalize(u, rows);
  }

  /** rows < cols, rows ≤ GRAM_MAX: Lanczos on K = EEᵀ from u₀; u is the Ritz vector. */
  private boolean gramWide(float[] A, int[] off, int rows, int cols, float[] u, Scratch sc) {
    final int d = rows;
    sc.ensure(d, d, cols, d);
    double[] K = sc.K;
    Arrays.fill(K, 0, d * d, 0);
    for (int c = 0; c < cols; c++) { // K += e_c e_cᵀ, lower triangle
      int o = off[c];
      for (int i = 0; i < d; i++) {
        double ei = A[o + i];
        for (int j = 0; j <= i; j++) {
          K[i * d + j] += ei * A[o + j];
        }
      }
    }
    double trace = 0;
    for (int i = 0; i < d; i++) {
      trace += K[i * d + i];
      for (int j = 0; j < i; j++) {
        K[j * d + i] = K[i * d + j];
      }
    }
    if (!(trace > 0)) {
      return false;
    }
    System.arraycopy(u, 0, sc.Q, 0, d);
    startOrLargestDiagonal(sc, d, K, d);
    double theta = lanczos(sc, null, null, 0, 0, floatK(sc, d), d, d, 1, GRAM_TOL, trace);
    if (!(theta > 0)) {
      return false;
    }
    System.arraycopy(sc.Q, 0, u, 0, d);
    return normalize(u, d);
  }

  /** min(rows, cols) > GRAM_MAX: Lanczos on EEᵀ from u₀, E read twice per step ({@link Simd#gramTimes}). */
  private boolean lanczosRows(float[] A, int[] off, int rows, int cols, float[] u, Scratch sc) {
    int lmax = Math.min(rows, maxKrylov);
    sc.ensure(rows, lmax, cols, 0);
    System.arraycopy(u, 0, sc.Q, 0, rows);
    double nrm = Math.sqrt(Blas.sqNorm(rows, sc.Q, 0));
    if (!(nrm > 0) || !Double.isFinite(nrm)) {
      // no usable start: the largest column of E
      int best = -1;
      double bestN = 0;
      for (int c = 0; c < cols; c++) {
        double cn = Simd.dot(rows, A, off[c], A, off[c]);
        if (cn > bestN) {
          bestN = cn;
          best = c;
        }
      }
      if (best < 0) {
        return false;
      }
      System.arraycopy(A, off[best], sc.Q, 0, rows);
      nrm = Math.sqrt(bestN);
    }
    Simd.scale(rows, (float) (1.0 / nrm), sc.Q, 0, sc.Q, 0);
    // the trace (‖E‖_F²) is computed if a breakdown needs it: NaN until then
    double theta = lanczos(sc, A, off, rows, cols, null, rows, lmax, maxRestarts, tol, Double.NaN);
    if (!(theta > 0)) {
      return false;
    }
    System.arraycopy(sc.Q, 0, u, 0, rows);
    return normalize(u, rows);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Lanczos

  /**
   * Lanczos with full reorthogonalisation for the top eigenpair of a positive semi-definite operator: K (dim × dim,
   * when not null) or EEᵀ for E given by (A, off, rows, cols). Starts from the unit vector in Q[0 .. dim), leaves
   * the unit Ritz vector there and returns θ (≤ 0 when the operator is zero).
   */
  private double lanczos(Scratch sc, float[] A, int[] off, int rows, int cols, float[] K, int dim, int lmax,
      int restarts, double tolerance, double trace) {
    // on K a step is cheap next to the convergence test (an O(l²) eigenvalue problem with a serial chain of square
    // roots and divisions): test every 4th step from the 8th only
    final float[] Q = sc.Q, w = sc.w;
    final double[] alpha = sc.alpha, beta = sc.beta;
    double theta = 0;
    for (int restart = 0; restart < restarts; restart++) {
      if (restart > 0) {
        sc.restarts++;
      }
      int l = 0;
      double sumAlpha = 0, scale = 0;
      boolean done = false;
      int testedAt = -1; // the l of the last topRitz, whose θ the Ritz vector can reuse
      for (int i = 0; i < lmax; i++) {
        sc.steps++;
        double a;
        if (K != null) {
          Simd.times(K, sc.kOff, dim, dim, Q, i * dim, w, 0); // K symmetric: column j is row j
          a = Simd.dot(dim, Q, i * dim, w, 0);
        } else {
          Simd.gramTimes(A, off, cols, rows, Q, i * dim, w, sc.s);
          a = Blas.sqNorm(cols, sc.s, 0); // qᵀEEᵀq = ‖Eᵀq‖², never negative
        }
        alpha[i] = a;
        sumAlpha += a;
        scale = Math.max(scale, Math.abs(a));
        // the three-term recurrence, then full reorthogonalisation against every Lanczos vector so far: one pass,
        // and a second only when the first removed most of what was left (the DGKS test; twice is enough)
        Simd.axpy(dim, (float) -a, Q, i * dim, w, 0);
        if (i > 0) {
          Simd.axpy(dim, (float) -beta[i - 1], Q, (i - 1) * dim, w, 0);
        }
        double n2 = Simd.dot(dim, w, 0, w, 0);
        for (int pass = 0; pass < 2; pass++) {
          for (int j = 0; j <= i; j++) {
            float cj = (float) Simd.dot(dim, Q, j * dim, w, 0);
            Simd.axpy(dim, -cj, Q, j * dim, w, 0);
          }
          double after = Simd.dot(dim, w, 0, w, 0);
          boolean enough = after >= 0.5 * n2;
          n2 = after;
          if (enough) {
            break;
          }
        }
        double b = Math.sqrt(n2);
        beta[i] = b;
        l = i + 1;
        if (l == dim) {
          done = true; // the space is the whole space: exact
          break;
        }
        boolean breakdown = b <= BREAKDOWN * scale;
        if (!breakdown && K != null && (l < 8 || l % 4 != 0)) {
          Simd.scale(dim, (float) (1.0 / b), w, 0, Q, (i + 1) * dim); // (l < dim ≤ lmax)
          continue;
        }
        double residual = topRitz(sc, l);
        theta = sc.theta;
        testedAt = l;
        if (breakdown) {
          // the space is invariant; the eigenvalues outside it sum to trace − Σα, so none exceeds θ if that does not
          if (Double.isNaN(trace)) {
            trace = 0; // EEᵀ: ‖E‖_F², needed only here
            for (int c = 0; c < cols; c++) {
              trace += Simd.dot(rows, A, off[c], A, off[c]);
            }
          }
          if (trace - sumAlpha <= theta + 1e-6 * trace) {
            done = true;
            break;
          }
          if (i + 1 == lmax || !freshDirection(sc, A, off, rows, cols, K, dim, i + 1, trace)) {
            done = i + 1 < lmax;
            break;
          }
          sc.freshStarts++;
          beta[i] = 0; // T is block diagonal from here
          continue;
        }
        if (residual <= tolerance * theta) {
          done = true;
          break;
        }
        if (i + 1 < lmax) {
          Simd.scale(dim, (float) (1.0 / b), w, 0, Q, (i + 1) * dim);
        }
      }
      theta = ritzVector(sc, l, dim, testedAt == l ? theta : Double.NaN);
      if (done || !(theta > 0)) {
        break;
      }
    }
    return theta;
  }

  /** K in float, with its column offsets, for {@link Simd#times}. */
  private static float[] floatK(Scratch sc, int dim) {
    for (int i = 0; i < dim * dim; i++) {
      sc.Kf[i] = (float) sc.K[i];
    }
    for (int j = 0; j < dim; j++) {
      sc.kOff[j] = j * dim;
    }
    return sc.Kf;
  }

  /**
   * The top Ritz value of T_l (tridiagonal: alpha, beta) into sc.theta, and the residual ‖Aỹ − θỹ‖ = β_l·|s_l| of its
   * Ritz vector, from the last components of T's eigenvectors only (O(l²)).
   */
  private static double topRitz(Scratch sc, int l) {
    System.arraycopy(sc.alpha, 0, sc.tDiag, 0, l);
    System.arraycopy(sc.beta, 0, sc.tOff, 0, l);
    double[] z = sc.Z;
    Arrays.fill(z, 0, l, 0);
    z[l - 1] = 1;
    SymmetricEigen.tridiagonal(sc.tDiag, sc.tOff, l, z, 1);
    int top = 0;
    for (int i = 1; i < l; i++) {
      if (sc.tDiag[i] > sc.tDiag[top]) {
        top = i;
      }
    }
    sc.theta = sc.tDiag[top];
    return Math.abs(sc.beta[l - 1] * z[top]);
  }

  /**
   * Q[0 .. dim) ← the unit Ritz vector of the top Ritz value of T_l, which it returns: that value as {@link #topRitz}
   * found it (known, unless NaN), then the eigenvector by inverse iteration (O(l), where the eigenvector matrix is
   * O(l³)).
   */
  private static double ritzVector(Scratch sc, int l, int dim, double known) {
    double theta = known;
    if (Double.isNaN(theta)) {
      System.arraycopy(sc.alpha, 0, sc.tDiag, 0, l);
      System.arraycopy(sc.beta, 0, sc.tOff, 0, l);
      SymmetricEigen.tridiagonal(sc.tDiag, sc.tOff, l, sc.Z, 0);
      int top = 0;
      for (int i = 1; i < l; i++) {
        if (sc.tDiag[i] > sc.tDiag[top]) {
          top = i;
        }
      }
      theta = sc.tDiag[top];
    }
    System.arraycopy(sc.beta, 0, sc.tOff, 0, l);
    SymmetricEigen.tridiagonalEigenvector(sc.alpha, sc.tOff, l, theta, sc.Z, sc.work);
    for (int i = 0; i < l; i++) {
      sc.zf[i] = (float) sc.Z[i];
      sc.qOff[i] = i * dim;
    }
    Simd.times(sc.Q, sc.qOff, l, dim, sc.zf, 0, sc.w, 0);
    double yn = Math.sqrt(Simd.dot(dim, sc.w, 0, sc.w, 0));
    if (yn > 0) {
      Simd.scale(dim, (float) (1.0 / yn), sc.w, 0, sc.Q, 0);
    }
    return theta;
  }

  /**
   * After a breakdown at step i: Q_i ← the candidate (a column of E, or of K) farthest from span(Q_0 .. Q_{i−1}),
   * orthogonalised and normalised. False when every candidate lies in the span (to float resolution).
   */
  private static boolean freshDirection(Scratch sc, float[] A, int[] off, int rows, int cols, float[] K, int dim,
      int i, double trace) {
    int best = -1;
    double bestN = 1e-10 * trace;
    for (int c = 0; c < (K != null ? dim : cols); c++) {
      double n2 = projectedCandidate(sc, A, off, rows, K, dim, i, c);
      if (n2 > bestN) {
        bestN = n2;
        best = c;
      }
    }
    if (best < 0) {
      return false;
    }
    double n2 = projectedCandidate(sc, A, off, rows, K, dim, i, best);
    Simd.scale(dim, (float) (1.0 / Math.sqrt(n2)), sc.w, 0, sc.Q, i * dim);
    return true;
  }

  /** w ← candidate c with its components on Q_0 .. Q_{i−1} removed (twice); returns ‖w‖². */
  private static double projectedCandidate(Scratch sc, float[] A, int[] off, int rows, float[] K, int dim, int i,
      int c) {
    float[] Q = sc.Q, w = sc.w;
    if (K != null) {
      System.arraycopy(K, c * dim, w, 0, dim);
    } else {
      System.arraycopy(A, off[c], w, 0, rows);
    }
    for (int pass = 0; pass < 2; pass++) {
      for (int j = 0; j < i; j++) {
        float cj = (float) Simd.dot(dim, Q, j * dim, w, 0);
        Simd.axpy(dim, -cj, Q, j * dim, w, 0);
      }
    }
    return Simd.dot(dim, w, 0, w, 0);
  }

  /** Normalises the start in Q[0 .. dim); if it is zero (or not finite), e_i for the largest K_ii instead. */
  private static void startOrLargestDiagonal(Scratch sc, int dim, double[] K, int k) {
    double nrm = Math.sqrt(Blas.sqNorm(dim, sc.Q, 0));
    if (nrm > 0 && Double.isFinite(nrm)) {
      Simd.scale(dim, (float) (1.0 / nrm), sc.Q, 0, sc.Q, 0);
      return;
    }
    int best = 0;
    for (int i = 1; i < dim; i++) {
      if (K[i * k + i] > K[best * k + best]) {
        best = i;
      }
    }
    Arrays.fill(sc.Q, 0, dim, 0f);
    sc.Q[best] = 1f;
  }

  private static boolean normalize(float[] u, int n) {
    double un = Math.sqrt(Blas.sqNorm(n, u, 0));
    if (!(un > 0) || !Double.isFinite(un)) {
      return false;
    }
    Simd.scale(n, (float) (1.0 / un), u, 0, u, 0);
    return true;
  }
}
