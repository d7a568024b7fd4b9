package dbksvd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dbksvd.io.Export;
import dbksvd.io.ModelDir;
import dbksvd.io.Npy;
import dbksvd.loop.FitParams;
import dbksvd.spark.TestSpark;
import dbksvd.synth.PlantedData;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * {@code export --format saelens}. SAELens itself cannot be installed here (no PyPI, no torch), so its matching
 * pursuit SAE is re-implemented with numpy in src/test/python/saelens_mp.py, line by line from SAELens v6.38.0
 * (commit ae2d1f8a901f7f5edf9f230a36329ad8d626716c): {@code sae_lens/saes/matching_pursuit_sae.py}
 * (MatchingPursuitSAEConfig, MatchingPursuitSAE.encode/decode, _encode_matching_pursuit) and
 * {@code sae_lens/saes/sae.py} (SAEConfig, process_sae_in, load_from_disk's strict state dict). It reads only the
 * exported cfg.json and sae_weights.safetensors, and its codes, folded back (atom j = acts[j] − acts[m + j]), are
 * compared with {@code dbksvd encode}'s on the same 500 rows.
 */
class SaelensExportTest {
  static final int D = 32, M = 64, K = 5, N = 500;
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path tmp;
  static SparkSession spark;
  static String data;
  static String model;

  @BeforeAll
  static void fitAModel() {
    spark = TestSpark.session();
    data = tmp.resolve("data").toString();
    model = tmp.resolve("model").toString();
    Cli.Run g = Cli.run("generate", "--output", data, "--dim", "" + D, "--atoms", "" + M, "--k", "" + K,
        "--samples", "2000", "--snr-db", "30", "--partitions", "2", "--seed", "7");
    assertEquals(0, g.code(), g.err());
    Cli.Run f = Cli.run("fit", "--input", data, "--output", model, "--atoms", "" + M, "--k", "" + K,
        "--iterations", "4", "--seed", "3", "--encoder", "mp"); // mp: the encoder SAELens runs
    assertEquals(0, f.code(), f.err());
  }

  @Test
  void saelensMatchingPursuitOnTheExportGivesDbksvdEncodesCodes() throws Exception {
    Path export = tmp.resolve("saelens");
    try (BadInputTest.LogCapture log = BadInputTest.LogCapture.attach()) {
      Cli.Run r = Cli.run("export", "--model", model, "--format", "saelens", "--output", export.toString());
      assertEquals(0, r.code(), r.err());
      assertTrue(log.lines().stream().noneMatch(l -> l.contains("saelens export")), "no warning for an mp model: "
          + log.lines());
    }
    JsonNode cfg = JSON.readTree(export.resolve("cfg.json").toFile());
    assertEquals("matching_pursuit", cfg.get("architecture").asText());
    assertEquals(D, cfg.get("d_in").asInt());
    assertEquals(2 * M, cfg.get("d_sae").asInt());
    assertEquals(K, cfg.get("max_iterations").asInt());
    assertEquals(0.0, cfg.get("residual_threshold").asDouble());
    assertFalse(cfg.get("stop_on_duplicate_support").asBoolean());
    assertFalse(cfg.get("apply_b_dec_to_input").asBoolean());
    assertEquals("float32", cfg.get("dtype").asText());
    assertEquals("6.38.0", cfg.at("/metadata/sae_lens_version").asText());
    assertEquals(M, cfg.at("/metadata/dbksvd/m").asInt());
    assertTrue(cfg.at("/metadata/dbksvd/same_codes_as_dbksvd_encode").asBoolean());
    assertEquals(3, cfg.at("/metadata/dbksvd/seed").asLong());
    assertEquals("fit", cfg.at("/metadata/dbksvd/model/kind").asText());
    assertWeightsAreDAndMinusD(export, ModelDir.read(new Configuration(), model));

    Path codesDir = tmp.resolve("codes");
    Cli.Run e = Cli.run("encode", "--model", model, "--input", data, "--output", codesDir.toString());
    assertEquals(0, e.code(), e.err());
    float[] Y = Python3.rows(spark, data, N, D);
    float[] X = Python3.codes(spark, codesDir.toString(), N, M);
    Path rows = tmp.resolve("rows.npy");
    Python3.writeNpy(rows, N, D, Y);
    Path out = tmp.resolve("saelens-out");
    String printed = Python3.run("src/test/python/saelens_mp.py", export.toString(), rows.toString(),
        out.toString());
    Npy.Matrix codes = Python3.readNpy(out.resolve("codes.npy"));
    Npy.Matrix recon = Python3.readNpy(out.resolve("recon.npy"));
    assertEquals(N, codes.rows());
    assertEquals(M, codes.cols());

    Python3.Agreement a = Python3.Agreement.of(codes.data(), X, N, M);
    // reconstructions: SAELens's decode (acts · W_dec) against D·x from encode's codes, relative to the latter
    float[] Dm = ModelDir.read(new Configuration(), model).D();
    double worst = 0;
    double worstSameSupport = 0;
    int sameSupportChecked = 0;
    for (int r = 0; r < N; r++) {
      double num = 0;
      double den = 0;
      for (int i = 0; i < D; i++) {
        double want = 0;
        for (int j = 0; j < M; j++) {
          want += (double) X[r * M + j] * Dm[j * D + i];
        }
        double diff = recon.data()[r * D + i] - want;
        num += diff * diff;
        den += want * want;
      }
      double rel = Math.sqrt(num / den);
      worst = Math.max(worst, rel);
      if (sameSupport(codes.data(), X, r)) {
        worstSameSupport = Math.max(worstSameSupport, rel);
        sameSupportChecked++;
      }
    }
    System.out.printf(Locale.ROOT, "SaelensExportTest: %s; same support on %d of %d rows; codes within %.2e "
        + "(relative, rows with the same support); reconstructions within %.2e relative on those rows, %.2e on all%n",
        printed.trim(), a.sameSupport(), N, a.maxValueDiff(), worstSameSupport, worst);
    assertTrue(a.sameSupport() >= 0.99 * N, "same support on only " + a.sameSupport() + " of " + N + " rows");
    assertEquals(a.sameSupport(), sameSupportChecked);
    assertTrue(a.maxValueDiff() <= 1e-4, "codes differ by " + a.maxValueDiff());
    assertTrue(worstSameSupport <= 1e-4, "reconstructions differ by " + worstSameSupport + " relative");
  }

  private static boolean sameSupport(float[] a, float[] b, int r) {
    for (int j = 0; j < M; j++) {
      if ((a[r * M + j] != 0) != (b[r * M + j] != 0)) {
        return false;
      }
    }
    return true;
  }

  /** An independent reader of the weights: exactly W_dec (2m, d) = [D; −D] and b_dec (d) = 0, F32. */
  static void assertWeightsAreDAndMinusD(Path export, ModelDir.Model mdl) throws Exception {
    int m = mdl.m();
    int d = mdl.d();
    byte[] file = Files.readAllBytes(export.resolve("sae_weights.safetensors"));
    long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, n % 8, "header padded to 8 bytes");
    JsonNode header = JSON.readTree(new String(file, 8, (int) n, StandardCharsets.UTF_8));
    assertEquals(List.of("__metadata__", "W_dec", "b_dec"), List.copyOf(iterable(header.fieldNames())));
    assertEquals("F32", header.at("/W_dec/dtype").asText());
    assertEquals("[" + 2 * m + "," + d + "]", header.at("/W_dec/shape").toString());
    assertEquals("[0," + 8L * m * d + "]", header.at("/W_dec/data_offsets").toString());
    assertEquals("[" + d + "]", header.at("/b_dec/shape").toString());
    assertEquals("[" + 8L * m * d + "," + (8L * m * d + 4L * d) + "]", header.at("/b_dec/data_offsets").toString());
    assertEquals(8 + n + 8L * m * d + 4L * d, file.length);
    ByteBuffer body = ByteBuffer.wrap(file, (int) (8 + n), 8 * m * d + 4 * d).order(ByteOrder.LITTLE_ENDIAN);
    for (int sign : new int[] {1, -1}) {
      for (int j = 0; j < m; j++) {
        for (int i = 0; i < d; i++) {
          assertEquals(sign * mdl.D()[j * d + i], body.getFloat(), 0f, "W_dec[" + (sign > 0 ? j : m + j) + ", "
              + i + "]");
        }
      }
    }
    for (int i = 0; i < d; i++) {
      assertEquals(0f, body.getFloat(), "b_dec[" + i + "]");
    }
  }

  private static <T> List<T> iterable(java.util.Iterator<T> it) {
    List<T> l = new java.util.ArrayList<>();
    it.forEachRemaining(l::add);
    return l;
  }

  /**
   * OMP, mp-refit, Matryoshka and rtol &gt; 0 have no SAELens equivalent: the export is still written (D is the
   * decoder), with one warning line and the reasons in cfg.json's metadata; the model directory is recorded when known.
   */
  @Test
  void modelsSaelensCannotReproduceExportWithAWarning() throws Exception {
    PlantedData planted = new PlantedData(16, 24, 4, 30, 5);
    FitParams base = FitParams.defaults(24, 4).toBuilder().encoder("mp").build();
    String[][] cases = {
        {"omp", "the model codes with omp, which is not a SAELens architecture"},
        {"mp-refit", "the model codes with mp-refit (matching pursuit, then a least-squares refit on its support): "
            + "SAELens's matching pursuit has no refit"},
        {"matryoshka", "Matryoshka groups [0, 4, 8, 16, 24] are coded in turn with budgets [1, 1, 1, 1]"},
        {"rtol", "rtol = 0.25 stops when ||r|| <= rtol ||y||"}};
    for (String[] c : cases) {
      FitParams p = switch (c[0]) {
        case "omp" -> base.toBuilder().encoder("omp").build();
        case "mp-refit" -> base.toBuilder().encoder("mp-refit").build();
        case "matryoshka" -> base.toBuilder().matryoshka(FitParams.Matryoshka.of(2)).build();
        default -> base.toBuilder().rtol(0.25).build();
      };
      String dir = tmp.resolve("model-" + c[0]).toString();
      ModelDir.write(new Configuration(), dir, new ModelDir.Model(planted.D, 16, 24, p, ModelDir.newInfo()),
          List.of(), false);
      Path export = tmp.resolve("saelens-" + c[0]);
      try (BadInputTest.LogCapture log = BadInputTest.LogCapture.attach()) {
        Cli.Run r = Cli.run("export", "--model", dir, "--format", "saelens", "--output", export.toString());
        assertEquals(0, r.code(), r.err());
        List<String> warnings = log.lines().stream().filter(l -> l.contains("saelens export")).toList();
        assertEquals(1, warnings.size(), log.lines().toString());
        assertTrue(warnings.get(0).startsWith("WARN") && warnings.get(0).contains("will differ from dbksvd encode's")
            && warnings.get(0).contains(c[1]) && !warnings.get(0).contains("\n"), warnings.get(0));
      }
      JsonNode cfg = JSON.readTree(export.resolve("cfg.json").toFile());
      assertFalse(cfg.at("/metadata/dbksvd/same_codes_as_dbksvd_encode").asBoolean());
      assertTrue(cfg.at("/metadata/dbksvd/differences/0").asText().startsWith(c[1]), cfg.toString());
      assertEquals(4, cfg.get("max_iterations").asInt());
      assertWeightsAreDAndMinusD(export, ModelDir.read(new Configuration(), dir));
    }
    // called with the model directory (as the export command can), the metadata names it
    Path named = tmp.resolve("saelens-named");
    Export.write(spark, ModelDir.read(new Configuration(), model), model, Export.Format.SAELENS, named.toString(),
        null, false);
    assertEquals(model, JSON.readTree(named.resolve("cfg.json").toFile()).at("/metadata/dbksvd/model_dir").asText());
  }
}
