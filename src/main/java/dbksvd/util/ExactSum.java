package dbksvd.util;

import java.io.Serializable;
import java.util.Arrays;

/**
 * A sum of doubles kept exactly, as non-overlapping partials (Shewchuk's expansion, as Python's math.fsum), and
 * read rounded once: the value does not depend on the order or the grouping of the additions. So partial sums made
 * on any executors, merged in any order, give the same bits.
 *
 * <p>Example: 1e16 + 1 + (−1e16) in doubles is 0 in that order and 1 in another; here it is 1 in every order, held
 * as the partials [1] after the three additions.
 */
public final class ExactSum implements Serializable {
  private static final long serialVersionUID = 1L;
  private double[] partials = new double[2];
  private int size;

  public ExactSum add(double x) {
    int i = 0;
    for (int j = 0; j < size; j++) {
      double y = partials[j];
      if (Math.abs(x) < Math.abs(y)) {
        double t = x;
        x = y;
        y = t;
      }
      double hi = x + y;
      double lo = y - (hi - x);
      if (lo != 0.0) {
        partials[i++] = lo;
      }
      x = hi;
    }
    if (i == partials.length) {
      partials = Arrays.copyOf(partials, 2 * i);
    }
    partials[i++] = x;
    size = i;
    return this;
  }

  public ExactSum add(ExactSum o) {
    for (int j = 0; j < o.size; j++) {
      add(o.partials[j]);
    }
    return this;
  }

  /** The sum, correctly rounded to a double. */
  public double value() {
    if (size == 0) {
      return 0.0;
    }
    int n = size - 1;
    double hi = partials[n];
    double lo = 0;
    while (n > 0) {
      double x = hi;
      double y = partials[--n];
      hi = x + y;
      double yr = hi - x;
      lo = y - yr;
      if (lo != 0.0) {
        break;
      }
    }
    // round half to even across the remaining partials, as fsum does
    if (n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0))) {
      double y = lo * 2;
      double x = hi + y;
      if (y == x - hi) {
        hi = x;
      }
    }
    return hi;
  }
}
