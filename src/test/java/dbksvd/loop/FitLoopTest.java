package dbksvd.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.TestMath;
import dbksvd.synth.PlantedData;
import dbksvd.update.Update;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class FitLoopTest {

  static void assertUnitNorm(FitLoop.Result r) {
    for (int j = 0; j < r.m(); j++) {
      double nrm = Math.sqrt(TestMath.sqNorm(r.d(), r.D(), j * r.d()));
      assertEquals(1.0, nrm, 1e-4, "atom " + j + " norm");
    }
  }

  static String fves(FitLoop.Result r) {
    StringBuilder sb = new StringBuilder();
    for (IterationMetrics im : r.history()) {
      sb.append(String.format(" %.3f", im.fve()));
    }
    return sb.toString();
  }

  @Test
  void sameSeedSameDictionaryOtherSeedOtherDictionary() {
    PlantedData pd = new PlantedData(20, 40, 3, 30, 71);
    float[] Y = pd.rows(0, 300);
    FitParams p = FitParams.builder(40, 3).batchSize(120).iterations(6).seed(5).build();
    FitLoop.Result a = FitLoop.fit(Y, 20, p, null);
    FitLoop.Result b = FitLoop.fit(Y.clone(), 20, p, null);
    assertTrue(Arrays.equals(a.D(), b.D()), "same seed and data must give a bit-identical dictionary");
    for (int t = 0; t < a.history().size(); t++) {
      assertEquals(a.history().get(t).fve(), b.history().get(t).fve());
    }
    FitLoop.Result c = FitLoop.fit(Y, 20, p.toBuilder().seed(6).build(), null);
    assertFalse(Arrays.equals(a.D(), c.D()), "another seed should give another dictionary");
    FitLoop.Result o1 = FitLoop.fit(Y, 20, p.toBuilder().encoder("omp").build(), null);
    FitLoop.Result o2 = FitLoop.fit(Y, 20, p.toBuilder().encoder("omp").build(), null);
    assertTrue(Arrays.equals(o1.D(), o2.D()), "OMP fits are deterministic too");
  }

  @Test
  void matryoshkaFitImprovesAndKeepsUnitAtoms() {
    int d = 32, m = 64, k = 8;
    PlantedData pd = new PlantedData(d, m, 4, 25, 72);
    float[] Y = pd.rows(0, 800);
    FitParams p = FitParams.builder(m, k).matryoshka(FitParams.Matryoshka.of(3)).batchSize(400)
        .iterations(10).seed(1).build();
    assertEquals(4, p.groups().count());
    List<IterationMetrics> seen = new ArrayList<>();
    FitLoop.Result r = FitLoop.fit(Y, d, p, seen::add);
    assertEquals(10, r.history().size());
    assertEquals(r.history(), seen, "the listener sees every iteration");
    assertUnitNorm(r);
    double first = r.history().get(0).fve();
    double last = r.history().get(r.history().size() - 1).fve();
    System.out.printf("Matryoshka fit d=%d m=%d L=3 k=%d on PlantedData (k=4, 25 dB), 10 iterations of 400 "
        + "samples: FVE%s%n", d, m, k, fves(r));
    assertTrue(last > first, "FVE " + first + " → " + last);
    for (IterationMetrics im : r.history()) {
      assertTrue(im.meanL0() <= k);
      assertEquals(400, im.samples());
    }
    assertEquals(1, r.history().get(2).epoch(), "two outer batches per epoch");
  }

  @Test
  void uniformInitWorks() {
    int d = 20, m = 30, k = 3;
    PlantedData pd = new PlantedData(d, m, k, Double.POSITIVE_INFINITY, 73);
    float[] Y = pd.rows(0, 400);
    FitParams p = FitParams.builder(m, k).init(Init.UNIFORM).batchSize(400).iterations(8).seed(2).build();
    FitLoop.Result r = FitLoop.fit(Y, d, p, null);
    assertUnitNorm(r);
    double first = r.history().get(0).fve();
    double last = r.history().get(r.history().size() - 1).fve();
    System.out.printf("uniform init d=%d m=%d k=%d: FVE%s%n", d, m, k, fves(r));
    assertTrue(last > first, "FVE " + first + " → " + last);
    // the uniform start does not depend on the data: fewer rows than atoms are fine
    FitLoop.Result tiny = FitLoop.fit(pd.rows(0, 10), d, p.toBuilder().batchSize(10).iterations(2).build(), null);
    assertUnitNorm(tiny);
  }

  static void assertMessage(Executable ex, String... fragments) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ex);
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should mention '" + f + "'");
    }
  }

  @Test
  void fitParamsValidation() {
    FitParams ok = FitParams.defaults(64, 8);
    assertMessage(() -> FitParams.defaults(8, 9), "k = 9", "m = 8");
    assertMessage(() -> ok.toBuilder().batchSize(0).build(), "batch size", "0");
    assertMessage(() -> ok.toBuilder().encoder("lasso").build(), "encoder", "lasso");
    assertMessage(() -> new Update.GaussSeidel(0), "atom batches");
    assertMessage(() -> Init.of("zeros"), "init", "zeros");
    assertMessage(() -> ok.toBuilder().iterations(-1).build(), "iterations");
    assertMessage(() -> Update.of("sgd", 1, 1), "update must be jacobi, gauss-seidel or jacobi-batches", "sgd");
    assertMessage(() -> Update.of("jacobi", 0, 1), "update passes must be at least 1");
    assertMessage(() -> FitParams.defaults(64, 0), "k must be at least 1");
    assertMessage(() -> ok.toBuilder().matryoshka(FitParams.Matryoshka.of(3, 2, 2, 2, 1)).build(), "add up to 7", "k = 8");
    assertMessage(() -> ok.toBuilder().matryoshka(FitParams.Matryoshka.of(6)).build(), "2^L < m");
    assertMessage(() -> ok.toBuilder().encoder("omp").build().validateFor(8), "k = 8", "d = 8");
    assertMessage(() -> ok.validateFor(7), "must be below the dimension d = 7");
    assertMessage(() -> ok.validateFor(8), "k = 8 must be below the dimension d = 8");
    float[] Y = new PlantedData(16, 64, 3, 20, 74).rows(0, 20);
    assertMessage(() -> FitLoop.fit(Y, 16, ok.toBuilder().batchSize(20).iterations(1).build(), null), "init = samples",
        "m = 64");
  }
}
