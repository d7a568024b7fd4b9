package dbksvd.linalg;

/** Eigen-decomposition of small dense symmetric matrices (cyclic Jacobi rotations, double precision). */
public final class SymmetricEigen {
  private SymmetricEigen() {}

  /**
   * Eigenvalues and eigenvectors of the symmetric n × n matrix A (row-major, destroyed).
   *
   * @param vectors receives the eigenvectors as columns (row-major n × n): column i pairs with the i-th value
   * @return the eigenvalues, unsorted
   */
  public static double[] decompose(double[] A, int n, double[] vectors) {
    for (int i = 0; i < n * n; i++) {
      vectors[i] = 0;
    }
    for (int i = 0; i < n; i++) {
      vectors[i * n + i] = 1;
    }
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0, diag = 0;
      for (int p = 0; p < n; p++) {
        diag += A[p * n + p] * A[p * n + p];
        for (int q = p + 1; q < n; q++) {
          off += A[p * n + q] * A[p * n + q];
        }
      }
      if (off <= 1e-30 * diag || off == 0) {
        break;
      }
      for (int p = 0; p < n; p++) {
        for (int q = p + 1; q < n; q++) {
          double apq = A[p * n + q];
          if (apq == 0) {
            continue;
          }
          double theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) {
            t = 1;
          }
          double c = 1 / Math.sqrt(t * t + 1);
          double s = t * c;
          for (int r = 0; r < n; r++) {
            double arp = A[r * n + p], arq = A[r * n + q];
            A[r * n + p] = c * arp - s * arq;
            A[r * n + q] = s * arp + c * arq;
          }
          for (int r = 0; r < n; r++) {
            double apr = A[p * n + r], aqr = A[q * n + r];
            A[p * n + r] = c * apr - s * aqr;
            A[q * n + r] = s * apr + c * aqr;
          }
          for (int r = 0; r < n; r++) {
            double vrp = vectors[r * n + p], vrq = vectors[r * n + q];
            vectors[r * n + p] = c * vrp - s * vrq;
            vectors[r * n + q] = s * vrp + c * vrq;
          }
        }
      }
    }
    double[] values = new double[n];
    for (int i = 0; i < n; i++) {
      values[i] = A[i * n + i];
    }
    return values;
  }

  /**
   * Eigen-decomposition of the symmetric tridiagonal matrix with diagonal {@code diag[0 .. n)} and off-diagonal
   * {@code off[0 .. n−1)} ({@code off[i]} couples i and i+1), by implicit QL iterations (EISPACK tql2, as in JAMA).
   * {@code diag} receives the eigenvalues, unsorted; {@code off} (length ≥ n) is destroyed. Z (rows × n, row-major)
   * is multiplied on the right by the eigenvector matrix: start it at the identity for every eigenvector (column j
   * pairs with {@code diag[j]}), or at e_{n−1}ᵀ (rows = 1) for only their last components, which costs O(n) per
   * rotation instead of O(n²) and is what a Lanczos convergence test needs.
   *
   * @return false when it did not converge within 30·n iterations (NaN input)
   */
  public static boolean tridiagonal(double[] diag, double[] off, int n, double[] Z, int rows) {
    if (n == 0) {
      return true;
    }
    off[n - 1] = 0;
    double f = 0;
    double tst1 = 0;
    final double eps = 0x1p-52;
    int iterations = 0;
    for (int l = 0; l < n; l++) {
      tst1 = Math.max(tst1, Math.abs(diag[l]) + Math.abs(off[l]));
      int m = l;
      while (m < n - 1 && Math.abs(off[m]) > eps * tst1) {
        m++;
      }
      if (m > l) {
        do {
          if (++iterations > 30 * n) {
            return false;
          }
          // implicit shift
          double g = diag[l];
          double p = (diag[l + 1] - g) / (2 * off[l]);
          double r = hypot(p, 1);
          if (p < 0) {
            r = -r;
          }
          diag[l] = off[l] / (p + r);
          diag[l + 1] = off[l] * (p + r);
          double dl1 = diag[l + 1];
          double h = g - diag[l];
          for (int i = l + 2; i < n; i++) {
            diag[i] -= h;
          }
          f += h;
          // implicit QL transformation
          p = diag[m];
          double c = 1, c2 = 1, c3 = 1;
          double el1 = off[l + 1];
          double s = 0, s2 = 0;
          for (int i = m - 1; i >= l; i--) {
            c3 = c2;
            c2 = c;
            s2 = s;
            g = c * off[i];
            h = c * p;
            r = hypot(p, off[i]);
            off[i + 1] = s * r;
            s = off[i] / r;
            c = p / r;
            p = c * diag[i] - s * g;
            diag[i + 1] = h + s * (c * g + s * diag[i]);
            for (int k = 0; k < rows; k++) {
              double zi = Z[k * n + i], zi1 = Z[k * n + i + 1];
              Z[k * n + i + 1] = s * zi + c * zi1;
              Z[k * n + i] = c * zi - s * zi1;
            }
          }
          p = -s * s2 * c3 * el1 * off[l] / dl1;
          off[l] = s * p;
          diag[l] = c * p;
        } while (Math.abs(off[l]) > eps * tst1);
      }
      diag[l] += f;
      off[l] = 0;
    }
    return true;
  }

  /**
   * A unit eigenvector z (length n) of the symmetric tridiagonal matrix (diag, off) for its eigenvalue lambda (as
   * {@link #tridiagonal} computed it), by inverse iteration on T − λI with a partially pivoted LU (the scheme of
   * LAPACK's dstein): O(n), where the eigenvector matrix costs O(n³). Starts from a fixed pseudo-random vector (a
   * vector of ones can be orthogonal to the answer), so the result is deterministic. For a cluster of equal
   * eigenvalues it returns some unit vector of the cluster's eigenspace. {@code work} needs 5n doubles.
   */
  public static void tridiagonalEigenvector(double[] diag, double[] off, int n, double lambda, double[] z,
      double[] work) {
    if (n == 1) {
      z[0] = 1;
      return;
    }
    double tnorm = 0;
    for (int i = 0; i < n; i++) {
      double row = Math.abs(diag[i]) + (i > 0 ? Math.abs(off[i - 1]) : 0) + (i < n - 1 ? Math.abs(off[i]) : 0);
      tnorm = Math.max(tnorm, row);
    }
    double tiny = Math.max(0x1p-52 * tnorm, Double.MIN_NORMAL);
    // LU of T − λI with row interchanges: U has diagonal dd, super-diagonals du and du2; L has multipliers dl
    final int dd = 0, du = n, du2 = 2 * n, dl = 3 * n, swap = 4 * n;
    for (int i = 0; i < n; i++) {
      work[dd + i] = diag[i] - lambda;
      work[du + i] = i < n - 1 ? off[i] : 0;
      work[du2 + i] = 0;
    }
    for (int i = 0; i < n - 1; i++) {
      double sub = off[i];
      if (Math.abs(work[dd + i]) >= Math.abs(sub)) {
        work[swap + i] = 0;
        double piv = work[dd + i] != 0 ? work[dd + i] : tiny;
        work[dd + i] = piv;
        double fact = sub / piv;
        work[dl + i] = fact;
        work[dd + i + 1] -= fact * work[du + i];
      } else {
        work[swap + i] = 1;
        double fact = work[dd + i] / sub;
        work[dd + i] = sub;
        work[dl + i] = fact;
        double t = work[du + i];
        work[du + i] = work[dd + i + 1];
        work[dd + i + 1] = t - fact * work[dd + i + 1];
        if (i < n - 2) {
          work[du2 + i] = work[du + i + 1];
          work[du + i + 1] = -fact * work[du + i + 1];
        }
      }
    }
    for (int i = 0; i < n; i++) {
      if (Math.abs(work[dd + i]) < tiny) {
        work[dd + i] = work[dd + i] < 0 ? -tiny : tiny; // λ is an eigenvalue: T − λI is singular to rounding
      }
    }
    long seed = 0x9E3779B97F4A7C15L;
    for (int i = 0; i < n; i++) {
      seed = seed * 6364136223846793005L + 1442695040888963407L;
      z[i] = 0.5 + (seed >>> 11) * 0x1p-53; // in [0.5, 1.5)
    }
    for (int it = 0; it < 3; it++) {
      for (int i = 0; i < n - 1; i++) { // solve L
        if (work[swap + i] == 0) {
          z[i + 1] -= work[dl + i] * z[i];
        } else {
          double t = z[i];
          z[i] = z[i + 1];
          z[i + 1] = t - work[dl + i] * z[i];
        }
      }
      z[n - 1] /= work[dd + n - 1]; // solve U
      z[n - 2] = (z[n - 2] - work[du + n - 2] * z[n - 1]) / work[dd + n - 2];
      for (int i = n - 3; i >= 0; i--) {
        z[i] = (z[i] - work[du + i] * z[i + 1] - work[du2 + i] * z[i + 2]) / work[dd + i];
      }
      double big = 0;
      for (int i = 0; i < n; i++) {
        big = Math.max(big, Math.abs(z[i]));
      }
      for (int i = 0; i < n; i++) {
        z[i] /= big;
      }
    }
    double nn = 0;
    for (int i = 0; i < n; i++) {
      nn += z[i] * z[i];
    }
    nn = Math.sqrt(nn);
    for (int i = 0; i < n; i++) {
      z[i] /= nn;
    }
  }

  /** √(a² + b²) without overflow; plain arithmetic, unlike Math.hypot, which is slow. */
  private static double hypot(double a, double b) {
    a = Math.abs(a);
    b = Math.abs(b);
    double big = Math.max(a, b), small = Math.min(a, b);
    if (big == 0) {
      return 0;
    }
    double q = small / big;
    return big * Math.sqrt(1 + q * q);
  }
}
