package dbksvd.update;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.TestMath;
import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.Encoder;
import dbksvd.encode.MatchingPursuit;
import dbksvd.encode.OrthogonalMatchingPursuit;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AtomBatchUpdateTest {
  static final int D = 16, M = 24, UNUSABLE = 5;

  /** A test problem: data in the first d−1 coordinates, a noisy start dictionary whose atom 5 is e_{d−1}. */
  record Problem(float[] Dinit, float[] Y, long[] rowId) {}

  static Problem problem(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] truth = TestMath.randomUnitDictionary(D - 1, M, rng);
    float[] Y = new float[D * n];
    for (int s = 0; s < n; s++) {
      for (int t = 0; t < 3; t++) {
        int j = rng.nextInt(M);
        double a = TestMath.gaussian(rng);
        for (int i = 0; i < D - 1; i++) {
          Y[s * D + i] += (float) (a * truth[j * (D - 1) + i]);
        }
      }
      for (int i = 0; i < D - 1; i++) {
        Y[s * D + i] += (float) (0.05 * TestMath.gaussian(rng));
      }
    }
    float[] Dinit = new float[D * M];
    for (int j = 0; j < M; j++) {
      double nn = 0;
      for (int i = 0; i < D - 1; i++) {
        Dinit[j * D + i] = (float) (truth[j * (D - 1) + i] + 0.3 * TestMath.gaussian(rng) / Math.sqrt(D));
        nn += Dinit[j * D + i] * Dinit[j * D + i];
      }
      for (int i = 0; i < D - 1; i++) {
        Dinit[j * D + i] = (float) (Dinit[j * D + i] / Math.sqrt(nn));
      }
    }
    java.util.Arrays.fill(Dinit, UNUSABLE * D, UNUSABLE * D + D, 0f);
    Dinit[UNUSABLE * D + D - 1] = 1f; // orthogonal to every sample: never selected
    long[] rowId = new long[n];
    for (int s = 0; s < n; s++) {
      rowId[s] = 1000 + 3L * s;
    }
    return new Problem(Dinit, Y, rowId);
  }

  static double sq(float[] a) {
    double s = 0;
    for (float v : a) {
      s += (double) v * v;
    }
    return s;
  }

  /**
   * Runs every atom batch on its routed part and checks, per batch: unit-norm atoms, no increase of Σ‖R‖², the
   * in-place residual equal to y − (groups 0..g with this batch's atoms and coefficients replaced) recomputed from
   * scratch, and unused atoms reported and untouched. Returns Σ‖R‖² after / before over all batches.
   */
  static double runAndCheck(Problem pr, AtomGroups groups, Encoder enc, int batchesPerGroup) {
    int n = pr.rowId.length;
    Dictionary dict = new Dictionary(pr.Dinit, D, M);
    EncodedBlock eb = EncodedBlock.encode(dict, groups, enc, pr.Y, pr.rowId, 32);
    AtomBatches batches = AtomBatches.assign(groups, batchesPerGroup, 7, 0);
    AtomBatchBlock[] parts = AtomBatchBlock.route(eb, batches, pr.Dinit);
    double before = 0, after = 0;
    boolean sawUnused = false;
    for (int b = 0; b < batches.count(); b++) {
      AtomBatchBlock part = parts[b];
      int[] atoms = batches.atoms[b];
      int g = batches.group[b];
      double sseBefore = sq(part.R);
      float[] atomVectors = AtomBatchUpdate.gather(pr.Dinit, D, atoms);
      float[] atomCopy = atomVectors.clone();
      AtomBatchUpdate.Result res = AtomBatchUpdate.run(part, atomVectors, atoms.length, TopSingularTriplet.DEFAULT,
          new TopSingularTriplet.Scratch());
      assertArrayEquals(atomCopy, atomVectors, "run must not modify its input atoms");
      assertEquals(b, res.batch());
      assertEquals(sq(part.R), res.sse(), 1e-9 * Math.max(1, res.sse()), "reported sse is Σ‖R‖² of the block");
      assertTrue(res.sse() <= sseBefore * (1 + 1e-6), "batch " + b + ": Σ‖R‖² rose from " + sseBefore + " to "
          + res.sse());
      before += sseBefore;
      after += res.sse();
      float[] Dnew = pr.Dinit.clone();
      for (int i = 0; i < atoms.length; i++) {
        boolean usedByCodes = false;
        for (int s = 0; s < n; s++) {
          usedByCodes |= eb.codes.get(s, atoms[i]) != 0f;
        }
        assertEquals(usedByCodes, res.used()[i], "used flag of atom " + atoms[i]);
        if (res.used()[i]) {
          double nn = TestMath.sqNorm(D, res.atoms(), i * D);
          assertEquals(1.0, Math.sqrt(nn), 1e-5, "norm of updated atom " + atoms[i]);
        } else {
          sawUnused = true;
          for (int r = 0; r < D; r++) {
            assertEquals(pr.Dinit[atoms[i] * D + r], res.atoms()[i * D + r], "unused atom " + atoms[i] + " changed");
          }
        }
        System.arraycopy(res.atoms(), i * D, Dnew, atoms[i] * D, D);
      }
      // recompute the residual of every sample of the part from scratch
      for (int i = 0; i < part.samples(); i++) {
        int s = (int) ((part.rowId[i] - 1000) / 3);
        double[] r = TestMath.column(pr.Y, D, s);
        for (int t = 0; t < eb.codes.count[s]; t++) {
          int j = eb.codes.atom[s * eb.codes.capacity + t];
          if (groups.groupOf(j) > g || batches.batchOf[j] == b) {
            continue; // later groups are not in residual[g]; this batch's atoms are added with their new values
          }
          double a = eb.codes.value[s * eb.codes.capacity + t];
          for (int q = 0; q < D; q++) {
            r[q] -= a * pr.Dinit[j * D + q];
          }
        }
        for (int e = part.ptr[i]; e < part.ptr[i + 1]; e++) {
          int j = atoms[part.local[e]];
          for (int q = 0; q < D; q++) {
            r[q] -= part.coef[e] * Dnew[j * D + q];
          }
        }
        double yn = Math.sqrt(TestMath.sqNorm(D, pr.Y, s * D));
        for (int q = 0; q < D; q++) {
          assertEquals(r[q], part.R[i * D + q], 1e-5 * Math.max(1, yn), "residual of row " + part.rowId[i]);
        }
      }
    }
    assertTrue(sawUnused, "atom " + UNUSABLE + " should be unused");
    return after / before;
  }

  @Test
  void singleBatchSingleGroupMp() {
    Problem pr = problem(150, 41);
    double ratio = runAndCheck(pr, AtomGroups.single(M, 3), new MatchingPursuit(3, 0), 1);
    System.out.printf("atom batch update, 1 batch, MP k=3, d=%d m=%d n=150: Σ‖R‖² after/before = %.3f%n", D, M,
        ratio);
    assertTrue(ratio < 0.95, "a noisy start dictionary should improve visibly, ratio " + ratio);
  }

  @Test
  void severalBatchesOmp() {
    Problem pr = problem(150, 42);
    double ratio = runAndCheck(pr, AtomGroups.single(M, 3), new OrthogonalMatchingPursuit(3, 0), 4);
    System.out.printf("atom batch update, 4 batches, OMP k=3: Σ‖R‖² after/before = %.3f%n", ratio);
  }

  @Test
  void matryoshkaGroupsUpdateAgainstTheirOwnResidual() {
    Problem pr = problem(150, 43);
    AtomGroups groups = AtomGroups.matryoshka(2, M, 6, null); // [0,4) [4,8) [8,16) [16,24), budgets 2,2,1,1
    double ratio = runAndCheck(pr, groups, new MatchingPursuit(6, 0), 2);
    System.out.printf("atom batch update, Matryoshka %s, 2 batches per group: Σ‖R‖² after/before = %.3f%n",
        groups, ratio);
  }

  @Test
  void mergeOfSplitBlocksEqualsRouteOfTheWhole() {
    int n = 120;
    Problem pr = problem(n, 44);
    AtomGroups groups = AtomGroups.matryoshka(2, M, 6, null);
    Encoder enc = new MatchingPursuit(6, 0);
    Dictionary dict = new Dictionary(pr.Dinit, D, M);
    AtomBatches batches = AtomBatches.assign(groups, 3, 9, 2);
    AtomBatchBlock[] whole = AtomBatchBlock.route(EncodedBlock.encode(dict, groups, enc, pr.Y, pr.rowId, 16), batches,
        dict.D);
    // split the rows: every third row in part A, the others in part B (both keep ascending row ids)
    int na = (n + 2) / 3;
    float[] Ya = new float[na * D];
    float[] Yb = new float[(n - na) * D];
    long[] ra = new long[na];
    long[] rb = new long[n - na];
    for (int s = 0, ia = 0, ib = 0; s < n; s++) {
      if (s % 3 == 0) {
        System.arraycopy(pr.Y, s * D, Ya, ia * D, D);
        ra[ia++] = pr.rowId[s];
      } else {
        System.arraycopy(pr.Y, s * D, Yb, ib * D, D);
        rb[ib++] = pr.rowId[s];
      }
    }
    AtomBatchBlock[] pa = AtomBatchBlock.route(EncodedBlock.encode(dict, groups, enc, Ya, ra, 5), batches, dict.D);
    AtomBatchBlock[] pb = AtomBatchBlock.route(EncodedBlock.encode(dict, groups, enc, Yb, rb, 7), batches, dict.D);
    int entries = 0;
    for (int b = 0; b < batches.count(); b++) {
      AtomBatchBlock merged = AtomBatchBlock.merge(List.of(pb[b], pa[b])); // out of order on purpose
      AtomBatchBlock w = whole[b];
      assertEquals(b, merged.batch);
      assertArrayEquals(w.rowId, merged.rowId, "row ids of batch " + b);
      assertArrayEquals(w.ptr, merged.ptr, "ptr of batch " + b);
      assertArrayEquals(w.local, merged.local, "local atoms of batch " + b);
      assertArrayEquals(w.coef, merged.coef, 1e-5f, "coefficients of batch " + b);
      assertArrayEquals(w.R, merged.R, 1e-5f, "residuals of batch " + b);
      for (int i = 1; i < merged.samples(); i++) {
        assertTrue(merged.rowId[i - 1] < merged.rowId[i]);
      }
      entries += merged.coef.length;
    }
    assertTrue(entries > 0);
    assertThrows(IllegalStateException.class, () -> AtomBatchBlock.merge(List.of(pa[0], pa[0])),
        "a row in two parts must be rejected");
    assertThrows(IllegalArgumentException.class, () -> AtomBatchBlock.merge(List.of(pa[0], pa[1])));
  }

  @Test
  void routeSendsEachSampleOncePerBatchItTouches() {
    Problem pr = problem(80, 45);
    AtomGroups groups = AtomGroups.single(M, 4);
    EncodedBlock eb = EncodedBlock.encode(new Dictionary(pr.Dinit, D, M), groups, new MatchingPursuit(4, 0), pr.Y,
        pr.rowId, 80);
    AtomBatches batches = AtomBatches.assign(groups, 3, 1, 0);
    AtomBatchBlock[] parts = AtomBatchBlock.route(eb, batches, pr.Dinit);
    for (int b = 0; b < batches.count(); b++) {
      int expect = 0;
      for (int s = 0; s < eb.n; s++) {
        boolean touches = false;
        for (int j : batches.atoms[b]) {
          touches |= eb.codes.get(s, j) != 0f;
        }
        expect += touches ? 1 : 0;
      }
      assertEquals(expect, parts[b].samples(), "samples in batch " + b);
      for (int i = 0; i < parts[b].samples(); i++) {
        int s = (int) ((parts[b].rowId[i] - 1000) / 3);
        for (int e = parts[b].ptr[i]; e < parts[b].ptr[i + 1]; e++) {
          int j = batches.atoms[b][parts[b].local[e]];
          assertEquals(eb.codes.get(s, j), parts[b].coef[e]);
        }
      }
    }
    assertFalse(parts.length == 0);
  }

  @Test
  void lanczosPathIsConsistentAndDeterministic() {
    // d = 96 and |Ω| ≈ 150 per atom: both above GRAM_MAX, so every atom takes the Lanczos path on EEᵀ
    int d = 96, m = 8, n = 600, k = 2;
    SplittableRandom rng = new SplittableRandom(46);
    float[] truth = TestMath.randomUnitDictionary(d, m, rng);
    float[] Y = new float[d * n];
    for (int s = 0; s < n; s++) {
      for (int t = 0; t < k; t++) {
        int j = rng.nextInt(m);
        double a = TestMath.gaussian(rng);
        for (int i = 0; i < d; i++) {
          Y[s * d + i] += (float) (a * truth[j * d + i]);
        }
      }
      for (int i = 0; i < d; i++) {
        Y[s * d + i] += (float) (0.1 * TestMath.gaussian(rng));
      }
    }
    float[] Dinit = truth.clone();
    for (int i = 0; i < Dinit.length; i++) {
      Dinit[i] += (float) (0.2 * TestMath.gaussian(rng) / Math.sqrt(d));
    }
    dbksvd.linalg.Blas.normalizeColumns(Dinit, d, m);
    long[] rowId = new long[n];
    for (int s = 0; s < n; s++) {
      rowId[s] = s;
    }
    AtomGroups groups = AtomGroups.single(m, k);
    EncodedBlock eb = EncodedBlock.encode(new Dictionary(Dinit, d, m), groups, new MatchingPursuit(k, 0), Y, rowId,
        64);
    AtomBatches batches = AtomBatches.assign(groups, 1, 3, 0);
    AtomBatchBlock part = AtomBatchBlock.route(eb, batches, Dinit)[0];
    AtomBatchBlock copy = new AtomBatchBlock(part.batch, d, part.rowId, part.R.clone(), part.ptr, part.local,
        part.coef.clone());
    int[] atoms = batches.atoms[0];
    double before = sq(part.R);
    TopSingularTriplet.Scratch sc = new TopSingularTriplet.Scratch();
    AtomBatchUpdate.Result r1 = AtomBatchUpdate.run(part, AtomBatchUpdate.gather(Dinit, d, atoms), m,
        TopSingularTriplet.DEFAULT, sc);
    AtomBatchUpdate.Result r2 = AtomBatchUpdate.run(copy, AtomBatchUpdate.gather(Dinit, d, atoms), m,
        TopSingularTriplet.DEFAULT, new TopSingularTriplet.Scratch());
    assertTrue(sc.calls == m && sc.gramCalls == 0, "all " + m + " atoms on the Lanczos path: " + sc.calls + " calls, "
        + sc.gramCalls + " on the Gram path");
    assertArrayEquals(r1.atoms(), r2.atoms(), "atoms");
    assertArrayEquals(part.R, copy.R, "residuals");
    assertArrayEquals(part.coef, copy.coef, "coefficients");
    assertTrue(r1.sse() < 0.97 * before, "Σ‖R‖² " + before + " → " + r1.sse()); // the noise alone is ~576
    // R = y − Σ coef·atom, recomputed in double from the updated atoms and coefficients
    for (int i = 0; i < part.samples(); i++) {
      int s = (int) part.rowId[i];
      double[] res = TestMath.column(Y, d, s);
      for (int e = part.ptr[i]; e < part.ptr[i + 1]; e++) {
        for (int q = 0; q < d; q++) {
          res[q] -= part.coef[e] * r1.atoms()[part.local[e] * d + q];
        }
      }
      for (int q = 0; q < d; q++) {
        assertEquals(res[q], part.R[i * d + q], 1e-4, "residual of row " + s);
      }
    }
    System.out.printf("atom batch update on the Lanczos path, d=%d, |Ω| ≈ %d: Σ‖R‖² after/before = %.3f, %.1f "
        + "steps per atom%n", d, n * k / m, r1.sse() / before, (double) sc.steps / sc.calls);
  }
}
