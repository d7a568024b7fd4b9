package dbksvd.update;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.TestMath;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** TopSingularTriplet against a one-sided Jacobi SVD in double precision (TestMath.svd). */
class TopSingularTripletTest {

  static float[] randomUnit(int n, SplittableRandom rng) {
    float[] u = TestMath.gaussianMatrix(n, 1, rng);
    double nrm = Math.sqrt(TestMath.sqNorm(n, u, 0));
    for (int i = 0; i < n; i++) {
      u[i] = (float) (u[i] / nrm);
    }
    return u;
  }

  /** Rank-r matrix rows × cols: Σ a_i b_iᵀ with Gaussian factors. */
  static float[] lowRank(int rows, int cols, int r, SplittableRandom rng) {
    float[] A = TestMath.gaussianMatrix(rows, r, rng);
    float[] B = TestMath.gaussianMatrix(cols, r, rng);
    float[] E = new float[rows * cols];
    for (int c = 0; c < cols; c++) {
      for (int i = 0; i < rows; i++) {
        double s = 0;
        for (int t = 0; t < r; t++) {
          s += (double) A[t * rows + i] * B[t * cols + c];
        }
        E[c * rows + i] = (float) s;
      }
    }
    return E;
  }

  /**
   * Runs the solver from start vector u0 and checks σ, u, x = Eᵀu and the sign convention against the reference.
   * Returns 1 − |uᵀu_ref|.
   */
  static double check(String label, float[] E, int rows, int cols, float[] u0, TopSingularTriplet solver) {
    TestMath.Svd ref = TestMath.svd(E, rows, cols);
    float[] u = u0.clone();
    float[] x = new float[cols];
    double sigma = solver.compute(E, rows, cols, u, x, new TopSingularTriplet.Scratch());
    double s1 = ref.sigma()[0];
    assertEquals(s1, sigma, 1e-4 * s1, label + ": σ1");
    double un = Math.sqrt(TestMath.sqNorm(rows, u, 0));
    assertEquals(1.0, un, 1e-5, label + ": ‖u‖");
    double align = 0;
    for (int i = 0; i < rows; i++) {
      align += u[i] * ref.u()[0][i];
    }
    assertTrue(Math.abs(align) >= 1 - 1e-4, label + ": |uᵀu_ref| = " + Math.abs(align));
    // x = Eᵀu, in double from the returned u
    double xErr = 0;
    for (int c = 0; c < cols; c++) {
      double xc = 0;
      for (int i = 0; i < rows; i++) {
        xc += (double) E[c * rows + i] * u[i];
      }
      xErr = Math.max(xErr, Math.abs(xc - x[c]));
    }
    assertTrue(xErr <= 1e-5 * s1, label + ": x differs from Eᵀu by " + xErr);
    assertEquals(sigma, Math.sqrt(TestMath.sqNorm(cols, x, 0)), 1e-5 * s1, label + ": σ = ‖x‖");
    int big = 0;
    for (int i = 1; i < rows; i++) {
      if (Math.abs(u[i]) > Math.abs(u[big])) {
        big = i;
      }
    }
    assertTrue(u[big] > 0, label + ": the largest-magnitude entry of u must be positive");
    return 1 - Math.abs(align);
  }

  @Test
  void matchesReferenceSvdOnManyShapes() {
    SplittableRandom rng = new SplittableRandom(31);
    TopSingularTriplet solver = TopSingularTriplet.DEFAULT;
    // {rows, cols, rank (0 = full)}
    // min(rows, cols) ≤ GRAM_MAX takes the Gram path, the last five the Lanczos path on EEᵀ
    int[][] shapes = {{40, 6, 0}, {16, 40, 0}, {12, 1, 0}, {12, 2, 0}, {20, 20, 0}, {1, 7, 0}, {30, 25, 3},
        {10, 30, 2}, {64, 200, 0}, {200, 64, 0}, {48, 48, 0}, {150, 100, 0}, {100, 300, 0}, {300, 90, 3},
        {80, 80, 0}, {120, 70, 2}};
    double worst = 0;
    for (int[] sh : shapes) {
      int rows = sh[0], cols = sh[1], rank = sh[2];
      float[] E = rank == 0 ? TestMath.gaussianMatrix(rows, cols, rng) : lowRank(rows, cols, rank, rng);
      TestMath.Svd ref = TestMath.svd(E, rows, cols);
      String label = rows + "×" + cols + (rank > 0 ? " rank " + rank : "");
      for (int trial = 0; trial < 3; trial++) {
        worst = Math.max(worst, check(label + " start " + trial, E, rows, cols, randomUnit(rows, rng), solver));
      }
      double gap = ref.sigma().length > 1 ? ref.sigma()[1] / ref.sigma()[0] : 0;
      System.out.printf("top triplet %-14s σ1 %.4f σ2/σ1 %.3f%n", label, ref.sigma()[0], gap);
    }
    System.out.printf("top triplet over all shapes: max 1 − |uᵀu_ref| = %.1e%n", worst);
  }

  @Test
  void startVectorCloseToTheAnswerConvergesToTheSameTriplet() {
    // the K-SVD use: E = d·xᵀ + small residual, started from d
    SplittableRandom rng = new SplittableRandom(32);
    int rows = 32, cols = 50;
    float[] dAtom = randomUnit(rows, rng);
    float[] E = TestMath.gaussianMatrix(rows, cols, rng);
    for (int c = 0; c < cols; c++) {
      double xc = 2 * TestMath.gaussian(rng);
      for (int i = 0; i < rows; i++) {
        E[c * rows + i] = (float) (0.05 * E[c * rows + i] + xc * dAtom[i]);
      }
    }
    check("K-SVD-like 32×50", E, rows, cols, dAtom, TopSingularTriplet.DEFAULT);
    float[] neg = dAtom.clone();
    for (int i = 0; i < rows; i++) {
      neg[i] = -neg[i];
    }
    check("K-SVD-like 32×50, start −d", E, rows, cols, neg, TopSingularTriplet.DEFAULT);
  }

  @Test
  void zeroMatrixGivesZeroAndKeepsU() {
    SplittableRandom rng = new SplittableRandom(33);
    for (int[] sh : new int[][] {{8, 3}, {3, 8}, {5, 5}, {6, 1}}) {
      int rows = sh[0], cols = sh[1];
      float[] E = new float[rows * cols];
      float[] u0 = randomUnit(rows, rng);
      float[] u = u0.clone();
      float[] x = new float[cols];
      java.util.Arrays.fill(x, 7f);
      double sigma = TopSingularTriplet.DEFAULT.compute(E, rows, cols, u, x, new TopSingularTriplet.Scratch());
      assertEquals(0.0, sigma);
      assertTrue(java.util.Arrays.equals(u0, u), "u is left as it was");
      for (float v : x) {
        assertEquals(0f, v);
      }
    }
  }

  @Test
  void startOrthogonalToTheRangeStillFindsTheTriplet() {
    SplittableRandom rng = new SplittableRandom(34);
    // E with its last row zero: e_last is exactly orthogonal to E's column space, for tall, wide and square E
    for (int[] sh : new int[][] {{12, 5}, {6, 20}, {9, 9}, {12, 1}, {4, 4}}) {
      int rows = sh[0], cols = sh[1];
      float[] E = TestMath.gaussianMatrix(rows, cols, rng);
      for (int c = 0; c < cols; c++) {
        E[c * rows + rows - 1] = 0f;
      }
      float[] u0 = new float[rows];
      u0[rows - 1] = 1f;
      check(rows + "×" + cols + ", start ⟂ range (zero row)", E, rows, cols, u0, TopSingularTriplet.DEFAULT);
    }
    // rank-2 E and a start vector orthogonalised against its range in float (orthogonal to rounding)
    for (int[] sh : new int[][] {{12, 30}, {30, 12}, {16, 16}}) {
      int rows = sh[0], cols = sh[1];
      float[] E = lowRank(rows, cols, 2, rng);
      TestMath.Svd ref = TestMath.svd(E, rows, cols);
      double[] v = TestMath.column(randomUnit(rows, rng), rows, 0);
      for (int pass = 0; pass < 2; pass++) {
        for (int t = 0; t < 2; t++) {
          double c = 0;
          for (int i = 0; i < rows; i++) {
            c += v[i] * ref.u()[t][i];
          }
          for (int i = 0; i < rows; i++) {
            v[i] -= c * ref.u()[t][i];
          }
        }
      }
      double nv = Math.sqrt(TestMath.sqNorm(v));
      float[] u0 = new float[rows];
      for (int i = 0; i < rows; i++) {
        u0[i] = (float) (v[i] / nv);
      }
      check(rows + "×" + cols + " rank 2, start ⟂ range", E, rows, cols, u0, TopSingularTriplet.DEFAULT);
    }
  }

  /** E = 3·a₁b₁ᵀ + 1·a₂b₂ᵀ with orthonormal a's and b's, rows × cols. */
  static float[] rankTwo(int rows, int cols, float[] a2, SplittableRandom rng) {
    double[][] a = orthonormal(rows, 2, rng);
    double[][] b = orthonormal(cols, 2, rng);
    float[] E = new float[rows * cols];
    for (int c = 0; c < cols; c++) {
      for (int i = 0; i < rows; i++) {
        E[c * rows + i] = (float) (3 * a[0][i] * b[0][c] + a[1][i] * b[1][c]);
      }
    }
    for (int i = 0; i < rows; i++) {
      a2[i] = (float) a[1][i];
    }
    return E;
  }

  static double[][] orthonormal(int n, int k, SplittableRandom rng) {
    double[][] q = new double[k][n];
    for (int j = 0; j < k; j++) {
      for (int i = 0; i < n; i++) {
        q[j][i] = TestMath.gaussian(rng);
      }
      for (int pass = 0; pass < 2; pass++) {
        for (int p = 0; p < j; p++) {
          double c = 0;
          for (int i = 0; i < n; i++) {
            c += q[j][i] * q[p][i];
          }
          for (int i = 0; i < n; i++) {
            q[j][i] -= c * q[p][i];
          }
        }
      }
      double nn = Math.sqrt(TestMath.sqNorm(q[j]));
      for (int i = 0; i < n; i++) {
        q[j][i] /= nn;
      }
    }
    return q;
  }

  @Test
  void startOnTheSecondSingularVectorIsNotTakenForTheTop() {
    // Started exactly on u₂, the Krylov space {u₂} is invariant and its Ritz value is σ₂²; the trace of the
    // operator shows that σ₁² is missing, and the iteration goes on from a fresh direction.
    SplittableRandom rng = new SplittableRandom(36);
    for (int[] sh : new int[][] {{100, 80}, {90, 200}, {40, 30}, {30, 50}}) {
      int rows = sh[0], cols = sh[1];
      float[] a2 = new float[rows];
      float[] E = rankTwo(rows, cols, a2, rng);
      TopSingularTriplet.Scratch sc = new TopSingularTriplet.Scratch();
      float[] u = a2.clone();
      float[] x = new float[cols];
      double sigma = TopSingularTriplet.DEFAULT.compute(E, rows, cols, u, x, sc);
      assertEquals(3.0, sigma, 1e-4, rows + "×" + cols + ": σ₁, not σ₂ = 1");
      assertTrue(sc.freshStarts > 0, rows + "×" + cols + ": the breakdown was not seen");
      check(rows + "×" + cols + " start u₂", E, rows, cols, a2, TopSingularTriplet.DEFAULT);
    }
  }

  @Test
  void sameInputsGiveTheSameBits() {
    SplittableRandom rng = new SplittableRandom(37);
    for (int[] sh : new int[][] {{60, 40}, {200, 120}, {30, 90}}) {
      int rows = sh[0], cols = sh[1];
      float[] E = TestMath.gaussianMatrix(rows, cols, rng);
      float[] u0 = randomUnit(rows, rng);
      float[] u1 = u0.clone(), u2 = u0.clone();
      float[] x1 = new float[cols], x2 = new float[cols];
      TopSingularTriplet.DEFAULT.compute(E, rows, cols, u1, x1, new TopSingularTriplet.Scratch());
      TopSingularTriplet.Scratch used = new TopSingularTriplet.Scratch();
      TopSingularTriplet.DEFAULT.compute(TestMath.gaussianMatrix(rows + 7, cols + 3, rng), rows + 7, cols + 3,
          randomUnit(rows + 7, rng), new float[cols + 3], used); // a scratch that has seen other work
      TopSingularTriplet.DEFAULT.compute(E, rows, cols, u2, x2, used);
      assertTrue(java.util.Arrays.equals(u1, u2) && java.util.Arrays.equals(x1, x2), rows + "×" + cols);
    }
  }

  @Test
  void lanczosPathWithASmallKrylovSpaceRestartsAndConverges() {
    // min(rows, cols) > GRAM_MAX: the Lanczos path; Krylov dimension 3 forces restarts
    SplittableRandom rng = new SplittableRandom(38);
    int rows = 100, cols = 120;
    float[] E = TestMath.gaussianMatrix(rows, cols, rng);
    float[] a = randomUnit(rows, rng);
    float[] b = TestMath.gaussianMatrix(cols, 1, rng);
    for (int c = 0; c < cols; c++) {
      for (int i = 0; i < rows; i++) {
        E[c * rows + i] += 2.5f * a[i] * b[c];
      }
    }
    TopSingularTriplet solver = new TopSingularTriplet(3, 200, 1e-7);
    double miss = check("100×120, Krylov 3", E, rows, cols, randomUnit(rows, rng), solver);
    System.out.printf("Lanczos path, Krylov dimension 3 with restarts on 100×120: 1 − |uᵀu_ref| = %.1e%n", miss);
  }

  @Test
  void smallKrylovSpaceNeedsRestartsButConverges() {
    // Krylov dimension 3 on a 40×40 problem: only restarts can reach the tolerance
    SplittableRandom rng = new SplittableRandom(35);
    int rows = 40, cols = 60;
    float[] E = TestMath.gaussianMatrix(rows, cols, rng);
    float[] a = randomUnit(rows, rng);
    float[] b = TestMath.gaussianMatrix(cols, 1, rng);
    for (int c = 0; c < cols; c++) {
      for (int i = 0; i < rows; i++) {
        E[c * rows + i] += 1.5f * a[i] * b[c];
      }
    }
    double miss = check("40×60, Krylov 3", E, rows, cols, randomUnit(rows, rng), new TopSingularTriplet(3, 200, 1e-7));
    System.out.printf("top triplet with Krylov dimension 3 and restarts on 40×60: 1 − |uᵀu_ref| = %.1e%n", miss);
  }
}
