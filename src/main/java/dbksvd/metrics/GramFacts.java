package dbksvd.metrics;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * What the fit needs of G = DᵀD besides encoding, for the atoms [from, to): each atom's coherence (max over i ≠ j
 * of |G_ij|) and the earlier atoms it nearly repeats (i &lt; j with |G_ij| above the clearing threshold). Computed
 * where G already is — the tasks that encode with it — so the driver receives O(m + pairs) numbers, never G.
 *
 * <p>Example, m = 4, the range [2, 4), threshold 0.99, with |G_20| = 0.995 and every other |G_ij| ≤ 0.3:
 * {@code coherence = [0.995, c₃]}, {@code atom = [2]}, {@code earlier = [0]}: atom 2 repeats atom 0.
 *
 * @param atom,earlier the pairs (atom, earlier) with |G_atom,earlier| above the threshold, by atom then earlier
 */
public record GramFacts(int from, int to, double[] coherence, int[] atom, int[] earlier) implements Serializable {

  /**
   * The facts of the atoms [from, to) from G (m × m); no pairs with a threshold ≥ 1. Column blocks are scanned at
   * once on the JVM's cores and put together in atom order.
   */
  public static GramFacts of(float[] G, int m, int from, int to, double threshold) {
    int block = 64;
    int blocks = (to - from + block - 1) / block;
    GramFacts[] parts = new GramFacts[blocks];
    java.util.stream.IntStream.range(0, blocks).parallel().forEach(b -> parts[b] = scan(G, m, from + b * block,
        Math.min(to, from + (b + 1) * block), threshold));
    if (blocks == 1) {
      return parts[0];
    }
    double[] c = new double[to - from];
    int pairs = Arrays.stream(parts).mapToInt(f -> f.atom.length).sum();
    int[] a = new int[pairs];
    int[] e = new int[pairs];
    int at = 0;
    for (GramFacts f : parts) {
      System.arraycopy(f.coherence, 0, c, f.from - from, f.to - f.from);
      System.arraycopy(f.atom, 0, a, at, f.atom.length);
      System.arraycopy(f.earlier, 0, e, at, f.earlier.length);
      at += f.atom.length;
    }
    return new GramFacts(from, to, c, a, e);
  }

  private static GramFacts scan(float[] G, int m, int from, int to, double threshold) {
    double[] c = new double[to - from];
    int[] a = new int[8];
    int[] e = new int[8];
    int pairs = 0;
    for (int j = from; j < to; j++) {
      int col = j * m; // m ≤ 46340 (Dictionary.MAX_ATOMS): j·m + i < 2^31
      float best = 0;
      for (int i = 0; i < m; i++) {
        float g = Math.abs(G[col + i]);
        if (i != j && g > best) {
          best = g;
        }
      }
      if (threshold < 1 && best > threshold) { // only then can an earlier atom be above the threshold
        for (int i = 0; i < j; i++) {
          if (Math.abs(G[col + i]) > threshold) {
            if (pairs == a.length) {
              a = Arrays.copyOf(a, 2 * pairs);
              e = Arrays.copyOf(e, 2 * pairs);
            }
            a[pairs] = j;
            e[pairs++] = i;
          }
        }
      }
      c[j - from] = best;
    }
    return new GramFacts(from, to, c, Arrays.copyOf(a, pairs), Arrays.copyOf(e, pairs));
  }

  /** Ranges that together cover [0, m) exactly once, as one. */
  public static GramFacts merge(List<GramFacts> parts, int m) {
    List<GramFacts> sorted = new ArrayList<>(parts);
    sorted.sort(Comparator.comparingInt(GramFacts::from));
    double[] c = new double[m];
    int pairs = sorted.stream().mapToInt(f -> f.atom.length).sum();
    int[] a = new int[pairs];
    int[] e = new int[pairs];
    int at = 0;
    int next = 0;
    for (GramFacts f : sorted) {
      if (f.from != next) {
        throw new IllegalStateException("atom ranges do not cover [0, " + m + "): at " + next + " comes " + f.from);
      }
      System.arraycopy(f.coherence, 0, c, f.from, f.to - f.from);
      System.arraycopy(f.atom, 0, a, at, f.atom.length);
      System.arraycopy(f.earlier, 0, e, at, f.earlier.length);
      at += f.atom.length;
      next = f.to;
    }
    if (next != m) {
      throw new IllegalStateException("atom ranges end at " + next + ", not m = " + m);
    }
    return new GramFacts(0, m, c, a, e);
  }
}
