package dbksvd.update;

import dbksvd.linalg.Blas;
import dbksvd.linalg.SymmetricEigen;

/**
 * The top singular triplet (σ, u, v) of a dense E (rows × cols, column-major float) by restarted Lanczos with full
 * reorthogonalisation on the smaller of EᵀE and EEᵀ, started from a given left vector (the current atom). Never a
 * full SVD: each step is two matrix-vector products with E. When the Krylov space exhausts the rank of E (always
 * when min(rows, cols) ≤ maxKrylov) the result is exact to rounding.
 *
 * @param maxKrylov Krylov dimension per restart
 * @param maxRestarts restarts before giving up on the tolerance (the result is then the best Ritz vector)
 * @param tol relative residual of the Ritz pair, ‖A s − θ s‖ ≤ tol·θ
 */
public record TopSingularTriplet(int maxKrylov, int maxRestarts, double tol) implements java.io.Serializable {
  public static final TopSingularTriplet DEFAULT = new TopSingularTriplet(24, 20, 1e-7);

  public TopSingularTriplet {
    if (maxKrylov < 2 || maxRestarts < 1 || !(tol > 0)) {
      throw new IllegalArgumentException("bad Lanczos settings " + maxKrylov + ", " + maxRestarts + ", " + tol);
    }
  }

  /** Work space, grown on demand; one per thread. */
  public static final class Scratch {
    float[] Q = new float[0];
    float[] w = new float[0];
    float[] t = new float[0];

    float[] grow(float[] a, int n) {
      return a.length >= n ? a : new float[n];
    }
  }

  /**
   * Computes the top triplet. Writes u (unit, length rows) to {@code u} and x = Eᵀu = σ·v (length cols) to
   * {@code x}; the sign makes the entry of u of largest magnitude positive. The start vector is read from
   * {@code u} on entry. Returns σ (0 when E is zero; u is then left as it was and x is zero).
   */
  public double compute(float[] E, int rows, int cols, float[] u, float[] x, Scratch sc) {
    boolean onCols = cols < rows; // Lanczos on EᵀE (cols × cols) when that is smaller
    int dim = onCols ? cols : rows;
    int lmax = Math.min(dim, maxKrylov);
    sc.Q = sc.grow(sc.Q, dim * (lmax + 1));
    sc.w = sc.grow(sc.w, dim);
    sc.t = sc.grow(sc.t, Math.max(rows, cols));
    float[] Q = sc.Q, w = sc.w, t = sc.t;

    // start vector
    if (onCols) {
      Blas.sgemv("T", rows, cols, 1f, E, 0, rows, u, 0, 0f, Q, 0);
    } else {
      System.arraycopy(u, 0, Q, 0, rows);
    }
    double nrm = Math.sqrt(Blas.sqNorm(dim, Q, 0));
    boolean orthogonal = !(nrm > 0) || !Double.isFinite(nrm);
    if (!orthogonal && !onCols) {
      // on EEᵀ the start is u itself, non-zero even when Eᵀu = 0: Lanczos would then stop at θ = 0 and report
      // σ = 0 for a non-zero E. Check Eᵀu explicitly.
      Blas.sgemv("T", rows, cols, 1f, E, 0, rows, u, 0, 0f, t, 0);
      double tn = Blas.sqNorm(cols, t, 0);
      orthogonal = !(tn > 0) || !Double.isFinite(tn);
    }
    if (orthogonal) {
      // the start is orthogonal to E's range: start from E's largest column (or row) direction
      int best = 0;
      double bestN = -1;
      for (int c = 0; c < cols; c++) {
        double cn = Blas.sqNorm(rows, E, c * rows);
        if (cn > bestN) {
          bestN = cn;
          best = c;
        }
      }
      if (!(bestN > 0)) {
        java.util.Arrays.fill(x, 0, cols, 0f);
        return 0;
      }
      java.util.Arrays.fill(Q, 0, dim, 0f);
      if (onCols) {
        Q[best] = 1f;
      } else {
        System.arraycopy(E, best * rows, Q, 0, rows);
      }
      nrm = Math.sqrt(Blas.sqNorm(dim, Q, 0));
    }
    scale(Q, 0, dim, 1.0 / nrm);

    double[] T = new double[lmax * lmax];
    double[] V = new double[lmax * lmax];
    double[] alpha = new double[lmax];
    double[] beta = new double[lmax];
    double theta = 0;
    for (int restart = 0; restart < maxRestarts; restart++) {
      int l = 0;
      boolean exhausted = false;
      for (int i = 0; i < lmax; i++) {
        applyGram(E, rows, cols, onCols, Q, i * dim, w, t);
        alpha[i] = Blas.dot(dim, Q, i * dim, w, 0);
        // full reorthogonalisation against every Lanczos vector so far, twice
        for (int pass = 0; pass < 2; pass++) {
          for (int j = 0; j <= i; j++) {
            double c = Blas.dot(dim, Q, j * dim, w, 0);
            Blas.axpy(dim, (float) -c, Q, j * dim, w, 0);
          }
        }
        l = i + 1;
        double b = Math.sqrt(Blas.sqNorm(dim, w, 0));
        beta[i] = b;
        if (b <= 1e-6 * Math.max(Math.abs(alpha[0]), Math.abs(alpha[i])) || i + 1 == dim) {
          exhausted = true;
          break;
        }
        if (i + 1 < lmax) {
          for (int r = 0; r < dim; r++) {
            Q[(i + 1) * dim + r] = (float) (w[r] / b);
          }
        }
      }
      java.util.Arrays.fill(T, 0, l * l, 0);
      for (int i = 0; i < l; i++) {
        T[i * l + i] = alpha[i];
        if (i + 1 < l) {
          T[i * l + i + 1] = beta[i];
          T[(i + 1) * l + i] = beta[i];
        }
      }
      double[] values = SymmetricEigen.decompose(T, l, V);
      int top = 0;
      for (int i = 1; i < l; i++) {
        if (values[i] > values[top]) {
          top = i;
        }
      }
      theta = values[top];
      double residual = Math.abs(beta[l - 1] * V[(l - 1) * l + top]);
      // Ritz vector y = Q s  → first Lanczos vector of the next restart
      java.util.Arrays.fill(t, 0, dim, 0f);
      for (int i = 0; i < l; i++) {
        Blas.axpy(dim, (float) V[i * l + top], Q, i * dim, t, 0);
      }
      double yn = Math.sqrt(Blas.sqNorm(dim, t, 0));
      for (int r = 0; r < dim; r++) {
        Q[r] = (float) (t[r] / yn);
      }
      if (exhausted || residual <= tol * Math.abs(theta) || !(theta > 0)) {
        break;
      }
    }
    if (!(theta > 0)) {
      java.util.Arrays.fill(x, 0, cols, 0f);
      return 0;
    }
    // left vector u, then x = Eᵀu (the coefficients that best fit E for this u)
    if (onCols) {
      Blas.sgemv("N", rows, cols, 1f, E, 0, rows, Q, 0, 0f, u, 0);
      double un = Math.sqrt(Blas.sqNorm(rows, u, 0));
      scale(u, 0, rows, 1.0 / un);
    } else {
      System.arraycopy(Q, 0, u, 0, rows);
    }
    int big = 0;
    for (int r = 1; r < rows; r++) {
      if (Math.abs(u[r]) > Math.abs(u[big])) {
        big = r;
      }
    }
    if (u[big] < 0) {
      scale(u, 0, rows, -1.0);
    }
    Blas.sgemv("T", rows, cols, 1f, E, 0, rows, u, 0, 0f, x, 0);
    return Math.sqrt(Blas.sqNorm(cols, x, 0));
  }

  /** w = A q with A = EᵀE (onCols) or EEᵀ, through a temporary t. */
  private static void applyGram(float[] E, int rows, int cols, boolean onCols, float[] Q, int qOff, float[] w,
      float[] t) {
    if (onCols) {
      Blas.sgemv("N", rows, cols, 1f, E, 0, rows, Q, qOff, 0f, t, 0);
      Blas.sgemv("T", rows, cols, 1f, E, 0, rows, t, 0, 0f, w, 0);
    } else {
      Blas.sgemv("T", rows, cols, 1f, E, 0, rows, Q, qOff, 0f, t, 0);
      Blas.sgemv("N", rows, cols, 1f, E, 0, rows, t, 0, 0f, w, 0);
    }
  }

  private static void scale(float[] a, int off, int n, double f) {
    for (int i = 0; i < n; i++) {
      a[off + i] = (float) (a[off + i] * f);
    }
  }
}
