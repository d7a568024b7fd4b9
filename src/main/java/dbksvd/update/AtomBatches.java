package dbksvd.update;

import dbksvd.encode.AtomGroups;
import dbksvd.util.Seeds;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The atoms shuffled into atom batches for one iteration. Atoms inside a batch are updated one after another
 * (Gauss-Seidel, the residual kept current); batches are independent of each other (Jacobi) and may run in
 * parallel. A batch never spans two Matryoshka groups, since each group is fitted to its own residual.
 *
 * <p>Example, m = 6, one group, 2 batches, the seeded shuffle gives [4, 0, 5, 2, 1, 3]: batch 0 = atoms [4, 0, 5]
 * in that order, batch 1 = [2, 1, 3]; {@code batchOf = [0, 1, 1, 1, 0, 0]}, {@code localOf = [1, 1, 0, 2, 0, 2]}.
 */
public final class AtomBatches implements Serializable {
  private static final long serialVersionUID = 1L;

  /** atoms[b]: the global atom ids of batch b, in update order. */
  public final int[][] atoms;
  /** group[b]: the atom group (Matryoshka level) of batch b. */
  public final int[] group;
  /** batchOf[j]: the batch of atom j. */
  public final int[] batchOf;
  /** localOf[j]: the position of atom j inside its batch. */
  public final int[] localOf;

  private AtomBatches(int[][] atoms, int[] group, int m) {
    this.atoms = atoms;
    this.group = group;
    this.batchOf = new int[m];
    this.localOf = new int[m];
    for (int b = 0; b < atoms.length; b++) {
      for (int i = 0; i < atoms[b].length; i++) {
        batchOf[atoms[b][i]] = b;
        localOf[atoms[b][i]] = i;
      }
    }
  }

  /**
   * Shuffles each group's atoms with a generator derived from (seed, iteration, group) and cuts the result into
   * min(batchesPerGroup, group size) near-equal batches.
   */
  public static AtomBatches assign(AtomGroups groups, int batchesPerGroup, long seed, long iteration) {
    if (batchesPerGroup < 1) {
      throw new IllegalArgumentException("atom batches must be at least 1, got " + batchesPerGroup);
    }
    int total = 0;
    for (int g = 0; g < groups.count(); g++) {
      total += Math.min(batchesPerGroup, groups.size(g));
    }
    int[][] atoms = new int[total][];
    int[] group = new int[total];
    int b = 0;
    for (int g = 0; g < groups.count(); g++) {
      int size = groups.size(g);
      int[] perm = Seeds.permutation(size, Seeds.rng(seed, Seeds.ATOM_BATCHES, iteration, g));
      int nb = Math.min(batchesPerGroup, size);
      for (int i = 0; i < nb; i++) {
        int from = (int) ((long) size * i / nb);
        int to = (int) ((long) size * (i + 1) / nb);
        int[] batch = Arrays.copyOfRange(perm, from, to);
        for (int t = 0; t < batch.length; t++) {
          batch[t] += groups.start()[g];
        }
        atoms[b] = batch;
        group[b++] = g;
      }
    }
    return new AtomBatches(atoms, group, groups.m());
  }

  public int count() {
    return atoms.length;
  }
}
