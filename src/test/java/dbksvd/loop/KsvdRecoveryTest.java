package dbksvd.loop;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.metrics.DictionaryMetrics;
import dbksvd.synth.PlantedData;
import dbksvd.update.Update;
import org.junit.jupiter.api.Test;

/**
 * The synthetic experiment of the K-SVD paper (Aharon, Elad, Bruckstein 2006): d = 20, m = 50, 1,500 signals,
 * k = 3, 80 iterations; a planted atom counts as recovered when 1 − |dᵢᵀd̂| < 0.01 for its closest learned atom.
 */
class KsvdRecoveryTest {

  static double recovery(int d, int m, int n, int k, int iterations, double snrDb, long seed, String encoder,
      Update update) {
    PlantedData planted = new PlantedData(d, m, k, snrDb, 1000 + seed);
    float[] Y = planted.rows(0, n);
    FitParams p = FitParams.builder(m, k).batchSize(n).iterations(iterations).seed(seed).encoder(encoder)
        .update(update).build();
    FitLoop.Result r = FitLoop.fit(Y, d, p, null);
    return DictionaryMetrics.recoveryRate(planted.D, m, r.D(), m, d, 0.01);
  }

  /** The mean recovery over seeds 0–4, printed with the per-seed figures, and asserted to reach {@code bar}. */
  static void assertMeanRecovery(double bar, double snrDb, String encoder, Update update) {
    double sum = 0;
    StringBuilder per = new StringBuilder();
    for (long seed = 0; seed < 5; seed++) {
      double rec = recovery(20, 50, 1500, 3, 80, snrDb, seed, encoder, update);
      per.append(String.format(" %.2f", rec));
      sum += rec;
    }
    double mean = sum / 5;
    String what = String.format("K-SVD experiment d=20 m=50 n=1500 k=3 T=80 snr=%s encoder=%s update=%s: "
        + "mean recovery %.3f (per seed%s)", Double.isFinite(snrDb) ? snrDb + "dB" : "none", encoder, update, mean,
        per);
    System.out.println(what);
    assertTrue(mean >= bar, what + " is below the bar " + bar);
  }

  @Test
  void noiselessMatchingPursuitRecoversNinetyPercent() {
    assertMeanRecovery(0.90, Double.POSITIVE_INFINITY, "mp", new Update.GaussSeidel(1));
  }

  @Test
  void noiselessWithParallelAtomBatches() {
    assertMeanRecovery(0.90, Double.POSITIVE_INFINITY, "mp", new Update.GaussSeidel(4));
  }

  @Test
  void twentyDbNoise() {
    assertMeanRecovery(0.80, 20, "mp", new Update.GaussSeidel(1));
  }

  /**
   * The Jacobi update (3 passes) on the same experiment: one batch of 1,500 samples refitted 80 times, where each
   * atom shares many samples with others and refitting all of them at once from one residual costs recovery
   * (measured 0.880 against 0.912 for Gauss-Seidel); at the paper's streaming shape the two reach the same FVE
   * (docs/benchmarks.md).
   */
  @Test
  void noiselessJacobi() {
    assertMeanRecovery(0.85, Double.POSITIVE_INFINITY, "mp", new Update.Jacobi(3));
  }

  /** The defaults (mp-refit, Jacobi with 3 passes): above plain MP with the same update (0.880); measured 0.964. */
  @Test
  void noiselessDefaults() {
    assertMeanRecovery(0.90, Double.POSITIVE_INFINITY, "mp-refit", new Update.Jacobi(3));
  }

  /**
   * The paper's schedule (jacobi-batches: 4 atom batches in sequence, 3 passes each, coefficients and residuals
   * refitted after each batch) on the same experiment; printed beside {@link #noiselessJacobi}'s figure (measured
   * 0.900 against jacobi's 0.880 and gauss-seidel's 0.932 with 4 atom batches).
   */
  @Test
  void noiselessJacobiBatches() {
    assertMeanRecovery(0.85, Double.POSITIVE_INFINITY, "mp", new Update.JacobiBatches(4, 3));
  }

  @Test
  void noiselessOmp() {
    assertMeanRecovery(0.90, Double.POSITIVE_INFINITY, "omp", new Update.GaussSeidel(1));
  }
}
