package dbksvd.encode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.TestMath;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * mp-refit: matching pursuit picks the support (at most 4k steps, the smallest of k + 1 distinct atoms dropped), then
 * least squares on it. The references here are independent: a least-squares solve on the explicit atoms and
 * samples (normal equations in double, Gaussian elimination with partial pivoting), and plain {@link MatchingPursuit}
 * run for a growing number of steps for the support.
 */
class RefitMatchingPursuitTest {

  /** Gaussian samples, d × n column-major. */
  static float[] gaussian(int d, int n, SplittableRandom rng) {
    float[] Y = new float[d * n];
    for (int i = 0; i < Y.length; i++) {
      Y[i] = (float) TestMath.gaussian(rng);
    }
    return Y;
  }

  static int[] support(SparseCodes codes, int s) {
    int[] a = new int[codes.count[s]];
    for (int t = 0; t < a.length; t++) {
      a[t] = codes.atom[s * codes.capacity + t];
    }
    return a;
  }

  /** argmin ‖y − D_Ω x‖ in double: (D_Ωᵀ D_Ω) x = D_Ωᵀ y by Gaussian elimination with partial pivoting. */
  static double[] leastSquares(float[] D, int d, int[] omega, float[] Y, int s) {
    int q = omega.length;
    double[][] a = new double[q][q + 1];
    for (int r = 0; r < q; r++) {
      for (int c = 0; c < q; c++) {
        double sum = 0;
        for (int i = 0; i < d; i++) {
          sum += (double) D[omega[r] * d + i] * D[omega[c] * d + i];
        }
        a[r][c] = sum;
      }
      double sum = 0;
      for (int i = 0; i < d; i++) {
        sum += (double) D[omega[r] * d + i] * Y[s * d + i];
      }
      a[r][q] = sum;
    }
    for (int col = 0; col < q; col++) {
      int piv = col;
      for (int r = col + 1; r < q; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) {
          piv = r;
        }
      }
      double[] t = a[col];
      a[col] = a[piv];
      a[piv] = t;
      for (int r = col + 1; r < q; r++) {
        double f = a[r][col] / a[col][col];
        for (int c = col; c <= q; c++) {
          a[r][c] -= f * a[col][c];
        }
      }
    }
    double[] x = new double[q];
    for (int r = q - 1; r >= 0; r--) {
      double sum = a[r][q];
      for (int c = r + 1; c < q; c++) {
        sum -= a[r][c] * x[c];
      }
      x[r] = sum / a[r][r];
    }
    return x;
  }

  @Test
  void coefficientsAreTheLeastSquaresSolutionOnTheSupport() {
    int d = 64, m = 256, k = 8, n = 200;
    SplittableRandom rng = new SplittableRandom(161);
    float[] D = TestMath.randomUnitDictionary(d, m, rng);
    Dictionary dict = new Dictionary(D, d, m);
    float[] Y = gaussian(d, n, rng);
    SparseCodes codes = new SparseCodes(n, k);
    double[] tracked = MatchingPursuitTest.encodeAll(new RefitMatchingPursuit(k, 0), dict, Y, n, codes);
    double worstCoef = 0, worstNorm = 0, refitGain = 0;
    SparseCodes mp = new SparseCodes(n, k);
    MatchingPursuitTest.encodeAll(new MatchingPursuit(k, 0), dict, Y, n, mp);
    for (int s = 0; s < n; s++) {
      int[] omega = support(codes, s);
      assertEquals(k, omega.length, "sample " + s + " holds k atoms");
      double[] ref = leastSquares(D, d, omega, Y, s);
      double diff = 0, norm = 0;
      for (int t = 0; t < omega.length; t++) {
        double c = codes.get(s, omega[t]);
        diff += (c - ref[t]) * (c - ref[t]);
        norm += ref[t] * ref[t];
      }
      double rel = Math.sqrt(diff / norm);
      assertTrue(rel <= 1e-5, "sample " + s + ": relative coefficient error " + rel);
      worstCoef = Math.max(worstCoef, rel);
      double exact = TestMath.sqNorm(TestMath.residual(D, d, Y, s, codes));
      double ySq = TestMath.sqNorm(d, Y, s * d);
      assertEquals(exact, tracked[s], 1e-5 * ySq, "sample " + s + ": returned ||r||^2");
      worstNorm = Math.max(worstNorm, Math.abs(exact - tracked[s]) / ySq);
      refitGain += TestMath.sqNorm(TestMath.residual(D, d, Y, s, mp)) / ySq - exact / ySq;
    }
    System.out.printf("mp-refit d=%d m=%d k=%d, %d Gaussian samples: coefficients vs a double least-squares solve on "
        + "the support, worst relative error %.1e; returned ||r||^2 vs exact, worst %.1e of ||y||^2; mean "
        + "||r||^2/||y||^2 below MP's by %.4f%n", d, m, k, n, worstCoef, worstNorm, refitGain / n);
  }

  @Test
  void selectsExactlyKAtomsUnlessTheResidualReachesRtol() {
    int d = 64, m = 256, k = 8, n = 300;
    SplittableRandom rng = new SplittableRandom(162);
    float[] D = TestMath.randomUnitDictionary(d, m, rng);
    Dictionary dict = new Dictionary(D, d, m);
    float[] Y = gaussian(d, n, rng);
    SparseCodes all = new SparseCodes(n, k);
    MatchingPursuitTest.encodeAll(new RefitMatchingPursuit(k, 0), dict, Y, n, all);
    for (int s = 0; s < n; s++) {
      assertEquals(k, all.count[s], "rtol 0: sample " + s);
      assertEquals(k, all.l0(s), "rtol 0: sample " + s + " has k non-zero coefficients");
      assertEquals(k, new HashSet<>(java.util.Arrays.stream(support(all, s)).boxed().toList()).size());
    }
    // rtol: the median ‖r‖/‖y‖ of plain MP after k steps, so that about half the samples stop early
    double[] mpR = MatchingPursuitTest.encodeAll(new MatchingPursuit(k, 0), dict, Y, n, new SparseCodes(n, k));
    double[] ratio = new double[n];
    for (int s = 0; s < n; s++) {
      ratio[s] = Math.sqrt(mpR[s] / TestMath.sqNorm(d, Y, s * d));
    }
    java.util.Arrays.sort(ratio);
    double rtol = ratio[n / 2];
    SparseCodes codes = new SparseCodes(n, k);
    MatchingPursuitTest.encodeAll(new RefitMatchingPursuit(k, rtol), dict, Y, n, codes);
    int fewer = 0;
    for (int s = 0; s < n; s++) {
      assertTrue(codes.count[s] >= 1 && codes.count[s] <= k);
      if (codes.count[s] < k) {
        fewer++;
        double r = Math.sqrt(TestMath.sqNorm(TestMath.residual(D, d, Y, s, codes)));
        double y = Math.sqrt(TestMath.sqNorm(d, Y, s * d));
        assertTrue(r <= rtol * y * (1 + 1e-4), "sample " + s + " stopped at " + codes.count[s] + " atoms with "
            + "||r||/||y|| = " + r / y);
      }
    }
    assertTrue(fewer > 0 && fewer < n, "rtol " + rtol + " should stop some samples early: " + fewer + "/" + n);
    System.out.printf("mp-refit d=%d m=%d k=%d: rtol 0 gives k distinct atoms for all %d samples; rtol %.2f stops "
        + "%d of them early, each with ||r|| <= rtol ||y||%n", d, m, k, n, rtol, fewer);
  }

  @Test
  void dropsTheSmallestWhenMoreThanKDistinctAtomsAreChosen() {
    int d = 32, m = 96, k = 5, n = 200;
    SplittableRandom rng = new SplittableRandom(163);
    float[] D = TestMath.randomUnitDictionary(d, m, rng);
    Dictionary dict = new Dictionary(D, d, m);
    float[] Y = gaussian(d, n, rng);
    SparseCodes codes = new SparseCodes(n, k);
    MatchingPursuitTest.encodeAll(new RefitMatchingPursuit(k, 0), dict, Y, n, codes);
    // MP with t steps is the first t steps of mp-refit's selection (the same kernel): find the step at which the
    // (k+1)-th distinct atom comes, and the atom of smallest accumulated |x| then
    int maxSteps = RefitMatchingPursuit.STEPS_PER_ATOM * k;
    int[] dropAt = new int[n];
    Set<Integer>[] want = new Set[n];
    int[] dropped = new int[n];
    int notNewest = 0;
    java.util.Arrays.fill(dropped, -1);
    for (int t = 1; t <= maxSteps; t++) {
      SparseCodes mp = new SparseCodes(n, t);
      MatchingPursuitTest.encodeAll(new MatchingPursuit(t, 0), dict, Y, n, mp);
      for (int s = 0; s < n; s++) {
        if (dropAt[s] == 0 && (mp.count[s] == k + 1 || t == maxSteps)) {
          dropAt[s] = t;
          want[s] = new HashSet<>();
          int min = -1;
          for (int e = 0; e < mp.count[s]; e++) {
            int slot = s * mp.capacity + e;
            want[s].add(mp.atom[slot]);
            if (min < 0 || Math.abs(mp.value[slot]) < Math.abs(mp.value[s * mp.capacity + min])) {
              min = e;
            }
          }
          if (mp.count[s] == k + 1) {
            // the (k+1)-th atom came at step t: it is in the last slot
            notNewest += min != k ? 1 : 0;
            dropped[s] = mp.atom[s * mp.capacity + min];
            want[s].remove(dropped[s]);
          }
        }
      }
    }
    int drops = 0, revisits = 0;
    for (int s = 0; s < n; s++) {
      Set<Integer> got = new HashSet<>();
      for (int j : support(codes, s)) {
        got.add(j);
      }
      assertEquals(want[s], got, "sample " + s + " (k+1 distinct atoms after " + dropAt[s] + " steps)");
      if (dropped[s] >= 0) {
        drops++;
        revisits += dropAt[s] > k + 1 ? 1 : 0;
      }
    }
    assertTrue(drops > 0, "some samples reach k + 1 distinct atoms");
    assertTrue(notNewest > 0, "some drops remove an atom older than the newest");
    System.out.printf("mp-refit d=%d m=%d k=%d, %d samples: %d reach k+1 distinct atoms (%d after revisiting an atom),"
        + " the smallest dropped (%d times not the newest atom); supports equal MP's with the drop%n", d, m, k, n,
        drops, revisits, notNewest);
  }

  @Test
  void fourKStepsOnTwoAtomsThenTheRefitIsExact() {
    // y = e₂ in the span of d₀ = e₁ and d₁ = (e₁ + e₂)/√2, the other atoms orthogonal to both: MP alternates
    // between d₁ and d₀, halving ‖r‖² each step, for all 4k steps; the refit on {d₀, d₁} is exact (x = (−1, √2))
    int d = 6, m = 5, k = 2;
    float[] D = new float[d * m];
    D[0] = 1f;
    D[d] = (float) Math.sqrt(0.5);
    D[d + 1] = (float) Math.sqrt(0.5);
    for (int j = 2; j < m; j++) {
      D[j * d + j + 1] = 1f;
    }
    Dictionary dict = new Dictionary(D, d, m);
    float[] y = new float[d];
    y[1] = 1f;
    int steps = RefitMatchingPursuit.STEPS_PER_ATOM * k;
    SparseCodes mp = new SparseCodes(1, steps);
    double mpR = MatchingPursuitTest.encodeAll(new MatchingPursuit(steps, 0), dict, y, 1, mp)[0];
    SparseCodes codes = new SparseCodes(1, k);
    double r = MatchingPursuitTest.encodeAll(new RefitMatchingPursuit(k, 0), dict, y, 1, codes)[0];
    assertEquals(2, codes.count[0]);
    assertEquals(-1.0, codes.get(0, 0), 1e-6);
    assertEquals(Math.sqrt(2), codes.get(0, 1), 1e-6);
    assertEquals(0.0, r, 1e-10);
    assertTrue(mpR > 1e-4, "MP's residual after 4k steps: " + mpR);
    assertEquals(2, mp.count[0], "MP used the same two atoms only");
  }

  /**
   * encodePair gives the codes of two encode calls bit for bit, and the same returned norms: also when rtol stops
   * one sample first, when one drops an atom before the other, for a zero sample, and in a sub-range of the atoms.
   */
  @Test
  void pairsCodeLikeSingles() {
    SplittableRandom rng = new SplittableRandom(164);
    int d = 24, m = 60, k = 5, n = 41;
    float[] D = TestMath.randomUnitDictionary(d, m, rng);
    Dictionary dict = new Dictionary(D, d, m);
    float[] Y = TestMath.gaussianMatrix(d, n, rng);
    java.util.Arrays.fill(Y, 5 * d, 6 * d, 0f); // a zero sample: its first a is 0
    for (double rtol : new double[] {0, 0.5, 0.9}) {
      for (int[] range : new int[][] {{0, m}, {20, 25}}) {
        RefitMatchingPursuit enc = new RefitMatchingPursuit(k, rtol);
        Object scratch = enc.newScratch(range[1]);
        float[] P = new float[range[1] * n];
        dbksvd.linalg.Blas.correlations(D, d, range[0], range[1], Y, 0, n, P);
        float[] P2 = P.clone();
        SparseCodes single = new SparseCodes(n, k);
        SparseCodes paired = new SparseCodes(n, k);
        double[] r1 = new double[n];
        for (int s = 0; s < n; s++) {
          r1[s] = enc.encode(dict, range[0], range[1], P, s * range[1], TestMath.sqNorm(d, Y, s * d), single, s,
              scratch);
        }
        for (int s = 0; s + 1 < n; s += 2) {
          enc.encodePair(dict, range[0], range[1], P2, s * range[1], TestMath.sqNorm(d, Y, s * d), s,
              (s + 1) * range[1], TestMath.sqNorm(d, Y, (s + 1) * d), s + 1, paired, scratch);
        }
        enc.encode(dict, range[0], range[1], P2, (n - 1) * range[1], TestMath.sqNorm(d, Y, (n - 1) * d), paired,
            n - 1, scratch);
        for (int s = 0; s < n; s++) {
          String at = "rtol " + rtol + " range " + range[0] + "+" + range[1] + " sample " + s;
          assertEquals(single.count[s], paired.count[s], at);
          for (int t = 0; t < single.count[s]; t++) {
            assertEquals(single.atom[s * k + t], paired.atom[s * k + t], at);
            assertEquals(Float.floatToIntBits(single.value[s * k + t]), Float.floatToIntBits(paired.value[s * k + t]),
                at);
          }
        }
        assertEquals(0, single.count[5], "the zero sample gets no atom");
        assertTrue(r1[5] == 0.0);
      }
    }
  }

  @Test
  void singularGramGetsTheRidge() {
    // two identical atoms in Ω: G_ΩΩ = [[1, 1], [1, 1]] is singular; the ridge gives the minimum-norm split
    int m = 3;
    float[] G = {1, 1, 0, 1, 1, 0, 0, 0, 1};
    int[] omega = {0, 1};
    float[] p0 = {2, 2, 0};
    double[] L = new double[4], sol = new double[2], rhs = new double[2];
    assertTrue(RefitMatchingPursuit.refit(G, m, 0, omega, 2, p0, 0, L, sol, rhs, 2));
    assertEquals(1.0, sol[0], 1e-5);
    assertEquals(1.0, sol[1], 1e-5);
    float[] nan = {Float.NaN, 2, 0};
    assertTrue(!RefitMatchingPursuit.refit(G, m, 0, omega, 2, nan, 0, L, sol, rhs, 2), "NaN: no refit");
  }

  @Test
  void registeredByName() {
    Encoder e = Encoder.of("mp-refit", 6, 0.1);
    assertEquals(new RefitMatchingPursuit(6, 0.1), e);
    assertEquals("mp-refit", e.name());
    assertEquals(new RefitMatchingPursuit(3, 0.1), e.withK(3));
    assertTrue(Encoder.NAMES.contains("mp-refit"));
    assertThrows(IllegalArgumentException.class, () -> Encoder.of("mp-refit", 0, 0));
    assertThrows(IllegalArgumentException.class, () -> Encoder.of("refit", 4, 0));
  }
}
