package dbksvd.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.metrics.DictionaryMetrics;
import dbksvd.synth.PlantedData;
import org.junit.jupiter.api.Test;

/** Fits end to end with encoder = mp-refit, beside mp and omp on the same planted data and settings. */
class RefitFitTest {

  @Test
  void refitFitReachesAtLeastMatchingPursuitsFve() {
    int d = 32, m = 64, k = 4, n = 3000;
    PlantedData planted = new PlantedData(d, m, k, 25, 81);
    float[] Y = planted.rows(0, n);
    String[] encoders = {"mp", "mp-refit", "omp"};
    double[] fve = new double[encoders.length];
    double[] recovery = new double[encoders.length];
    StringBuilder sb = new StringBuilder();
    for (int e = 0; e < encoders.length; e++) {
      FitParams p = FitParams.builder(m, k).batchSize(1000).iterations(15).seed(3).encoder(encoders[e]).build();
      FitLoop.Result r = FitLoop.fit(Y, d, p, null);
      FitLoopTest.assertUnitNorm(r);
      for (IterationMetrics im : r.history()) {
        assertTrue(im.meanL0() <= k, encoders[e] + ": mean L0 " + im.meanL0());
      }
      fve[e] = r.history().get(r.history().size() - 1).fve();
      recovery[e] = DictionaryMetrics.recoveryRate(planted.D, m, r.D(), m, d, 0.01);
      sb.append(String.format(" %s: FVE%s, final %.4f, recovery %.3f;", encoders[e], FitLoopTest.fves(r), fve[e],
          recovery[e]));
    }
    System.out.printf("fit d=%d m=%d k=%d, %d planted rows at 25 dB, batch 1000, 15 iterations (jacobi):%s%n", d, m,
        k, n, sb);
    assertTrue(fve[1] >= fve[0] - 0.01, "mp-refit's final FVE " + fve[1] + " vs mp's " + fve[0]);
  }

  @Test
  void refitWithMatryoshkaGroupsKeepsEachGroupsBudget() {
    int d = 32, m = 64, k = 8;
    PlantedData planted = new PlantedData(d, m, 4, 25, 82);
    float[] Y = planted.rows(0, 800);
    FitParams p = FitParams.builder(m, k).matryoshka(FitParams.Matryoshka.of(3)).batchSize(400).iterations(6)
        .seed(1).encoder("mp-refit").build();
    FitLoop.Result r = FitLoop.fit(Y, d, p, null);
    assertEquals(6, r.history().size());
    FitLoopTest.assertUnitNorm(r);
    double first = r.history().get(0).fve();
    double last = r.history().get(5).fve();
    System.out.printf("Matryoshka (L=3) fit with mp-refit, d=%d m=%d k=%d: FVE%s%n", d, m, k, FitLoopTest.fves(r));
    assertTrue(last > first, "FVE " + first + " → " + last);
    for (IterationMetrics im : r.history()) {
      assertTrue(im.meanL0() <= k);
    }
  }
}
