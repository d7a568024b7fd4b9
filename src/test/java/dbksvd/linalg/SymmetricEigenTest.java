package dbksvd.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.TestMath;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The tridiagonal QL solver and inverse iteration against the dense Jacobi solver (and each other). */
class SymmetricEigenTest {

  /** Dense row-major copy of the tridiagonal (diag, off). */
  static double[] dense(double[] diag, double[] off, int n) {
    double[] A = new double[n * n];
    for (int i = 0; i < n; i++) {
      A[i * n + i] = diag[i];
      if (i + 1 < n) {
        A[i * n + i + 1] = off[i];
        A[(i + 1) * n + i] = off[i];
      }
    }
    return A;
  }

  /** ‖T z − λ z‖ for the tridiagonal (diag, off). */
  static double residual(double[] diag, double[] off, int n, double lambda, double[] z) {
    double r = 0;
    for (int i = 0; i < n; i++) {
      double v = diag[i] * z[i] - lambda * z[i];
      if (i > 0) {
        v += off[i - 1] * z[i - 1];
      }
      if (i + 1 < n) {
        v += off[i] * z[i + 1];
      }
      r += v * v;
    }
    return Math.sqrt(r);
  }

  static double[][] cases(SplittableRandom rng) {
    return new double[][] {
        // {n, kind}: 0 random, 1 equal diagonal (ones start is orthogonal to the answer), 2 clustered top, 3 graded
        {1, 0}, {2, 1}, {2, 0}, {3, 2}, {5, 0}, {8, 3}, {12, 0}, {24, 2}, {40, 0}, {64, 3}};
  }

  static double[][] build(int n, int kind, SplittableRandom rng) {
    double[] diag = new double[n];
    double[] off = new double[n];
    for (int i = 0; i < n; i++) {
      diag[i] = switch (kind) {
        case 1 -> 2.0;
        case 2 -> i < 2 ? 5.0 : TestMath.gaussian(rng);
        case 3 -> Math.pow(10, -i / 8.0) * (1 + 0.1 * TestMath.gaussian(rng));
        default -> TestMath.gaussian(rng);
      };
      off[i] = i + 1 < n ? (kind == 1 ? -1.0 : kind == 2 && i == 0 ? 1e-9 : TestMath.gaussian(rng)) : 0;
    }
    return new double[][] {diag, off};
  }

  @Test
  void tridiagonalMatchesJacobiAndTracksRows() {
    SplittableRandom rng = new SplittableRandom(7);
    for (double[] cs : cases(rng)) {
      int n = (int) cs[0];
      double[][] t = build(n, (int) cs[1], rng);
      double[] ref = SymmetricEigen.decompose(dense(t[0], t[1], n), n, new double[n * n]);
      Arrays.sort(ref);
      double[] d = t[0].clone();
      double[] e = Arrays.copyOf(t[1], n);
      double[] Z = new double[n * n];
      for (int i = 0; i < n; i++) {
        Z[i * n + i] = 1;
      }
      assertTrue(SymmetricEigen.tridiagonal(d, e, n, Z, n));
      double[] got = d.clone();
      Arrays.sort(got);
      double scale = Math.max(Math.abs(ref[0]), Math.abs(ref[n - 1]));
      for (int i = 0; i < n; i++) {
        assertEquals(ref[i], got[i], 1e-12 * scale, "eigenvalue " + i + " of n=" + n);
      }
      // every column is an eigenvector; the last row alone (rows = 1) is the last row of the full run
      double[] last = new double[n];
      last[n - 1] = 1;
      double[] d1 = t[0].clone();
      double[] e1 = Arrays.copyOf(t[1], n);
      SymmetricEigen.tridiagonal(d1, e1, n, last, 1);
      for (int j = 0; j < n; j++) {
        double[] z = new double[n];
        for (int i = 0; i < n; i++) {
          z[i] = Z[i * n + j];
        }
        assertTrue(residual(t[0], t[1], n, d[j], z) <= 1e-12 * scale, "eigenvector " + j + " of n=" + n);
        assertEquals(Z[(n - 1) * n + j], last[j], 1e-15, "last component, rows = 1");
        assertEquals(d[j], d1[j], "eigenvalues do not depend on the rows tracked");
      }
    }
  }

  @Test
  void inverseIterationGivesTheTopEigenvector() {
    SplittableRandom rng = new SplittableRandom(8);
    double worst = 0;
    for (double[] cs : cases(rng)) {
      int n = (int) cs[0];
      double[][] t = build(n, (int) cs[1], rng);
      double[] d = t[0].clone();
      double[] e = Arrays.copyOf(t[1], n);
      SymmetricEigen.tridiagonal(d, e, n, null, 0);
      int top = 0;
      for (int i = 1; i < n; i++) {
        if (d[i] > d[top]) {
          top = i;
        }
      }
      double[] z = new double[n];
      SymmetricEigen.tridiagonalEigenvector(t[0], t[1], n, d[top], z, new double[5 * n]);
      double nz = Math.sqrt(TestMath.sqNorm(z));
      assertEquals(1.0, nz, 1e-12);
      double scale = Math.max(Math.abs(d[top]), 1e-300);
      double res = residual(t[0], t[1], n, d[top], z);
      // a cluster (kind 2: two equal diagonal entries coupled by 1e-9) only determines the eigenspace
      assertTrue(res <= 1e-9 * scale, "residual " + res + " for n=" + n + " kind " + cs[1]);
      worst = Math.max(worst, res / scale);
      double[] z2 = new double[n];
      SymmetricEigen.tridiagonalEigenvector(t[0], t[1], n, d[top], z2, new double[5 * n]);
      assertTrue(Arrays.equals(z, z2), "deterministic");
    }
    System.out.printf("inverse iteration on tridiagonals up to 64: max ‖Tz − λz‖/|λ| = %.1e%n", worst);
  }
}
