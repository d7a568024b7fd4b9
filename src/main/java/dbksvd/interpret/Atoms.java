package dbksvd.interpret;

import dbksvd.linalg.Blas;

import java.util.Arrays;
import java.util.TreeSet;

/** Atom lists and the geometry of D that inspect shows: the nearest other atoms by |cosine|. */
public final class Atoms {
  private Atoms() {}

  /**
   * Parses an atom list: {@code all}, or comma-separated numbers and ranges ({@code 0-99,120,4000-4095}), every atom
   * within 0..m-1. Returns the atoms ascending, without repeats.
   */
  public static int[] parse(String spec, int m) {
    String s = spec.trim();
    if (s.equalsIgnoreCase("all")) {
      int[] a = new int[m];
      Arrays.setAll(a, i -> i);
      return a;
    }
    TreeSet<Integer> set = new TreeSet<>();
    for (String part : s.split(",")) {
      String p = part.trim();
      int from;
      int to;
      try {
        int dash = p.indexOf('-', 1);
        if (dash > 0) {
          from = Integer.parseInt(p.substring(0, dash).trim());
          to = Integer.parseInt(p.substring(dash + 1).trim());
        } else {
          from = Integer.parseInt(p);
          to = from;
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--atoms expects 'all' or a list like 0-99,120; got '" + spec + "'");
      }
      if (from < 0 || to >= m || from > to) {
        throw new IllegalArgumentException("--atoms " + p + " is outside the model's atoms 0.." + (m - 1));
      }
      for (int j = from; j <= to; j++) {
        set.add(j);
      }
    }
    return set.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * For each atom in {@code atoms}, the {@code count} other atoms i with the largest |dᵢᵀdⱼ| (D d × m column-major,
   * unit-norm atoms, so this is |cosine|), strongest first: result[s] = {atom ids}, cos[s] = signed cosines.
   */
  public static int[][] nearest(float[] D, int d, int m, int[] atoms, int count, float[][] cos) {
    int c = Math.min(count, m - 1);
    int[][] out = new int[atoms.length][];
    int block = 256; // columns of G = DᵀD per GEMM: m × 256 floats at a time, never all of G
    float[] sel = new float[d * block];
    float[] G = new float[m * block];
    for (int s0 = 0; s0 < atoms.length; s0 += block) {
      int w = Math.min(block, atoms.length - s0);
      for (int q = 0; q < w; q++) {
        System.arraycopy(D, atoms[s0 + q] * d, sel, q * d, d);
      }
      Blas.sgemm("T", "N", m, w, d, 1f, D, 0, d, sel, 0, d, 0f, G, 0, m);
      for (int q = 0; q < w; q++) {
        int j = atoms[s0 + q];
        int[] best = new int[c];
        float[] bestCos = new float[c];
        int n = 0;
        for (int i = 0; i < m; i++) {
          if (i == j) {
            continue;
          }
          float v = G[q * m + i];
          float a = Math.abs(v);
          if (c > 0 && (n < c || a > Math.abs(bestCos[n - 1]))) { // insertion into a short sorted list
            int at = n < c ? n++ : n - 1;
            while (at > 0 && Math.abs(bestCos[at - 1]) < a) {
              best[at] = best[at - 1];
              bestCos[at] = bestCos[at - 1];
              at--;
            }
            best[at] = i;
            bestCos[at] = v;
          }
        }
        out[s0 + q] = Arrays.copyOf(best, n);
        cos[s0 + q] = Arrays.copyOf(bestCos, n);
      }
    }
    return out;
  }
}
