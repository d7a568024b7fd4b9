package dbksvd.update;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.MatchingPursuit;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The kernels of {@code jacobi-batches}: the Jacobi sums of an atom list, and the refit of a batch's coefficients
 * and residuals ({@link BatchRefit}), checked against Y − D'X' computed directly, against the plain Jacobi update
 * (one batch), and under any split of the samples.
 */
class BatchRefitTest {
  static final int D = JacobiUpdateTest.D, M = JacobiUpdateTest.M;

  /** The coded problem of the Jacobi tests: one group, k = 4, n samples. */
  static EncodedBlock encoded(int n, long seed, float[][] dictOut, float[][] yOut) {
    AtomBatchUpdateTest.Problem pr = AtomBatchUpdateTest.problem(n, seed);
    dictOut[0] = pr.Dinit();
    yOut[0] = pr.Y();
    return EncodedBlock.encode(new Dictionary(pr.Dinit(), D, M), AtomGroups.single(M, 4), new MatchingPursuit(4, 0),
        pr.Y(), pr.rowId(), 32);
  }

  /**
   * What jacobi-batches does to one block in one JVM: per batch (atoms increasing), the Jacobi passes of its atoms
   * from the current residual, then the refit. Returns the block after the last batch; {@code Dout} receives D'.
   */
  static EncodedBlock run(EncodedBlock eb, float[] Dict, AtomBatches batches, int passes, float[] Dout) {
    AtomGroups groups = AtomGroups.single(M, 4);
    float[] current = Dict.clone();
    double bound = JacobiUpdate.termBound(eb);
    for (int b = 0; b < batches.count(); b++) {
      int[] atoms = batches.atoms[b].clone();
      Arrays.sort(atoms);
      float[] before = AtomBatchUpdate.gather(current, D, atoms);
      int e = JacobiUpdate.exponent(bound, eb.n);
      JacobiUpdate.Krylov krylov = new JacobiUpdate.Krylov(before, D, atoms.length, passes);
      while (!krylov.done()) {
        JacobiUpdate.Sums s = JacobiUpdate.accumulate(eb, groups, Dict, atoms, krylov.vector(), krylov.alignment(),
            e, 0, atoms.length)[0];
        krylov.absorb(List.of(JacobiUpdate.Step.of(s, before)));
      }
      float[] after = krylov.atoms();
      for (int a = 0; a < atoms.length; a++) {
        System.arraycopy(after, a * D, current, atoms[a] * D, D);
      }
      eb = BatchRefit.apply(eb, BatchRefit.Plan.of(D, M, atoms, before, after));
      bound = BatchRefit.termBound(eb);
    }
    System.arraycopy(current, 0, Dout, 0, current.length);
    return eb;
  }

  /** The residual left by every batch is Y − D'X' for the final D' and codes X', and ‖r‖² is its norm. */
  @Test
  void residualAfterTheUpdateIsYMinusDX() {
    float[][] dict = new float[1][];
    float[][] y = new float[1][];
    EncodedBlock eb = encoded(400, 7, dict, y);
    for (int nb : new int[] {1, 3, 8}) {
      float[] Dnew = new float[D * M];
      EncodedBlock after = run(eb, dict[0], AtomBatches.assign(AtomGroups.single(M, 4), nb, 5, 0), 2, Dnew);
      double worst = 0;
      for (int s = 0; s < after.n; s++) {
        double sq = 0;
        for (int i = 0; i < D; i++) {
          double r = y[0][s * D + i];
          for (int t = 0; t < after.codes.count[s]; t++) {
            int j = after.codes.atom[s * after.codes.capacity + t];
            r -= (double) Dnew[j * D + i] * after.codes.value[s * after.codes.capacity + t];
          }
          worst = Math.max(worst, Math.abs(r - after.residual[s * D + i]));
          sq += (double) after.residual[s * D + i] * after.residual[s * D + i];
        }
        assertEquals(sq, after.rSqNorm[s], 1e-9 + 1e-6 * sq, "‖r‖² of sample " + s);
      }
      double before = Arrays.stream(eb.rSqNorm).sum(), now = Arrays.stream(after.rSqNorm).sum();
      System.out.printf("jacobi-batches, %d batch(es): max |r - (y - D'x')| = %.2e, sum ||r||^2 %.4f after coding, "
          + "%.4f after the update%n", nb, worst, before, now);
      assertTrue(worst <= 1e-5, nb + " batches: |r − (Y − D'X')| up to " + worst);
    }
  }

  /** The example of the class comment: x' = d'ᵀr + x·d'ᵀd, r ← r + d·x − d'·x'. */
  @Test
  void theExample() {
    dbksvd.encode.SparseCodes codes = new dbksvd.encode.SparseCodes(1, 1);
    codes.accumulate(0, 0, 2f);
    EncodedBlock eb = new EncodedBlock(2, new long[] {9}, codes, new float[] {0f, 0.5f}, new double[] {4.25},
        new double[] {0.25});
    EncodedBlock out = BatchRefit.apply(eb, BatchRefit.Plan.of(2, 1, new int[] {0}, new float[] {1, 0},
        new float[] {0.6f, 0.8f}));
    assertEquals(1.6f, out.codes.value[0], 1e-6);
    assertEquals(1.04f, out.residual[0], 1e-6);
    assertEquals(-0.78f, out.residual[1], 1e-6);
    assertEquals(2f, eb.codes.value[0], "the block given is not changed");
    assertEquals(0.5f, eb.residual[1]);
  }

  /** One batch: the atoms of the plain Jacobi update, bit for bit (the refit is what jacobi leaves out). */
  @Test
  void oneBatchIsTheJacobiUpdate() {
    float[][] dict = new float[1][];
    float[][] y = new float[1][];
    EncodedBlock eb = encoded(300, 3, dict, y);
    for (int passes : new int[] {1, 3}) {
      float[] jacobi = JacobiUpdateTest.passes(eb, AtomGroups.single(M, 4), dict[0], passes);
      float[] Dnew = new float[D * M];
      run(eb, dict[0], AtomBatches.assign(AtomGroups.single(M, 4), 1, 0, 0), passes, Dnew);
      assertArrayEquals(jacobi, Dnew, passes + " passes");
    }
  }

  /** The sums of an atom list are the full sums' entries of those atoms, bit for bit. */
  @Test
  void sumsOfAnAtomListAreThoseOfTheFullUpdate() {
    float[][] dict = new float[1][];
    float[][] y = new float[1][];
    EncodedBlock eb = encoded(300, 4, dict, y);
    AtomGroups groups = AtomGroups.single(M, 4);
    float[] Dict = dict[0];
    int e = JacobiUpdate.exponent(JacobiUpdate.termBound(eb), eb.n);
    JacobiUpdate.Sums whole = JacobiUpdate.accumulate(eb, groups, Dict, Dict, JacobiUpdate.alignment(Dict, Dict, D,
        M), e);
    int[] atoms = {1, 4, 5, 11, 23};
    float[] local = AtomBatchUpdate.gather(Dict, D, atoms);
    JacobiUpdate.Sums[] part = JacobiUpdate.accumulate(eb, groups, Dict, atoms, local,
        JacobiUpdate.alignment(local, local, D, atoms.length), e, 0, 2, atoms.length);
    for (JacobiUpdate.Sums r : part) {
      for (int a = r.from; a < r.to; a++) {
        int j = atoms[a];
        assertEquals(whole.omega[j], r.omega[a - r.from]);
        assertEquals(whole.c[j], r.c[a - r.from]);
        assertEquals(whole.vv[j], r.vv[a - r.from]);
        assertArrayEquals(Arrays.copyOfRange(whole.w, j * D, (j + 1) * D),
            Arrays.copyOfRange(r.w, (a - r.from) * D, (a - r.from + 1) * D));
      }
    }
  }

  /** Refitting the samples split into blocks gives the bits of refitting them in one block. */
  @Test
  void refitDoesNotDependOnHowSamplesAreSplit() {
    float[][] dict = new float[1][];
    float[][] y = new float[1][];
    EncodedBlock eb = encoded(300, 6, dict, y);
    AtomGroups groups = AtomGroups.single(M, 4);
    int[] atoms = {0, 2, 3, 9, 17};
    float[] before = AtomBatchUpdate.gather(dict[0], D, atoms);
    float[] after = before.clone();
    SplittableRandom rng = new SplittableRandom(1);
    for (int i = 0; i < after.length; i++) {
      after[i] += (float) (0.1 * (rng.nextDouble() - 0.5));
    }
    BatchRefit.Plan plan = BatchRefit.Plan.of(D, M, atoms, before, after);
    EncodedBlock whole = BatchRefit.apply(eb, plan);
    int[] part = new int[eb.n];
    for (int s = 0; s < eb.n; s++) {
      part[s] = rng.nextInt(3);
    }
    int[] pos = new int[3];
    for (int p = 0; p < 3; p++) {
      EncodedBlock one = BatchRefit.apply(JacobiUpdateTest.subset(eb, groups, part, p), plan);
      for (int c = 0, s = 0; s < eb.n; s++) {
        if (part[s] != p) {
          continue;
        }
        assertArrayEquals(Arrays.copyOfRange(whole.residual, s * D, (s + 1) * D),
            Arrays.copyOfRange(one.residual, c * D, (c + 1) * D), "residual of sample " + s);
        assertEquals(whole.rSqNorm[s], one.rSqNorm[c]);
        for (int t = 0; t < eb.codes.count[s]; t++) {
          assertEquals(whole.codes.value[s * eb.codes.capacity + t], one.codes.value[c * eb.codes.capacity + t]);
        }
        c++;
        pos[p] = c;
      }
    }
    assertEquals(eb.n, pos[0] + pos[1] + pos[2]);
  }
}
