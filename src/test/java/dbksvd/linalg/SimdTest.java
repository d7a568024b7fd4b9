package dbksvd.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dbksvd.TestMath;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The Vector API kernels against the scalar fallback: bit for bit for the element-wise kernels and the argmax (ties
 * to the smallest index included), to rounding for the reductions. Lengths cover empty, shorter than a vector, and
 * full vectors plus a tail; values are coarse so that ties happen.
 */
class SimdTest {
  static final int[] LENGTHS = {0, 1, 3, 7, 15, 16, 17, 31, 33, 64, 100, 257};

  /** Values k/8 for k in [−8, 8]: many exact ties in magnitude, zeros included. */
  static float[] coarse(int n, SplittableRandom rng) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (rng.nextInt(17) - 8) / 8f;
    }
    return a;
  }

  static float[] gaussian(int n, SplittableRandom rng) {
    return TestMath.gaussianMatrix(n, 1, rng);
  }

  @Test
  void describesTheKernelsInUse() {
    String s = Simd.describe();
    System.out.println("SIMD kernels: " + s);
    assertTrue(s.startsWith(Simd.VECTOR ? "Vector API" : "scalar"));
  }

  @Test
  void argmaxMatchesScalarIncludingTiesAndFloors() {
    assumeTrue(Simd.VECTOR, "Vector API absent");
    SplittableRandom rng = new SplittableRandom(1);
    for (int len : LENGTHS) {
      for (int trial = 0; trial < 50; trial++) {
        int off = rng.nextInt(5);
        float[] p = trial % 2 == 0 ? coarse(off + len, rng) : gaussian(off + len, rng);
        if (trial % 7 == 3 && len > 0) {
          p[off + rng.nextInt(len)] = Float.NaN;
        }
        for (float floor : new float[] {-1f, 0f}) {
          assertEquals(Simd.argmaxAbsScalar(p, off, len, floor), SimdVector.argmaxAbs(p, off, len, floor),
              "len " + len + " floor " + floor);
        }
      }
    }
    float[] zeros = new float[40];
    assertEquals(-1, SimdVector.argmaxAbs(zeros, 0, 40, 0f), "no entry above 0");
    assertEquals(0, SimdVector.argmaxAbs(zeros, 0, 40, -1f), "all zero: the first");
    float[] ties = new float[40];
    ties[37] = -2f;
    ties[21] = 2f;
    ties[5] = 1f;
    assertEquals(21, SimdVector.argmaxAbs(ties, 0, 40, -1f), "tie in magnitude goes to the smaller index");
  }

  @Test
  void matchingPursuitStepIsBitIdentical() {
    assumeTrue(Simd.VECTOR, "Vector API absent");
    SplittableRandom rng = new SplittableRandom(2);
    for (int len : LENGTHS) {
      if (len == 0) {
        continue;
      }
      for (int trial = 0; trial < 40; trial++) {
        int off = rng.nextInt(4);
        float[] p = trial % 2 == 0 ? coarse(off + len, rng) : gaussian(off + len, rng);
        float[] g = trial % 2 == 0 ? coarse(len + 3, rng) : gaussian(len + 3, rng);
        float a = trial % 2 == 0 ? 0.5f : (float) TestMath.gaussian(rng);
        int zero = rng.nextInt(len);
        float[] pv = p.clone();
        float[] ps = p.clone();
        int jv = Simd.subtractScaledArgmaxAbs(pv, off, len, a, g, 3, zero);
        int js = Simd.subtractScaledArgmaxAbsScalar(ps, off, len, a, g, 3, zero);
        assertArrayEquals(ps, pv, "p after the step, len " + len);
        assertEquals(js, jv, "argmax after the step, len " + len);
      }
    }
  }

  @Test
  void ompUpdateIsBitIdentical() {
    assumeTrue(Simd.VECTOR, "Vector API absent");
    SplittableRandom rng = new SplittableRandom(3);
    for (int len : LENGTHS) {
      for (int size = 1; size <= 5; size++) {
        int off = rng.nextInt(4);
        float[] alpha0 = gaussian(len, rng);
        float[] G = gaussian(len * 6 + 8, rng);
        int[] colOff = new int[size];
        float[] gamma = new float[size];
        for (int r = 0; r < size; r++) {
          colOff[r] = rng.nextInt(len * 5 + 8);
          gamma[r] = (float) TestMath.gaussian(rng);
        }
        float[] av = new float[off + len];
        float[] as = new float[off + len];
        int jv = SimdVector.subtractColumnsArgmaxAbs(av, off, alpha0, len, G, colOff, gamma, size);
        int js = Simd.subtractColumnsArgmaxAbsScalar(as, off, alpha0, len, G, colOff, gamma, size);
        assertArrayEquals(as, av, "α, len " + len + " size " + size);
        assertEquals(js, jv);
      }
    }
  }

  @Test
  void elementWiseKernelsAreBitIdentical() {
    assumeTrue(Simd.VECTOR, "Vector API absent");
    SplittableRandom rng = new SplittableRandom(4);
    for (int len : LENGTHS) {
      float[] x = gaussian(len + 2, rng);
      float[] y = gaussian(len + 5, rng);
      float a = (float) TestMath.gaussian(rng);
      float[] yv = y.clone();
      float[] ys = y.clone();
      SimdVector.axpy(len, a, x, 2, yv, 5);
      Simd.axpyScalar(len, a, x, 2, ys, 5);
      assertArrayEquals(ys, yv, "axpy len " + len);
      SimdVector.subtractScaled(len, a, x, 2, yv, 5);
      Simd.subtractScaledScalar(len, a, x, 2, ys, 5);
      assertArrayEquals(ys, yv, "subtractScaled len " + len);
      // E·v over scattered columns
      int c = 1 + rng.nextInt(40);
      float[] A = gaussian(c * (len + 3) + 1, rng);
      int[] off = new int[c];
      for (int i = 0; i < c; i++) {
        off[i] = 1 + (c - 1 - i) * (len + 3); // reversed order, gaps between columns
      }
      float[] v = gaussian(c + 2, rng);
      float[] wv = new float[len + 1];
      float[] ws = new float[len + 1];
      SimdVector.times(A, off, c, len, v, 2, wv, 1);
      Simd.timesScalar(A, off, c, len, v, 2, ws, 1);
      assertArrayEquals(ws, wv, "E·v len " + len + " c " + c);
      // the blocked Lanczos step equals Eᵀq then E·(Eᵀq)
      float[] q = gaussian(len + 1, rng);
      float[] s1 = new float[c], s2 = new float[c];
      float[] w1 = new float[len], w2 = new float[len];
      Simd.gramTimes(A, off, c, len, q, 1, w1, s1);
      Simd.transposeTimes(A, off, c, len, q, 1, s2);
      Simd.times(A, off, c, len, s2, 0, w2, 0);
      assertArrayEquals(s2, s1, "Eᵀq");
      assertArrayEquals(w2, w1, "EEᵀq");
    }
  }

  @Test
  void reductionsAgreeToRounding() {
    SplittableRandom rng = new SplittableRandom(5);
    for (int len : LENGTHS) {
      float[] x = gaussian(len + 1, rng);
      float[] y = gaussian(len + 2, rng);
      double ref = TestMath.dot(len, x, 1, y, 2);
      double scale = Math.sqrt(TestMath.sqNorm(len, x, 1) * TestMath.sqNorm(len, y, 2)) + 1e-30;
      assertEquals(ref, Simd.dot(len, x, 1, y, 2), 1e-6 * scale, "dot len " + len);
      int c = 1 + rng.nextInt(11);
      float[] A = gaussian(c * len + 3, rng);
      int[] off = new int[c];
      for (int i = 0; i < c; i++) {
        off[i] = 3 + ((i * 5) % c) * len; // permuted columns
      }
      double[] K = new double[c * c];
      float[] u = gaussian(len, rng);
      float[] su = new float[c];
      Simd.gram(A, off, c, len, K, u, su);
      for (int i = 0; i < c; i++) {
        for (int j = 0; j < c; j++) {
          double r = TestMath.dot(len, A, off[i], A, off[j]);
          double sc = Math.sqrt(TestMath.sqNorm(len, A, off[i]) * TestMath.sqNorm(len, A, off[j])) + 1e-30;
          assertEquals(r, K[i * c + j], 1e-6 * sc, "K[" + i + "][" + j + "] len " + len + " c " + c);
          assertEquals(K[i * c + j], K[j * c + i], "K symmetric");
        }
        double r = TestMath.dot(len, A, off[i], u, 0);
        double sc = Math.sqrt(TestMath.sqNorm(len, A, off[i]) * TestMath.sqNorm(len, u, 0)) + 1e-30;
        assertEquals(r, su[i], 1e-6 * sc, "(Eᵀu)[" + i + "] len " + len + " c " + c);
      }
      // the same call twice gives the same bits
      double[] K2 = new double[c * c];
      Simd.gram(A, off, c, len, K2, null, null);
      assertArrayEquals(K, K2);
    }
  }

  /** axpyColumns: the bits of one axpy per column, in order, on both paths; any count of columns. */
  @Test
  void axpyColumnsEqualsSuccessiveAxpys() {
    SplittableRandom rng = new SplittableRandom(11);
    for (int len : LENGTHS) {
      for (int c : new int[] {0, 1, 3, 4, 5, 9}) {
        float[] x = gaussian(c * (len + 2) + 1, rng);
        float[] a = gaussian(c, rng);
        int[] off = new int[c];
        for (int t = 0; t < c; t++) {
          off[t] = t * (len + 2) + rng.nextInt(2);
        }
        float[] y0 = gaussian(len + 1, rng);
        float[] expected = y0.clone();
        for (int t = 0; t < c; t++) {
          Simd.axpyScalar(len, a[t], x, off[t], expected, 1);
        }
        float[] got = y0.clone();
        Simd.axpyColumns(len, a, x, off, c, got, 1);
        assertArrayEquals(expected, got, "len " + len + " columns " + c);
      }
    }
  }

  /** The exact product a·x rounded once to an integer, half to even. */
  static long roundedOnce(double a, float x) {
    return new java.math.BigDecimal(a).multiply(new java.math.BigDecimal(x))
        .setScale(0, java.math.RoundingMode.HALF_EVEN).longValueExact();
  }

  /**
   * addRounded / addRoundedColumns: every product rounded to an integer and summed exactly, so any grouping and
   * either path give the same bits, equal to the exact sum of the rounded products.
   */
  @Test
  void roundedSumsAreExactInAnyGrouping() {
    SplittableRandom rng = new SplittableRandom(12);
    for (int len : LENGTHS) {
      int c = 7;
      float[] x = gaussian(c * len + 1, rng);
      double[] a = new double[c];
      int[] off = new int[c];
      for (int t = 0; t < c; t++) {
        a[t] = Math.scalb(TestMath.gaussian(rng), 40);
        off[t] = t * len;
      }
      double[] one = new double[len];
      for (int t = c - 1; t >= 0; t--) { // reverse order, one column at a time
        Simd.addRoundedScalar(len, a[t], x, off[t], one, 0);
      }
      double[] grouped = new double[len];
      Simd.addRoundedColumns(x, off, c, len, a, grouped, 0);
      assertArrayEquals(one, grouped, "len " + len);
      for (int i = 0; i < len; i++) {
        long exact = 0;
        for (int t = 0; t < c; t++) {
          exact += roundedOnce(a[t], x[off[t] + i]);
        }
        assertEquals((double) exact, grouped[i], "len " + len + " entry " + i);
        assertEquals(grouped[i], Math.rint(grouped[i]), "an integer");
      }
    }
  }

  /**
   * The rounding is of the exact product, once: in each column one product whose double, rounded to the nearest,
   * lands on a half (then rounded to even) while the exact product lies beyond it — in each position of a group of
   * four columns and in a column alone, in a vector step and in the tail, on every path.
   */
  @Test
  void roundedSumsRoundTheExactProductOnce() {
    SplittableRandom rng = new SplittableRandom(5);
    int len = 19; // four or two vector steps, then a tail of 3, at 4 or 8 double lanes
    int[] tie = {0, 9, 17, 3, 18}; // where each column's product is near a half; columns 0-3 a group, 4 alone
    int c = tie.length;
    double[] a = new double[c];
    float[] x = new float[c * len];
    int[] off = new int[c];
    for (int t = 0; t < c; t++) {
      off[t] = t * len;
      for (int i = 0; i < len; i++) {
        x[off[t] + i] = (float) (1 + rng.nextDouble());
      }
      float xt;
      do { // (K + ½)/x in double: the exact product is K + ½ + (a's rounding)·x, within 2^-12 of the half
        xt = (float) (1 + rng.nextDouble());
        a[t] = (Math.floor(Math.scalb(1 + rng.nextDouble(), 40)) + 0.5) / xt;
      } while (roundedOnce(a[t], xt) == Math.round(Math.rint(a[t] * xt)));
      x[off[t] + tie[t]] = xt;
    }
    for (int path = 0; path < 3; path++) {
      double[] acc = new double[len];
      for (int t = 0; t < c; t++) {
        if (path == 1) {
          Simd.addRounded(len, a[t], x, off[t], acc, 0);
        } else if (path == 2) {
          Simd.addRoundedScalar(len, a[t], x, off[t], acc, 0);
        }
      }
      if (path == 0) {
        Simd.addRoundedColumns(x, off, c, len, a, acc, 0);
      }
      for (int i = 0; i < len; i++) {
        long exact = 0;
        for (int t = 0; t < c; t++) {
          exact += roundedOnce(a[t], x[off[t] + i]);
        }
        assertEquals((double) exact, acc[i], "path " + path + ", entry " + i);
      }
    }
  }
}
