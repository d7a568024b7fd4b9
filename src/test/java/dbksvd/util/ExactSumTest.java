package dbksvd.util;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.SplittableRandom;

/** The exact sum: correctly rounded, whatever the order and grouping. */
class ExactSumTest {
  @Test
  void cancellationThatPlainDoublesLose() {
    assertEquals(0.0, 1e16 + 1 + -1e16);
    assertEquals(1.0, new ExactSum().add(1e16).add(1).add(-1e16).value());
    assertEquals(0.0, new ExactSum().value());
  }

  @Test
  void equalsTheRoundedExactSumInAnyOrderAndGrouping() {
    SplittableRandom rng = new SplittableRandom(4);
    for (int trial = 0; trial < 50; trial++) {
      int n = 1 + rng.nextInt(400);
      double[] x = new double[n];
      BigDecimal exact = BigDecimal.ZERO;
      for (int i = 0; i < n; i++) {
        x[i] = Math.scalb(rng.nextDouble() - 0.5, rng.nextInt(-60, 60));
        exact = exact.add(new BigDecimal(x[i]));
      }
      double want = Double.parseDouble(exact.toString()); // correctly rounded
      ExactSum forward = new ExactSum();
      for (double v : x) {
        forward.add(v);
      }
      ExactSum backward = new ExactSum();
      for (int i = n - 1; i >= 0; i--) {
        backward.add(x[i]);
      }
      int cut = rng.nextInt(n + 1);
      ExactSum left = new ExactSum();
      ExactSum right = new ExactSum();
      for (int i = 0; i < n; i++) {
        (i < cut ? left : right).add(x[i]);
      }
      assertEquals(want, forward.value(), "trial " + trial);
      assertEquals(want, backward.value(), "trial " + trial);
      assertEquals(want, right.add(left).value(), "trial " + trial);
    }
  }
}
