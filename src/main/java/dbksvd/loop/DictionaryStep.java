package dbksvd.loop;

import dbksvd.linalg.Blas;
import dbksvd.metrics.GramFacts;
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

  /** What the driver did to D after the update: D itself when no atom was to be re-drawn, else a new array. */
  public record Outcome(float[] D, int dead, int duplicates, int replaced) {}

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
   * Re-draws unused atoms and atoms closer than the clearing threshold to an earlier one ({@code facts}: the pairs
   * of D's G), from the worst samples that {@code worst} returns (asked once, for as
   * many as there are atoms to replace).
   */
  public static Outcome replace(float[] D, int d, GramFacts facts, boolean[] used,
      IntFunction<List<Replacement.Candidate>> worst) {
    int[][] plan = Replacement.atomsToReplace(facts, used);
    int[] atoms = plan[0];
    int duplicates = plan[1][0];
    if (atoms.length == 0) {
      return new Outcome(D, 0, 0, 0);
    }
    float[] out = D.clone(); // D itself stays as it is: the stages may hold it (and its G) for the next iteration
    int replaced = Replacement.apply(out, d, atoms, worst.apply(atoms.length));
    return new Outcome(out, atoms.length - duplicates, duplicates, replaced);
  }
}
