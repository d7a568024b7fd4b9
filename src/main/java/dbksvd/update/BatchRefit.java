package dbksvd.update;

import dbksvd.encode.EncodedBlock;
import dbksvd.encode.SparseCodes;
import dbksvd.linalg.Blas;
import dbksvd.linalg.Simd;

import java.io.Serializable;

/**
 * What {@code jacobi-batches} does to the samples after one atom batch's atoms have moved from d_j to d'_j: each
 * coefficient of a batch atom is refitted to the new direction, and the residual is brought up to date, so that the
 * next batch starts from the residual this one left:
 * <pre>
 *   x'_ij = d'_jᵀ(r_i + d_j·x_ij) = d'_jᵀr_i + x_ij·(d'_jᵀd_j)      (the best coefficient on d'_j for E_j's column)
 *   r_i  ← r_i + Σ_j d_j·x_ij − Σ_j d'_j·x'_ij                       (j over the batch atoms sample i uses)
 * </pre>
 * Every x'_ij of a sample is taken from the same r_i (the atoms of one batch were refitted at once, each against its
 * own E_j = R_Ω + d_j·x_jΩᵀ), then r_i is updated once. Sample by sample, the sample's slots in their order: the same
 * bits however the samples are split into blocks. The block given is not changed (a Spark stage's cached block must
 * stay as it is); the new one shares its row ids and norms ‖y‖².
 *
 * <p>Example, d = 2, one sample r = (0, 0.5) using atom d = (1, 0) with x = 2, new atom d' = (0.6, 0.8):
 * x' = d'ᵀr + x·d'ᵀd = 0.4 + 2·0.6 = 1.6, r ← (0, 0.5) + (2, 0) − 1.6·(0.6, 0.8) = (1.04, −0.78).
 */
public final class BatchRefit {
  private BatchRefit() {}

  /**
   * One batch's atoms before and after its update.
   *
   * @param localOf per atom of D, its position in the batch, or −1 when it is not in the batch
   * @param before d × (batch size), the batch's atoms before, in batch order
   * @param after d × (batch size), the batch's atoms after
   */
  public record Plan(int d, int[] localOf, float[] before, float[] after) implements Serializable {
    /** The plan for the atoms {@code atoms} of a dictionary of m atoms. */
    public static Plan of(int d, int m, int[] atoms, float[] before, float[] after) {
      int[] localOf = new int[m];
      java.util.Arrays.fill(localOf, -1);
      for (int a = 0; a < atoms.length; a++) {
        localOf[atoms[a]] = a;
      }
      return new Plan(d, localOf, before, after);
    }
  }

  /** The block with the batch's coefficients refitted and its residuals (and their norms) up to date. */
  public static EncodedBlock apply(EncodedBlock eb, Plan plan) {
    if (eb.groups() != 1) {
      throw new IllegalArgumentException("jacobi-batches refits blocks of one atom group, this one has "
          + eb.groups());
    }
    final int d = eb.d;
    final int n = eb.n;
    final SparseCodes old = eb.codes;
    final float[] before = plan.before();
    final float[] after = plan.after();
    final int[] localOf = plan.localOf();
    int na = before.length / d;
    double[] turn = new double[na]; // d'_jᵀd_j
    for (int a = 0; a < na; a++) {
      turn[a] = Simd.dot(d, after, a * d, before, a * d);
    }
    SparseCodes codes = new SparseCodes(n, old.capacity);
    System.arraycopy(old.atom, 0, codes.atom, 0, old.atom.length);
    System.arraycopy(old.value, 0, codes.value, 0, old.value.length);
    System.arraycopy(old.count, 0, codes.count, 0, n);
    float[] r = eb.residual.clone();
    double[] rSq = eb.rSqNorm.clone();
    float[] xOld = new float[old.capacity];
    float[] xNew = new float[old.capacity];
    int[] off = new int[old.capacity];
    for (int s = 0; s < n; s++) {
      int base = s * old.capacity;
      int c = 0;
      for (int t = 0; t < old.count[s]; t++) {
        int a = localOf[old.atom[base + t]];
        if (a < 0) {
          continue;
        }
        float x = old.value[base + t];
        float x2 = (float) (Simd.dot(d, after, a * d, r, s * d) + x * turn[a]);
        codes.value[base + t] = x2;
        xOld[c] = x;
        xNew[c] = -x2;
        off[c++] = a * d;
      }
      if (c == 0) {
        continue;
      }
      Simd.axpyColumns(d, xOld, before, off, c, r, s * d); // r + Σ d_j·x_ij
      Simd.axpyColumns(d, xNew, after, off, c, r, s * d); // − Σ d'_j·x'_ij
      rSq[s] = Blas.sqNorm(d, r, s * d);
    }
    return new EncodedBlock(d, eb.rowId, codes, r, eb.ySqNorm, rSq);
  }

  /**
   * {@link JacobiUpdate#termBound} for a refitted block: as there, with ‖r_i‖ bounded by max(‖y_i‖, ‖r_i‖), since a
   * residual after a refit may exceed ‖y_i‖ (the batch's atoms of a sample were refitted each on its own).
   */
  public static double termBound(EncodedBlock eb) {
    return JacobiUpdate.termBound(eb, true);
  }
}
