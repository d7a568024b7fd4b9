package dbksvd.loop;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.metrics.DictionaryMetrics;
import dbksvd.synth.PlantedData;
import org.junit.jupiter.api.Test;

/**
 * The synthetic experiment of the K-SVD paper (Aharon, Elad, Bruckstein 2006): d = 20, m = 50, 1,500 signals,
 * k = 3, 80 iterations; a planted atom counts as recovered when 1 − |dᵢᵀd̂| < 0.01 for its closest learned atom.
 */
class KsvdRecoveryTest {

  static double recovery(int d, int m, int n, int k, int iterations, double snrDb, long seed, String encoder,
      int atomBatches) {
    return recovery(d, m, n, k, iterations, snrDb, seed, encoder, atomBatches, FitParams.GAUSS_SEIDEL);
  }

  static double recovery(int d, int m, int n, int k, int iterations, double snrDb, long seed, String encoder,
      int atomBatches, String update) {
    PlantedData planted = new PlantedData(d, m, k, snrDb, 1000 + seed);
    float[] Y = planted.rows(0, n);
    FitParams p = FitParams.defaults(m, k).withBatchSize(n).withIterations(iterations).withSeed(seed)
        .withEncoder(encoder).withAtomBatches(atomBatches).withUpdate(update, 3);
    FitLoop.Result r = FitLoop.fit(Y, d, p, null);
    return DictionaryMetrics.recoveryRate(planted.D, m, r.D(), m, d, 0.01);
  }

  static double meanRecovery(double snrDb, String encoder, int atomBatches) {
    return meanRecovery(snrDb, encoder, atomBatches, FitParams.GAUSS_SEIDEL);
  }

  static double meanRecovery(double snrDb, String encoder, int atomBatches, String update) {
    double sum = 0;
    StringBuilder per = new StringBuilder();
    for (long seed = 0; seed < 5; seed++) {
      double rec = recovery(20, 50, 1500, 3, 80, snrDb, seed, encoder, atomBatches, update);
      per.append(String.format(" %.2f", rec));
      sum += rec;
    }
    double mean = sum / 5;
    System.out.printf("K-SVD experiment d=20 m=50 n=1500 k=3 T=80 snr=%s encoder=%s update=%s atomBatches=%d: "
        + "mean recovery %.3f (per seed%s)%n", Double.isFinite(snrDb) ? snrDb + "dB" : "none", encoder, update,
        atomBatches, mean, per);
    return mean;
  }

  @Test
  void noiselessMatchingPursuitRecoversNinetyPercent() {
    assertTrue(meanRecovery(Double.POSITIVE_INFINITY, "mp", 1) >= 0.90);
  }

  @Test
  void noiselessWithParallelAtomBatches() {
    assertTrue(meanRecovery(Double.POSITIVE_INFINITY, "mp", 4) >= 0.90);
  }

  @Test
  void twentyDbNoise() {
    double mean = meanRecovery(20, "mp", 1);
    assertTrue(mean >= 0.80, "20 dB recovery " + mean);
  }

  /**
   * The Jacobi update (3 passes) on the same experiment: one batch of 1,500 samples refitted 80 times, where each
   * atom shares many samples with others and refitting all of them at once from one residual costs recovery
   * (measured 0.880 against 0.912 for Gauss-Seidel); at the paper's streaming shape the two reach the same FVE
   * (docs/benchmarks.md).
   */
  @Test
  void noiselessJacobi() {
    assertTrue(meanRecovery(Double.POSITIVE_INFINITY, "mp", 1, FitParams.JACOBI) >= 0.85);
  }

  @Test
  void noiselessOmp() {
    assertTrue(meanRecovery(Double.POSITIVE_INFINITY, "omp", 1) >= 0.90);
  }
}
