package dbksvd.interpret;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/** The per-atom heaps against a plain sort, and independence from how rows are split into partitions. */
class AtomTopKTest {
  static final int M = 12;
  static final int ROWS = 3000;

  /** Random sparse codes: row r uses 3 atoms with Gaussian coefficients; a few repeated magnitudes for ties. */
  static float[][] codes(long seed) {
    Random rnd = new Random(seed);
    float[][] x = new float[ROWS][M];
    for (int r = 0; r < ROWS; r++) {
      for (int t = 0; t < 3; t++) {
        float v = (float) rnd.nextGaussian();
        x[r][rnd.nextInt(M)] = r % 97 == 0 ? 0.5f : v;
      }
    }
    return x;
  }

  static void feed(AtomTopK acc, float[][] x, int from, int to) {
    for (int r = from; r < to; r++) {
      acc.countRow();
      for (int j = 0; j < M; j++) {
        int row = r;
        acc.offer(j, x[r][j], r, () -> "row " + row);
      }
    }
  }

  @Test
  void topRowsAreTheLargestMagnitudesAndMergeOrderDoesNotMatter() {
    float[][] x = codes(1);
    int[] atoms = {0, 3, 11};
    AtomTopK whole = new AtomTopK(M, atoms, 7, 4, 9);
    feed(whole, x, 0, ROWS);
    // three partitions, merged in two different orders
    AtomTopK[] parts = new AtomTopK[3];
    int[] cut = {0, 700, 2100, ROWS};
    for (int p = 0; p < 3; p++) {
      parts[p] = new AtomTopK(M, atoms, 7, 4, 9);
      feed(parts[p], x, cut[p], cut[p + 1]);
    }
    AtomTopK a = new AtomTopK(M, atoms, 7, 4, 9).merge(parts[2]).merge(parts[0]).merge(parts[1]);
    assertEquals(ROWS, a.rows);
    for (int s = 0; s < atoms.length; s++) {
      int j = atoms[s];
      List<Integer> rows = new ArrayList<>();
      for (int r = 0; r < ROWS; r++) {
        if (x[r][j] != 0) {
          rows.add(r);
        }
      }
      rows.sort(Comparator.<Integer>comparingDouble(r -> -Math.abs(x[r][j])).thenComparingInt(r -> r));
      List<AtomTopK.Entry> top = whole.top(s);
      assertEquals(7, top.size());
      for (int i = 0; i < 7; i++) {
        assertEquals((long) rows.get(i), top.get(i).key(), "atom " + j + " place " + i);
        assertEquals(x[rows.get(i)][j], top.get(i).coef());
        assertEquals("row " + rows.get(i), top.get(i).payload());
      }
      assertEquals(rows.size(), whole.usage[j]);
      assertEquals(top, a.top(s));
      assertEquals(whole.weaker(s), a.weaker(s));
      assertArrayEquals(whole.usage, a.usage);
      // weaker rows: use the atom, are not in the top, and the draw depends on the seed
      List<AtomTopK.Entry> weak = whole.weaker(s);
      assertEquals(4, weak.size());
      Set<Long> topKeys = new HashSet<>();
      top.forEach(e -> topKeys.add(e.key()));
      for (AtomTopK.Entry e : weak) {
        assertFalse(topKeys.contains(e.key()));
        assertEquals(x[(int) e.key()][j], e.coef());
        assertTrue(e.coef() != 0);
      }
    }
    AtomTopK other = new AtomTopK(M, atoms, 7, 4, 10);
    feed(other, x, 0, ROWS);
    assertFalse(other.weaker(0).equals(whole.weaker(0)), "another seed draws other weaker rows");
  }

  @Test
  void fewerRowsThanTopKeepsAllAndRejectsBadShapes() {
    AtomTopK acc = new AtomTopK(4, new int[] {2}, 5, 2, 0);
    acc.offer(2, -3f, 1, () -> "a");
    acc.offer(2, 1f, 2, () -> "b");
    acc.offer(1, 9f, 3, () -> "c");
    assertEquals(List.of(1L, 2L), acc.top(0).stream().map(AtomTopK.Entry::key).toList());
    assertEquals(0, acc.weaker(0).size());
    assertEquals(1, acc.usage[1]);
    assertThrows(IllegalArgumentException.class, () -> new AtomTopK(4, new int[] {4}, 5, 2, 0));
    assertThrows(IllegalArgumentException.class, () -> acc.merge(new AtomTopK(4, new int[] {2}, 6, 2, 0)));
  }

  @Test
  void atomListsAndNearestAtoms() {
    assertArrayEquals(new int[] {0, 1, 2, 5, 7}, Atoms.parse("5,0-2, 7,1", 8));
    assertEquals(8, Atoms.parse("all", 8).length);
    assertThrows(IllegalArgumentException.class, () -> Atoms.parse("3-9", 8));
    assertThrows(IllegalArgumentException.class, () -> Atoms.parse("x", 8));
    // d = 2: atoms at angles 0°, 10°, 90°, 170°: nearest of atom 0 by |cos| are 1 and 3 (|cos 10°|), then 2
    int d = 2;
    double[] deg = {0, 10, 90, 170};
    float[] D = new float[d * deg.length];
    for (int j = 0; j < deg.length; j++) {
      D[j * d] = (float) Math.cos(Math.toRadians(deg[j]));
      D[j * d + 1] = (float) Math.sin(Math.toRadians(deg[j]));
    }
    float[][] cos = new float[1][];
    int[][] near = Atoms.nearest(D, d, deg.length, new int[] {0}, 3, cos);
    assertEquals(3, near[0].length);
    assertEquals(Set.of(1, 3), Set.of(near[0][0], near[0][1]));
    assertEquals(2, near[0][2]);
    assertEquals(Math.cos(Math.toRadians(10)), Math.abs(cos[0][0]), 1e-6);
    assertEquals(0, cos[0][2], 1e-6);
  }

  @Test
  void classMeansRankTheAtomThatSeparatesTheClasses() {
    ClassMeans cm = new ClassMeans(3, 2);
    // class 0 uses atom 1 with either sign; class 1 never does; atom 2 is used alike by both
    cm.add(0, new int[] {1, 2}, new float[] {2f, 1f}, 0, 2);
    cm.add(0, new int[] {1, 2}, new float[] {-2f, 1f}, 0, 2);
    cm.add(1, new int[] {2}, new float[] {1f}, 0, 1);
    cm.add(1, new int[] {0, 2}, new float[] {0.5f, 1f}, 0, 2);
    double[] score = cm.scores();
    assertEquals(2.0, score[1], 1e-12);
    assertEquals(0.25, score[0], 1e-12);
    assertEquals(0.0, score[2], 1e-12);
    assertArrayEquals(new int[] {1, 0}, ClassMeans.topAtoms(score, 2));
  }
}
