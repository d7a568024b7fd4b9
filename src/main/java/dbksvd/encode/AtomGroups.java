package dbksvd.encode;

import java.util.Arrays;

/**
 * The atoms of D split into consecutive groups, each coded with its own sparsity budget, in order, each group
 * fitted to the residual of the groups before it. One group of all m atoms with budget k is plain DB-KSVD.
 *
 * <p>Matryoshka with L = 3, m = 64, k = 8: groups [0, 8), [8, 16), [16, 32), [32, 64) — sizes 2^L, 2^L, 2^(L+1),
 * 2^(L+2) — so every prefix D[:, 0:2^(L+g)] is a dictionary of its own; budgets default to k split evenly,
 * earlier groups first: [2, 2, 2, 2].
 *
 * @param start first atom of each group, plus m at the end (length groups + 1)
 * @param budget sparsity budget of each group
 */
public record AtomGroups(int[] start, int[] budget) implements java.io.Serializable {
  public AtomGroups {
    if (start.length != budget.length + 1 || budget.length == 0) {
      throw new IllegalArgumentException("need one budget per group");
    }
    for (int g = 0; g < budget.length; g++) {
      if (start[g + 1] <= start[g]) {
        throw new IllegalArgumentException("empty atom group " + g + ": " + Arrays.toString(start));
      }
      if (budget[g] < 1) {
        throw new IllegalArgumentException("group " + g + " has budget " + budget[g] + "; each needs at least 1");
      }
    }
  }

  /** One group: plain DB-KSVD. */
  public static AtomGroups single(int m, int k) {
    return new AtomGroups(new int[] {0, m}, new int[] {k});
  }

  /**
   * Matryoshka groups of sizes 2^L, 2^L, 2^(L+1), … (the last one cut at m).
   *
   * @param budgets per-group budgets, or null/empty to split k evenly (earlier groups get the remainder)
   */
  public static AtomGroups matryoshka(int L, int m, int k, int[] budgets) {
    if (L < 0 || L > 30 || (1 << L) >= m) {
      throw new IllegalArgumentException("matryoshka L = " + L + " needs 2^L < m = " + m);
    }
    int[] bounds = new int[33];
    int g = 0;
    bounds[0] = 0;
    int end = 1 << L;
    while (true) {
      bounds[++g] = Math.min(end, m);
      if (end >= m) {
        break;
      }
      end *= 2;
    }
    int groups = g;
    int[] start = Arrays.copyOf(bounds, groups + 1);
    int[] budget = new int[groups];
    if (budgets != null && budgets.length > 0) {
      if (budgets.length != groups) {
        throw new IllegalArgumentException("matryoshka L = " + L + ", m = " + m + " makes " + groups
            + " groups " + Arrays.toString(start) + " but " + budgets.length + " budgets were given");
      }
      budget = budgets.clone();
    } else {
      if (k < groups) {
        throw new IllegalArgumentException("k = " + k + " cannot give each of the " + groups
            + " matryoshka groups one atom; raise k or L");
      }
      for (int i = 0; i < groups; i++) {
        budget[i] = k / groups + (i < k % groups ? 1 : 0);
      }
    }
    return new AtomGroups(start, budget);
  }

  public int count() {
    return budget.length;
  }

  public int size(int g) {
    return start[g + 1] - start[g];
  }

  /** Total budget: the most atoms one sample can use. */
  public int totalBudget() {
    int t = 0;
    for (int b : budget) {
      t += b;
    }
    return t;
  }

  /** The group holding atom j. */
  public int groupOf(int j) {
    for (int g = 0; g < budget.length; g++) {
      if (j < start[g + 1]) {
        return g;
      }
    }
    throw new IndexOutOfBoundsException("atom " + j);
  }

  public int m() {
    return start[start.length - 1];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AtomGroups a && Arrays.equals(start, a.start) && Arrays.equals(budget, a.budget);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(start) * 31 + Arrays.hashCode(budget);
  }

  @Override
  public String toString() {
    return "AtomGroups" + Arrays.toString(start) + " budgets " + Arrays.toString(budget);
  }

  /** groupOf[j]: the group of atom j. */
  public int[] groupOfAtoms() {
    int[] of = new int[start[start.length - 1]];
    for (int g = 0; g < budget.length; g++) {
      java.util.Arrays.fill(of, start[g], start[g + 1], g);
    }
    return of;
  }
}
