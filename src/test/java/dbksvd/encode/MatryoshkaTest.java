package dbksvd.encode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.TestMath;
import dbksvd.synth.PlantedData;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MatryoshkaTest {

  /** Group boundaries from the definition: sizes 2^L, 2^L, 2^(L+1), …, so prefix ends 2^L, 2^(L+1), … cut at m. */
  static int[] expectedStarts(int L, int m) {
    List<Integer> starts = new ArrayList<>(List.of(0));
    for (long end = 1L << L; ; end *= 2) {
      starts.add((int) Math.min(end, m));
      if (end >= m) {
        break;
      }
    }
    return starts.stream().mapToInt(Integer::intValue).toArray();
  }

  @Test
  void groupSizesFollowPowersOfTwo() {
    assertArrayEquals(new int[] {0, 8, 16, 32, 64}, AtomGroups.matryoshka(3, 64, 8, null).start(),
        "the documented example");
    for (int L = 0; L <= 5; L++) {
      for (int m = (1 << L) + 1; m <= 100; m += 7) {
        AtomGroups g = AtomGroups.matryoshka(L, m, 64, null);
        int[] st = g.start();
        assertArrayEquals(expectedStarts(L, m), st, "L=" + L + " m=" + m);
        assertEquals(m, g.m());
        for (int i = 0; i < g.count(); i++) {
          int full = i == 0 ? 1 << L : 1 << (L + i - 1);
          if (i < g.count() - 1) {
            assertEquals(full, g.size(i), "L=" + L + " m=" + m + " group " + i);
          } else {
            assertTrue(g.size(i) >= 1 && g.size(i) <= full, "last group is cut at m: L=" + L + " m=" + m);
          }
        }
        for (int j = 0; j < m; j++) {
          int grp = g.groupOf(j);
          assertTrue(st[grp] <= j && j < st[grp + 1]);
        }
      }
    }
  }

  @Test
  void budgetsSplitEvenlyEarlyGroupsFirst() {
    for (int k = 4; k <= 13; k++) {
      AtomGroups g = AtomGroups.matryoshka(3, 64, k, null); // 4 groups
      assertEquals(4, g.count());
      assertEquals(k, g.totalBudget());
      int[] b = g.budget();
      for (int i = 1; i < b.length; i++) {
        assertTrue(b[i] <= b[i - 1], "budgets must not grow: " + java.util.Arrays.toString(b));
        assertTrue(b[0] - b[i] <= 1, "even split: " + java.util.Arrays.toString(b));
      }
    }
    assertArrayEquals(new int[] {3, 3, 2, 2}, AtomGroups.matryoshka(3, 64, 10, new int[0]).budget());
    assertArrayEquals(new int[] {1, 2, 3, 4}, AtomGroups.matryoshka(3, 64, 99, new int[] {1, 2, 3, 4}).budget());
  }

  @Test
  void badSettingsAreRejectedWithAClearMessage() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AtomGroups.matryoshka(6, 64, 8, null));
    assertTrue(e.getMessage().contains("2^L < m"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> AtomGroups.matryoshka(-1, 64, 8, null));
    assertThrows(IllegalArgumentException.class, () -> AtomGroups.matryoshka(31, 64, 8, null));
    e = assertThrows(IllegalArgumentException.class, () -> AtomGroups.matryoshka(3, 64, 3, null));
    assertTrue(e.getMessage().contains("k = 3") && e.getMessage().contains("4"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> AtomGroups.matryoshka(3, 64, 8, new int[] {4, 4}));
    assertTrue(e.getMessage().contains("4 groups") && e.getMessage().contains("2 budgets"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> AtomGroups.matryoshka(3, 64, 8, new int[] {4, 4, 0, 1}));
    assertTrue(e.getMessage().contains("budget 0"), e.getMessage());
  }

  @Test
  void encodeRespectsBudgetsAndKeepsPerGroupResiduals() {
    PlantedData pd = new PlantedData(32, 64, 6, 20, 51);
    int n = 100;
    float[] Y = pd.rows(0, n);
    // a dictionary that is not the planted one, so every group has work to do
    float[] Dd = TestMath.randomUnitDictionary(32, 64, new java.util.SplittableRandom(52));
    Dictionary dict = new Dictionary(Dd, 32, 64);
    long[] rowId = new long[n];
    for (int s = 0; s < n; s++) {
      rowId[s] = s;
    }
    for (Encoder enc : new Encoder[] {new MatchingPursuit(1, 0), new OrthogonalMatchingPursuit(1, 0)}) {
      for (int[] budgets : new int[][] {null, {1, 3, 2, 2}}) {
        AtomGroups groups = AtomGroups.matryoshka(3, 64, 8, budgets);
        EncodedBlock eb = EncodedBlock.encode(dict, groups, enc, Y, rowId, 13);
        assertEquals(groups.count(), eb.groups());
        EncodedBlock.Residuals residuals = eb.residuals(Dd);
        double[] groupSq = new double[groups.count()];
        for (int s = 0; s < n; s++) {
          int[] perGroup = new int[groups.count()];
          for (int t = 0; t < eb.codes.count[s]; t++) {
            perGroup[groups.groupOf(eb.codes.atom[s * eb.codes.capacity + t])]++;
          }
          double[] r = TestMath.column(Y, 32, s);
          assertEquals(TestMath.sqNorm(r), eb.ySqNorm[s], 1e-6 * eb.ySqNorm[s]);
          double yn = Math.sqrt(eb.ySqNorm[s]);
          for (int g = 0; g < groups.count(); g++) {
            assertTrue(perGroup[g] <= groups.budget()[g], enc.name() + ": sample " + s + " uses " + perGroup[g]
                + " atoms of group " + g + " with budget " + groups.budget()[g]);
            // residual[g] = y − contribution of groups 0..g
            for (int t = 0; t < eb.codes.count[s]; t++) {
              int j = eb.codes.atom[s * eb.codes.capacity + t];
              if (groups.groupOf(j) == g) {
                for (int i = 0; i < 32; i++) {
                  r[i] -= eb.codes.value[s * eb.codes.capacity + t] * Dd[j * 32 + i];
                }
              }
            }
            float[] Rg = residuals.of(g);
            for (int i = 0; i < 32; i++) {
              assertEquals(r[i], Rg[s * 32 + i], 1e-5 * yn, enc.name() + " residual[" + g + "], " + s);
            }
            groupSq[g] += TestMath.sqNorm(r);
            if (enc instanceof OrthogonalMatchingPursuit) {
              // each group is a least-squares fit of the residual it was given: orthogonal to its chosen atoms
              for (int t = 0; t < eb.codes.count[s]; t++) {
                int j = eb.codes.atom[s * eb.codes.capacity + t];
                if (groups.groupOf(j) == g) {
                  double c = 0;
                  for (int i = 0; i < 32; i++) {
                    c += r[i] * Dd[j * 32 + i];
                  }
                  assertTrue(Math.abs(c) <= 1e-4 * yn, "OMP group " + g + " residual not orthogonal to atom " + j);
                }
              }
            }
          }
          assertEquals(TestMath.sqNorm(r), eb.rSqNorm[s], 1e-5 * eb.ySqNorm[s], "final ‖r‖²");
        }
        for (int g = 1; g < groups.count(); g++) {
          assertTrue(groupSq[g] <= groupSq[g - 1] * (1 + 1e-9), "each group can only lower the residual");
        }
        StringBuilder sb = new StringBuilder();
        double sy = 0;
        for (double v : eb.ySqNorm) {
          sy += v;
        }
        for (double v : groupSq) {
          sb.append(String.format(" %.3f", v / sy));
        }
        System.out.printf("Matryoshka %s %s: ‖R_g‖²/‖Y‖² after each group:%s%n", enc.name(), groups, sb);
      }
    }
  }
}
