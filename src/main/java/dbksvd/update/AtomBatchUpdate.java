package dbksvd.update;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The K-SVD update of one atom batch, Gauss-Seidel: for each atom j in order, Ω = the samples using j,
 * E = R_Ω + d_j·x_jΩ, (d_j, x_jΩ) ← the top singular triplet of E (u, σ·v), then R_Ω ← E − d_j·x_jΩ so the next
 * atom sees the current residual. Atoms no sample uses are reported unused and left as they were.
 */
public final class AtomBatchUpdate {
  private AtomBatchUpdate() {}

  /**
   * The updated atoms of one batch.
   *
   * @param batch the batch id
   * @param atoms d × atoms-in-batch, the new atom vectors (unchanged for unused atoms)
   * @param used used[i] false when no sample used the i-th atom of the batch
   * @param sse Σ‖r‖² over the batch's samples after the update (their residual for the batch's group)
   */
  public record Result(int batch, float[] atoms, boolean[] used, double sse) implements Serializable {}

  /**
   * Updates the atoms of a batch; {@code block.R} and {@code block.coef} are updated in place.
   *
   * @param atomVectors d × na, the current atoms of the batch in update order
   */
  public static Result run(AtomBatchBlock block, float[] atomVectors, int na, TopSingularTriplet svd,
      TopSingularTriplet.Scratch scratch) {
    final int d = block.d;
    final int n = block.samples();
    float[] newAtoms = atomVectors.clone();
    boolean[] used = new boolean[na];
    // inverted index: for local atom a, the entry positions (into coef/local) of its samples
    int[] count = new int[na + 1];
    for (int e = 0; e < block.local.length; e++) {
      count[block.local[e] + 1]++;
    }
    for (int a = 0; a < na; a++) {
      count[a + 1] += count[a];
    }
    int[] entryOf = new int[block.local.length];
    int[] sampleOf = new int[block.local.length];
    int[] fill = Arrays.copyOf(count, na);
    for (int s = 0; s < n; s++) {
      for (int e = block.ptr[s]; e < block.ptr[s + 1]; e++) {
        int a = block.local[e];
        entryOf[fill[a]] = e;
        sampleOf[fill[a]++] = s;
      }
    }
    float[] E = new float[0];
    float[] u = new float[d];
    float[] x = new float[0];
    for (int a = 0; a < na; a++) {
      int from = count[a];
      int c = count[a + 1] - from;
      if (c == 0) {
        continue;
      }
      used[a] = true;
      if (E.length < c * d) {
        E = new float[c * d];
        x = new float[c];
      }
      int aOff = a * d;
      for (int i = 0; i < c; i++) {
        int s = sampleOf[from + i];
        float xi = block.coef[entryOf[from + i]];
        int eo = i * d;
        int ro = s * d;
        for (int r = 0; r < d; r++) {
          E[eo + r] = block.R[ro + r] + newAtoms[aOff + r] * xi;
        }
      }
      System.arraycopy(newAtoms, aOff, u, 0, d);
      double sigma = svd.compute(E, d, c, u, x, scratch);
      if (sigma == 0) {
        System.arraycopy(newAtoms, aOff, u, 0, d); // E = 0: keep the atom, its coefficients become 0
      }
      for (int i = 0; i < c; i++) {
        int s = sampleOf[from + i];
        float xi = x[i];
        block.coef[entryOf[from + i]] = xi;
        int eo = i * d;
        int ro = s * d;
        for (int r = 0; r < d; r++) {
          block.R[ro + r] = E[eo + r] - u[r] * xi;
        }
      }
      System.arraycopy(u, 0, newAtoms, aOff, d);
    }
    double sse = 0;
    for (int i = 0; i < n * d; i++) {
      sse += (double) block.R[i] * block.R[i];
    }
    return new Result(block.batch, newAtoms, used, sse);
  }

  /** Gathers the current atoms of batch b from D (d × m) in update order. */
  public static float[] gather(float[] D, int d, int[] atoms) {
    float[] out = new float[atoms.length * d];
    for (int i = 0; i < atoms.length; i++) {
      System.arraycopy(D, atoms[i] * d, out, i * d, d);
    }
    return out;
  }
}
