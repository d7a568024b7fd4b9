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
}
