package dbksvd.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dbksvd.encode.AtomGroups;
import dbksvd.encode.Dictionary;
import dbksvd.encode.EncodedBlock;
import dbksvd.encode.MatchingPursuit;
import dbksvd.linalg.Blas;
import dbksvd.metrics.GramFacts;
import dbksvd.synth.PlantedData;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/** Which atoms are re-drawn, from which samples, and how. */
class ReplacementTest {

  /** G of unit atoms e_0, e_1, e_0 again, −e_1 nearly, and e_2. */
  static float[] gram() {
    int d = 3;
    float[] D = {1, 0, 0, 0, 1, 0, 1, 0, 0, 0, -0.999f, 0.0447f, 0, 0, 1};
    Blas.normalizeColumns(D, d, 5);
    return Blas.gram(D, d, 5);
  }

  @Test
  void deadAtomsThenDuplicatesOfAnEarlierKeptAtom() {
    float[] G = gram();
    boolean[] used = {true, true, true, true, true};
    int[][] plan = Replacement.atomsToReplace(GramFacts.of(G, 5, 0, 5, 0.99), used);
    assertArrayEquals(new int[] {2, 3}, plan[0], "2 repeats atom 0, 3 is -atom 1 within 0.99");
    assertEquals(2, plan[1][0]);
    // a dead atom is replaced anyway, and does not make a later one a duplicate: 0 dead, 2 then duplicates nothing
    used[0] = false;
    plan = Replacement.atomsToReplace(GramFacts.of(G, 5, 0, 5, 0.99), used);
    assertArrayEquals(new int[] {0, 3}, plan[0]);
    assertEquals(1, plan[1][0]);
    // clearing off (threshold >= 1): only the dead atom
    plan = Replacement.atomsToReplace(GramFacts.of(G, 5, 0, 5, 1.0), used);
    assertArrayEquals(new int[] {0}, plan[0]);
    assertEquals(0, plan[1][0]);
  }

  static EncodedBlock block(long[] ids, int d, int m, long seed) {
    PlantedData pd = new PlantedData(d, m, 2, 10, seed);
    float[] Y = new float[ids.length * d];
    for (int s = 0; s < ids.length; s++) {
      System.arraycopy(pd.rows(ids[s], 1), 0, Y, s * d, d);
    }
    float[] D = pd.D.clone();
    for (int i = 0; i < d; i++) {
      D[i] = 0; // atom 0 becomes e_0, a poor atom, so that the samples' residuals differ
    }
    D[0] = 1;
    return EncodedBlock.encode(new Dictionary(D, d, m), AtomGroups.single(m, 2), new MatchingPursuit(1, 0), Y, ids,
        96);
  }

  /** Facts computed in ranges and merged are the facts of the whole G; pairs come by atom, then earlier atom. */
  @Test
  void factsOfRangesMergeIntoTheWhole() {
    float[] G = gram();
    GramFacts whole = GramFacts.of(G, 5, 0, 5, 0.99);
    GramFacts merged = GramFacts.merge(List.of(GramFacts.of(G, 5, 3, 5, 0.99), GramFacts.of(G, 5, 0, 1, 0.99),
        GramFacts.of(G, 5, 1, 3, 0.99)), 5);
    assertArrayEquals(whole.coherence(), merged.coherence());
    assertArrayEquals(new int[] {2, 3}, merged.atom());
    assertArrayEquals(new int[] {0, 1}, merged.earlier());
    assertArrayEquals(whole.atom(), merged.atom());
    assertEquals(1.0, whole.coherence()[0], 1e-6, "atom 0 and its repeat 2");
    org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> GramFacts.merge(List.of(GramFacts.of(G, 5, 0, 2, 0.99)), 5), "ranges must cover all atoms");
  }

  @Test
  void theWorstSamplesInOrderAndMergedAcrossBlocks() {
    int d = 12, m = 20;
    EncodedBlock a = block(new long[] {3, 8, 15, 40, 41}, d, m, 7);
    EncodedBlock b = block(new long[] {1, 9, 77}, d, m, 7);
    List<Replacement.Candidate> all = new ArrayList<>();
    for (EncodedBlock eb : new EncodedBlock[] {a, b}) {
      for (int s = 0; s < eb.n; s++) {
        float[] r = java.util.Arrays.copyOfRange(eb.finalResidual(), s * d, (s + 1) * d);
        all.add(new Replacement.Candidate(eb.rowId[s], eb.rSqNorm[s], r));
      }
    }
    all.sort((x, y) -> Double.compare(y.rSqNorm(), x.rSqNorm()));
    List<Replacement.Candidate> worstA = Replacement.worst(a, 3);
    assertEquals(3, worstA.size());
    for (int i = 1; i < 3; i++) {
      assertEquals(-1, Replacement.WORST_FIRST.compare(worstA.get(i - 1), worstA.get(i)), "worst first");
    }
    List<Replacement.Candidate> merged = Replacement.mergeWorst(List.of(worstA, Replacement.worst(b, 3)), 4);
    assertEquals(4, merged.size());
    for (int i = 0; i < 4; i++) {
      assertEquals(all.get(i).rowId(), merged.get(i).rowId(), "rank " + i);
      assertArrayEquals(all.get(i).residual(), merged.get(i).residual());
    }
    assertEquals(List.of(), Replacement.worst(a, 0));
  }

  @Test
  void equalNormsGoToTheLowerRowIdAndPerfectSamplesAreNotOffered() {
    var c7 = new Replacement.Candidate(7, 2.0, null);
    var c3 = new Replacement.Candidate(3, 2.0, null);
    assertEquals(List.of(c3, c7), Replacement.mergeWorst(List.of(List.of(c7), List.of(c3)), 2));
    // a sample coded exactly (residual 0) is never a candidate: one exact sample of two gives one candidate
    int d = 4;
    float[] D = {1, 0, 0, 0, 0, 1, 0, 0};
    float[] Y = {2, 0, 0, 0, 1, 1, 1, 1};
    EncodedBlock eb = EncodedBlock.encode(new Dictionary(D, d, 2), AtomGroups.single(2, 1), new MatchingPursuit(1, 0),
        Y, new long[] {0, 1}, 48);
    List<Replacement.Candidate> w = Replacement.worst(eb, 2);
    assertEquals(1, w.size());
    assertEquals(1, w.get(0).rowId());
  }

  @Test
  void applyWritesNormalisedResidualsForAsManyCandidatesAsThereAre() {
    int d = 3;
    float[] D = new float[d * 4];
    List<Replacement.Candidate> worst = List.of(new Replacement.Candidate(5, 25, new float[] {3, 0, 4}));
    assertEquals(1, Replacement.apply(D, d, new int[] {1, 3}, worst));
    assertArrayEquals(new float[] {0, 0, 0, 0.6f, 0, 0.8f, 0, 0, 0, 0, 0, 0}, D);
  }
}
