package dbksvd.update;

import dbksvd.linalg.Simd;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The K-SVD update of one atom batch, Gauss-Seidel: for each atom j in order, Ω = the samples using j,
 * E = R_Ω + d_j·x_jΩ, (d_j, x_jΩ) ← the top singular triplet of E (u, σ·v), then R_Ω ← E − d_j·x_jΩ so the next
 * atom sees the current residual. Atoms no sample uses are reported unused and left as they were. E lives in the
 * block's own residual columns (formed in place, downdated in place), so the only passes over it are: forming it,
 * the solver's, and one fused pass for x = Eᵀu and R_Ω = E − u·xᵀ.
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
    // E = R_Ω + d_j·x_jΩ is formed in place, in the residual columns of the samples of Ω (no gather, no copy);
    // the solver and the downdate R_Ω = E − u·xᵀ work on those columns through their offsets
    int[] off = new int[8];
    float[] x = new float[8];
    float[] u = new float[d];
    final boolean profile = scratch.profile;
    for (int a = 0; a < na; a++) {
      int from = count[a];
      int c = count[a + 1] - from;
      if (c == 0) {
        continue;
      }
      used[a] = true;
      if (off.length < c) {
        off = new int[Math.max(c, 2 * off.length)];
        x = new float[off.length];
      }
      long t0 = profile ? System.nanoTime() : 0;
      int aOff = a * d;
      for (int i = 0; i < c; i++) {
        off[i] = sampleOf[from + i] * d;
        Simd.axpy(d, block.coef[entryOf[from + i]], newAtoms, aOff, block.R, off[i]);
      }
      long t1 = profile ? System.nanoTime() : 0;
      System.arraycopy(newAtoms, aOff, u, 0, d);
      boolean nonZero = svd.topLeft(block.R, off, d, c, u, scratch);
      long t2 = profile ? System.nanoTime() : 0;
      if (nonZero) {
        Simd.projectOut(block.R, off, c, d, u, x); // x = Eᵀu, then R_Ω = E − u·xᵀ
        System.arraycopy(u, 0, newAtoms, aOff, d);
      } else {
        java.util.Arrays.fill(x, 0, c, 0f); // E = 0: keep the atom, its coefficients become 0, R_Ω = E
      }
      for (int i = 0; i < c; i++) {
        block.coef[entryOf[from + i]] = x[i];
      }
      if (profile) {
        long t3 = System.nanoTime();
        scratch.formNanos += t1 - t0;
        scratch.solveNanos += t2 - t1;
        scratch.downdateNanos += t3 - t2;
      }
    }
    double sse = Simd.sumOfSquares(n * d, block.R, 0);
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
