package dbksvd.loop;

import dbksvd.encode.EncodedBlock;
import dbksvd.linalg.Blas;
import dbksvd.metrics.GramFacts;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Re-drawing atoms that do no work: atoms no sample of the batch used (dead), and atoms nearly equal to an earlier
 * one (|dᵢᵀdⱼ| above the clearing threshold, as in the original K-SVD toolbox). Each is replaced by the normalised
 * residual of one of the worst-reconstructed samples of the batch, worst first, ties broken by row id.
 */
public final class Replacement {
  private Replacement() {}

  /** A sample offered as a new atom: its row id, residual norm² and residual (d floats). */
  public record Candidate(long rowId, double rSqNorm, float[] residual) implements Serializable {}

  /** Worst first; equal norms by increasing row id (a total order, so the choice never depends on timing). */
  public static final Comparator<Candidate> WORST_FIRST =
      Comparator.comparingDouble(Candidate::rSqNorm).reversed().thenComparingLong(Candidate::rowId);

  /** The q worst-reconstructed samples of a block (by final residual), worst first. */
  public static List<Candidate> worst(EncodedBlock eb, int q) {
    if (q <= 0) {
      return List.of();
    }
    PriorityQueue<Integer> heap = new PriorityQueue<>(
        (a, b) -> WORST_FIRST.compare(light(eb, b), light(eb, a))); // the best of the kept ones on top
    for (int s = 0; s < eb.n; s++) {
      if (!(eb.rSqNorm[s] > 0)) {
        continue; // a perfectly reconstructed sample offers nothing
      }
      heap.add(s);
      if (heap.size() > q) {
        heap.poll();
      }
    }
    List<Candidate> out = new ArrayList<>();
    float[] r = eb.finalResidual();
    for (int s : heap) {
      float[] v = new float[eb.d];
      System.arraycopy(r, s * eb.d, v, 0, eb.d);
      out.add(new Candidate(eb.rowId[s], eb.rSqNorm[s], v));
    }
    out.sort(WORST_FIRST);
    return out;
  }

  private static Candidate light(EncodedBlock eb, int s) {
    return new Candidate(eb.rowId[s], eb.rSqNorm[s], null);
  }

  /** Merges per-block candidate lists into the q worst overall. */
  public static List<Candidate> mergeWorst(List<List<Candidate>> lists, int q) {
    List<Candidate> all = new ArrayList<>();
    lists.forEach(all::addAll);
    all.sort(WORST_FIRST);
    return new ArrayList<>(all.subList(0, Math.min(q, all.size())));
  }

  /**
   * The atoms to re-draw, ascending: the unused ones, then (among the rest) each atom j that nearly repeats an
   * earlier atom i that is kept (|G_ij| above the clearing threshold: the pairs of {@code facts}, of the dictionary
   * the batch was coded with).
   *
   * @return [0] the atoms to replace (sorted), [1] how many of them were duplicates
   */
  public static int[][] atomsToReplace(GramFacts facts, boolean[] used) {
    int m = used.length;
    boolean[] replace = new boolean[m];
    int dead = 0;
    for (int j = 0; j < m; j++) {
      if (!used[j]) {
        replace[j] = true;
        dead++;
      }
    }
    int dup = 0;
    int[] atom = facts.atom();
    int[] earlier = facts.earlier();
    for (int p = 0; p < atom.length; p++) { // by atom, then earlier atom: the kept ones decided in order
      int j = atom[p];
      if (!replace[j] && !replace[earlier[p]]) {
        replace[j] = true;
        dup++;
      }
    }
    int[] atoms = new int[dead + dup];
    int t = 0;
    for (int j = 0; j < m; j++) {
      if (replace[j]) {
        atoms[t++] = j;
      }
    }
    return new int[][] {atoms, {dup}};
  }

  /**
   * Writes the normalised residual of candidate i into atom atoms[i] of D, for as many candidates as there are.
   * Returns the number of atoms replaced.
   */
  public static int apply(float[] D, int d, int[] atoms, List<Candidate> worst) {
    int t = 0;
    for (; t < atoms.length && t < worst.size(); t++) {
      float[] r = worst.get(t).residual();
      double nrm = Math.sqrt(Blas.sqNorm(d, r, 0));
      for (int i = 0; i < d; i++) {
        D[atoms[t] * d + i] = (float) (r[i] / nrm);
      }
    }
    return t;
  }
}
