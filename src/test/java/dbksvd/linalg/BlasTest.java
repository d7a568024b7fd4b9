package dbksvd.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BlasTest {

  private static float[] gaussian(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }

  /** G in column blocks (computed at once) has the bits of G from one call, for shapes with ragged tails. */
  @Test
  void gramInColumnBlocksEqualsOneCall() {
    for (int[] shape : new int[][] {{64, 200}, {96, 301}, {257, 500}}) {
      int d = shape[0], m = shape[1];
      float[] D = gaussian(d * m, d + m);
      float[] one = Blas.gram(D, d, m, 1);
      for (int parts : new int[] {2, 3, 5}) {
        assertArrayEquals(one, Blas.gram(D, d, m, parts), "d=" + d + " m=" + m + " parts=" + parts);
      }
      // and it is DᵀD
      double g = 0;
      for (int i = 0; i < d; i++) {
        g += (double) D[3 * d + i] * D[7 * d + i];
      }
      assertEquals(g, one[7 * m + 3], 1e-4 * d);
    }
  }
}
