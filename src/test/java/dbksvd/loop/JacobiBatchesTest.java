package dbksvd.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.encode.Dictionary;
import dbksvd.synth.PlantedData;
import dbksvd.update.JacobiUpdate;
import dbksvd.update.Update;
import dbksvd.util.TaskTimes;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The jacobi-batches update through the fit loop's in-memory stages. */
class JacobiBatchesTest {
  static final int D = 32, M = 64, K = 4;

  @Test
  void theNameAndItsSettings() {
    assertEquals(new Update.JacobiBatches(8, 2), Update.of("jacobi-batches", 2, 8));
    assertEquals("jacobi-batches", new Update.JacobiBatches(8, 2).name());
    assertEquals(8, new Update.JacobiBatches(8, 2).atomBatches());
    assertEquals(2, new Update.JacobiBatches(8, 2).passes());
    assertThrows(IllegalArgumentException.class, () -> new Update.JacobiBatches(0, 2));
    assertThrows(IllegalArgumentException.class, () -> new Update.JacobiBatches(2, 0));
  }

  @Test
  void matryoshkaIsRefusedInOneLine() {
    var e = assertThrows(IllegalArgumentException.class, () -> FitParams.builder(M, 6)
        .matryoshka(FitParams.Matryoshka.of(3)).update(new Update.JacobiBatches(4, 3)).build());
    assertEquals("dbksvd.fit.update = jacobi-batches does not support Matryoshka groups (dbksvd.fit.matryoshka); "
        + "use jacobi or gauss-seidel with them", e.getMessage());
  }

  /**
   * One batch holding every atom: the stage's new atoms are the jacobi stage's, bit for bit, on the same encoded
   * batch; what jacobi-batches adds is the refit of the coefficients and residuals after it.
   */
  @Test
  void oneBatchGivesTheAtomsOfJacobi() {
    PlantedData pd = new PlantedData(D, M, K, 30, 3);
    float[] Y = pd.rows(0, 1000);
    FitParams p = FitParams.builder(M, K).batchSize(500).iterations(1).seed(2).build();
    float[] D0 = dbksvd.loop.DictionaryStep.samplesInit(pd.rows(2000, M), D, M);
    Dictionary dict = new Dictionary(D0, D, M);
    for (int passes : new int[] {1, 3}) {
      float[] jacobi;
      boolean[] usedJ = new boolean[M];
      try (InMemoryStages s = new InMemoryStages(Y, D, p)) {
        FitLoop.Encoded enc = s.encode(0, dict);
        jacobi = s.jacobi(D0, passes, JacobiUpdate.exponent(enc.termBound(), enc.stats().n), usedJ, new TaskTimes());
      }
      boolean[] usedB = new boolean[M];
      try (InMemoryStages s = new InMemoryStages(Y, D, p)) {
        FitLoop.Encoded enc = s.encode(0, dict);
        float[] batch = s.jacobiBatch(D0, IntStream.range(0, M).toArray(), passes,
            JacobiUpdate.exponent(enc.termBound(), enc.stats().n), usedB, new TaskTimes());
        assertArrayEquals(jacobi, batch, passes + " passes");
        assertArrayEquals(usedJ, usedB);
      }
    }
  }

  /** A fit with jacobi-batches is deterministic, keeps unit atoms and raises the FVE. */
  @Test
  void aFitImprovesAndRepeatsItsBits() {
    PlantedData pd = new PlantedData(D, M, K, 30, 5);
    float[] Y = pd.rows(0, 3000);
    FitParams p = FitParams.builder(M, K).batchSize(1000).iterations(10).seed(4)
        .update(new Update.JacobiBatches(4, 2)).build();
    FitLoop.Result a = FitLoop.fit(Y, D, p, null);
    FitLoop.Result b = FitLoop.fit(Y.clone(), D, p, null);
    assertTrue(Arrays.equals(a.D(), b.D()), "same seed, same bits");
    FitLoopTest.assertUnitNorm(a);
    double first = a.history().get(0).fve(), last = a.history().get(9).fve();
    System.out.printf("jacobi-batches (4 batches, 2 passes) d=%d m=%d k=%d n=1000 T=10: FVE %.4f -> %.4f%n", D, M, K,
        first, last);
    assertTrue(last > first, "FVE " + first + " -> " + last);
  }
}
