package dbksvd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dbksvd.io.ModelDir;
import dbksvd.io.Npy;
import dbksvd.spark.TestSpark;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * python/dbksvd_model.py, the numpy module that loads a model directory and codes rows as the Java encoders do,
 * gives {@code dbksvd encode}'s codes on the same 500 rows: for an MP model, an OMP model with rtol = 0.3 and a
 * Matryoshka MP model (L = 3: groups coded in turn, rtol = 0.7). For the two with rtol, encode with rtol = 0 shows
 * that the stop rule changed some codes (40 and 10 rows here), so it is exercised. D·Y and G are float32 products
 * by OpenBLAS in Java and numpy's BLAS in Python, so a near tie may go the other way: supports must agree on at
 * least 99 % of the rows and values within 1e-4 (relative to max(1, |x|)) where they do.
 */
class PythonModelTest {
  static final int D = 32, M = 64, K = 5, N = 500;
  @TempDir static Path tmp;
  static SparkSession spark;
  static String data;
  static Path rows;

  @BeforeAll
  static void data() throws Exception {
    spark = TestSpark.session();
    data = tmp.resolve("data").toString();
    Cli.Run g = Cli.run("generate", "--output", data, "--dim", "" + D, "--atoms", "" + M, "--k", "" + K,
        "--samples", "2000", "--snr-db", "30", "--partitions", "2", "--seed", "9");
    assertEquals(0, g.code(), g.err());
    rows = tmp.resolve("rows.npy");
    Python3.writeNpy(rows, N, D, Python3.rows(spark, data, N, D));
  }

  /**
   * Fits a model with the extra flags, codes the rows with encode and with the module, and compares.
   *
   * @param stopsEarly whether the rtol rule must change some codes (checked against the codes without it)
   */
  static void fitAndCompare(String name, boolean stopsEarly, String... flags) throws Exception {
    String model = tmp.resolve(name).toString();
    String[] fit = {"fit", "--input", data, "--output", model, "--atoms", "" + M, "--k", "" + K, "--iterations", "3",
        "--seed", "4"};
    Cli.Run f = Cli.run(BadInputTest.concat(fit, flags));
    assertEquals(0, f.code(), f.err());
    String codes = tmp.resolve(name + "-codes").toString();
    Cli.Run e = Cli.run("encode", "--model", model, "--input", data, "--output", codes);
    assertEquals(0, e.code(), e.err());
    float[] X = Python3.codes(spark, codes, N, M);
    Path out = tmp.resolve(name + "-python");
    String printed = Python3.run("python/dbksvd_model.py", model, rows.toString(), out.toString());
    Npy.Matrix got = Python3.readNpy(out.resolve("codes.npy"));
    assertEquals(N, got.rows());
    assertEquals(M, got.cols());
    Python3.Agreement a = Python3.Agreement.of(got.data(), X, N, M);
    System.out.printf(Locale.ROOT, "PythonModelTest %s: %s; same support as dbksvd encode on %d of %d rows, values "
        + "within %.2e%n", name, printed.trim(), a.sameSupport(), N, a.maxValueDiff());
    assertTrue(a.sameSupport() >= 0.99 * N, name + ": same support on only " + a.sameSupport() + " of " + N);
    assertTrue(a.maxValueDiff() <= 1e-4, name + ": values differ by " + a.maxValueDiff());
    if (stopsEarly) {
      // the rows whose codes the rtol rule changed: encode again with the same dictionary and rtol = 0
      ModelDir.Model mdl = ModelDir.read(new Configuration(), model);
      String noStop = tmp.resolve(name + "-rtol0").toString();
      ModelDir.write(new Configuration(), noStop, new ModelDir.Model(mdl.D(), mdl.d(), mdl.m(),
          mdl.params().toBuilder().rtol(0).build(), ModelDir.newInfo()), List.of(), false); // (info would bring the old params)
      String noStopCodes = tmp.resolve(name + "-rtol0-codes").toString();
      assertEquals(0, Cli.run("encode", "--model", noStop, "--input", data, "--output", noStopCodes).code());
      float[] X0 = Python3.codes(spark, noStopCodes, N, M);
      int changed = 0;
      int changedAgree = 0;
      for (int r = 0; r < N; r++) {
        if (!Arrays.equals(X, r * M, (r + 1) * M, X0, r * M, (r + 1) * M)) {
          changed++;
          changedAgree += Python3.Agreement.of(Arrays.copyOfRange(got.data(), r * M, (r + 1) * M),
              Arrays.copyOfRange(X, r * M, (r + 1) * M), 1, M).sameSupport();
        }
      }
      System.out.printf(Locale.ROOT, "PythonModelTest %s: rtol = %s changed the codes of %d rows; the module's "
          + "support is encode's on %d of them%n", name, mdl.params().rtol(), changed, changedAgree);
      assertTrue(changed > 0, name + ": the rtol rule changed no code");
    }
  }

  @Test
  void matchingPursuit() throws Exception {
    fitAndCompare("mp", false);
  }

  @Test
  void orthogonalMatchingPursuitWithARelativeStop() throws Exception {
    fitAndCompare("omp", true, "--encoder", "omp", "--set", "dbksvd.fit.rtol=0.3");
  }

  @Test
  void refitMatchingPursuitWithARelativeStop() throws Exception {
    fitAndCompare("mp-refit", true, "--encoder", "mp-refit", "--set", "dbksvd.fit.rtol=0.3");
  }

  @Test
  void matryoshkaWithARelativeStop() throws Exception {
    fitAndCompare("matryoshka", true, "--matryoshka", "3", "--set", "dbksvd.fit.rtol=0.7");
  }
}
