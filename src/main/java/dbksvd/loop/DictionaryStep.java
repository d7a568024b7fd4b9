package dbksvd.loop;

import dbksvd.encode.Dictionary;
import dbksvd.linalg.Blas;
import dbksvd.update.AtomBatchUpdate;
import dbksvd.update.AtomBatches;
import dbksvd.util.Seeds;

import java.util.Collection;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

/**
 * The driver's part of an iteration, shared by the single-machine loop and the Spark job: initialise D, assemble
 * the updated atoms of all atom batches, re-draw dead and duplicate atoms.
 */
public final class DictionaryStep {
  private DictionaryStep() {}

  /**
   * What the driver did to D after the update.
   *
   * @param G DᵀD of the returned D when no atom was re-drawn (the next iteration's Gram matrix, computed here
   *     already to find duplicates), else null
   */
  public record Outcome(float[] D, int dead, int duplicates, int replaced, float[] G) {}

  /** The dictionary entering an iteration; G when the previous replacement step already formed it, else computed. */
  public static Dictionary dictionary(float[] D, int d, int m, float[] G) {
    return G != null ? new Dictionary(D, d, m, G) : new Dictionary(D, d, m);
  }

  /** D with entries uniform in [−0.5, 0.5], columns normalised (KSVD.jl's start). */
  public static float[] uniformInit(int d, int m, long seed) {
    SplittableRandom rng = Seeds.rng(seed, Seeds.INIT);
    float[] D = new float[d * m];
    for (int i = 0; i < D.length; i++) {
      D[i] = (float) (rng.nextDouble() - 0.5);
    }
    Blas.normalizeColumns(D, d, m);
    return D;
  }

  /**
   * D from samples (d × m, already in epoch-0 order), columns normalised; a zero sample leaves a zero atom, which
   * no sample will use and which the first iteration re-draws.
   */
  public static float[] samplesInit(float[] samples, int d, int m) {
    float[] D = samples.clone();
    Blas.normalizeColumns(D, d, m);
    return D;
  }

  /** D with every batch's updated atoms written in; {@code used} receives which atoms some sample used. */
  public static float[] assemble(float[] Dold, int d, AtomBatches batches, Collection<AtomBatchUpdate.Result> results,
      boolean[] used) {
    float[] D = Dold.clone();
    java.util.Arrays.fill(used, false);
    for (AtomBatchUpdate.Result r : results) {
      int[] atoms = batches.atoms[r.batch()];
      for (int i = 0; i < atoms.length; i++) {
        if (r.used()[i]) {
          System.arraycopy(r.atoms(), i * d, D, atoms[i] * d, d);
          used[atoms[i]] = true;
        }
      }
    }
    return D;
  }

  /**
   * Re-draws unused atoms and atoms closer than {@code clearThreshold} to an earlier one, from the worst samples
   * that {@code worst} returns (asked once, for as many as there are atoms to replace).
   */
  public static Outcome replace(float[] D, int d, int m, boolean[] used, double clearThreshold,
      IntFunction<List<Replacement.Candidate>> worst) {
    float[] G = Blas.gram(D, d, m);
    int[][] plan = Replacement.atomsToReplace(G, m, used, clearThreshold);
    int[] atoms = plan[0];
    int duplicates = plan[1][0];
    int replaced = atoms.length == 0 ? 0 : Replacement.apply(D, d, atoms, worst.apply(atoms.length));
    return new Outcome(D, atoms.length - duplicates, duplicates, replaced, atoms.length == 0 ? G : null);
  }
}
