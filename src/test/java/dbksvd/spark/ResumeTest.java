package dbksvd.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import dbksvd.config.Settings;
import dbksvd.io.ModelDir;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A fit killed after a checkpoint and resumed ends with the same dictionary, bit for bit. */
class ResumeTest {
  @TempDir static Path tmp;
  static SparkSession spark;
  static String data;

  @BeforeAll
  static void data() throws Exception {
    spark = TestSpark.session();
    data = tmp.resolve("data").toString();
    SparkGenerate.write(spark, data, 32, 48, 3, 3000, 30, 9, 3, false);
  }

  static Config config(int k) {
    return config(k, "");
  }

  static Config config(int k, String initDictionary) {
    return Settings.load(null, List.of(), Map.of("dbksvd.fit.atoms", 48, "dbksvd.fit.k", k,
        "dbksvd.fit.batch-size", 1000, "dbksvd.fit.iterations", 7, "dbksvd.fit.checkpoint-interval", 2,
        "dbksvd.fit.seed", 3, "dbksvd.fit.init-dictionary", initDictionary));
  }

  static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

  @Test
  void resumedFitEqualsUninterruptedFit() throws Exception {
    resumedEqualsWhole(config(3), "resumed");
  }

  /** The same with the first 20 atoms given (fit --init-dictionary): the resumed fit does not read them again. */
  @Test
  void resumedFitFromAGivenDictionaryEqualsUninterruptedFit() throws Exception {
    java.util.SplittableRandom rng = new java.util.SplittableRandom(12);
    float[] rows = new float[20 * 32];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = (float) rng.nextGaussian();
    }
    Path npy = tmp.resolve("given.npy");
    try (java.io.OutputStream o = Files.newOutputStream(npy)) {
      dbksvd.io.Npy.write(o, 20, 32, rows);
    }
    resumedEqualsWhole(config(3, npy.toString()), "resumed-given");
  }

  /** batching = splits: the plan is a function of the seed and the splits' rows, so the resumed fit reads the same
   * batches (3 files of 1000 rows, n = 1000: 3 batches of one split per epoch). */
  @Test
  void resumedFitWithBatchesOfSplitsEqualsUninterruptedFit() throws Exception {
    resumedEqualsWhole(config(3).withValue("dbksvd.fit.batching",
        com.typesafe.config.ConfigValueFactory.fromAnyRef("splits")), "resumed-splits");
  }

  /** batching = window, W = 2: 3 batches per epoch in windows of 2 and 1; the crash comes in iteration 5, and the
   * fit resumes from the checkpoint after iteration 4, in the middle of epoch 1's first window. */
  @Test
  void resumedFitWithWindowsEqualsUninterruptedFit() throws Exception {
    resumedEqualsWhole(config(3).withValue("dbksvd.fit.batching",
        com.typesafe.config.ConfigValueFactory.fromAnyRef("window")).withValue("dbksvd.fit.window",
        com.typesafe.config.ConfigValueFactory.fromAnyRef(2)), "resumed-window");
  }

  /** With batching = splits, a checkpoint is not resumed on the same rows written into other files. */
  @Test
  void checkpointOnAnotherLayoutOfTheFilesIsRefused() throws Exception {
    String moved = tmp.resolve("moved-data").toString();
    SparkGenerate.write(spark, moved, 32, 48, 3, 3000, 30, 9, 3, false);
    Config splits = config(3).withValue("dbksvd.fit.batching",
        com.typesafe.config.ConfigValueFactory.fromAnyRef("splits"));
    String out = tmp.resolve("moved").toString();
    assertThrows(RuntimeException.class, () -> FitJob.run(splits, spark, moved, out, false, false, QUIET, im -> {
      if (im.iteration() == 2) {
        throw new RuntimeException("crash");
      }
    }));
    SparkGenerate.write(spark, moved, 32, 48, 3, 3000, 30, 9, 2, true); // the same rows in 2 files
    var e = assertThrows(java.io.IOException.class,
        () -> FitJob.run(splits, spark, moved, out, false, true, QUIET, null));
    assertTrue(e.getMessage().contains("another layout") && e.getMessage().contains("3 splits")
        && e.getMessage().contains("now 2 splits"), e.getMessage());
  }

  void resumedEqualsWhole(Config config, String name) throws Exception {
    String whole = tmp.resolve(name + "-whole").toString();
    FitJob.run(config, spark, data, whole, false, false, QUIET, null);

    String resumed = tmp.resolve(name).toString();
    RuntimeException crash = assertThrows(RuntimeException.class,
        () -> FitJob.run(config, spark, data, resumed, false, false, QUIET, im -> {
          if (im.iteration() == 4) {
            throw new RuntimeException("simulated driver crash in iteration 5");
          }
        }));
    assertTrue(crash.getMessage().contains("simulated"));
    assertFalse(new File(resumed).exists(), "no model after a crash");
    File ck = tmp.resolve("." + name + ".checkpoints").toFile();
    assertArrayEquals(new String[] {"iter-000004"}, ck.list(), "the newest checkpoint only");

    ByteArrayOutputStream said = new ByteArrayOutputStream();
    FitJob.run(config, spark, data, resumed, false, true, new PrintStream(said, true, StandardCharsets.UTF_8),
        null);
    assertTrue(said.toString(StandardCharsets.UTF_8).contains("resuming from"), said.toString());
    assertFalse(ck.exists(), "checkpoints removed once the model is written");

    Configuration hc = new Configuration();
    assertArrayEquals(ModelDir.read(hc, whole).D(), ModelDir.read(hc, resumed).D(), "bit for bit");
    List<String> a = Files.readAllLines(Path.of(whole, "metrics.jsonl"));
    List<String> b = Files.readAllLines(Path.of(resumed, "metrics.jsonl"));
    assertEquals(7, b.size());
    ObjectMapper json = new ObjectMapper();
    for (int t = 0; t < 7; t++) {
      assertEquals(json.readTree(a.get(t)).get("fve"), json.readTree(b.get(t)).get("fve"), "iteration " + t);
    }
    assertEquals(4, json.readTree(new File(resumed, "model.json")).get("resumed_at_iteration").asInt());
  }

  /**
   * A fit whose time budget is crossed in its first iteration stops there, writes the model and says why in
   * model.json; its checkpoint (kept) lets --resume finish the fit, to the same bits as a fit never stopped.
   */
  @Test
  void timeBudgetStopsAfterTheIterationThatCrossesItAndResumeFinishesTheFit() throws Exception {
    String whole = tmp.resolve("budget-whole").toString();
    FitJob.run(config(3), spark, data, whole, false, false, QUIET, null);
    ObjectMapper json = new ObjectMapper();
    var wholeStop = json.readTree(new File(whole, "model.json")).get("stopped");
    assertEquals("iterations", wholeStop.get("reason").asText());
    assertEquals(7, wholeStop.get("iterations_done").asInt());

    String out = tmp.resolve("budget").toString();
    Config budgeted = Settings.load(null, List.of(), Map.of("dbksvd.fit.atoms", 48, "dbksvd.fit.k", 3,
        "dbksvd.fit.batch-size", 1000, "dbksvd.fit.iterations", 7, "dbksvd.fit.checkpoint-interval", 2,
        "dbksvd.fit.seed", 3, "dbksvd.fit.time-budget", "1ms", "dbksvd.fit.keep-checkpoints", true));
    ByteArrayOutputStream said = new ByteArrayOutputStream();
    FitJob.run(budgeted, spark, data, out, false, false, new PrintStream(said, true, StandardCharsets.UTF_8), null);
    assertTrue(said.toString(StandardCharsets.UTF_8).contains("time budget of 0.001 s crossed after iteration 1/7"),
        said.toString());
    var stop = json.readTree(new File(out, "model.json")).get("stopped");
    assertEquals("time-budget", stop.get("reason").asText());
    assertEquals(1, stop.get("iterations_done").asInt());
    assertEquals(0.001, stop.get("time_budget_seconds").asDouble(), 1e-12);
    assertEquals(1, Files.readAllLines(Path.of(out, "metrics.jsonl")).size());
    File ck = tmp.resolve(".budget.checkpoints").toFile();
    assertArrayEquals(new String[] {"iter-000001"}, ck.list(), "a checkpoint where the budget stopped the fit");

    FitJob.run(config(3), spark, data, out, true, true, QUIET, null);
    Configuration hc = new Configuration();
    assertArrayEquals(ModelDir.read(hc, whole).D(), ModelDir.read(hc, out).D(), "resumed to the same bits");
    assertEquals(1, json.readTree(new File(out, "model.json")).get("resumed_at_iteration").asInt());
  }

  @Test
  void timeBudgetMustBeSecondsOrADuration() {
    assertEquals(600, Settings.timeBudgetSeconds(Settings.load(null, List.of(), Map.of("dbksvd.fit.time-budget",
        "10m"))), 0);
    assertEquals(90, Settings.timeBudgetSeconds(Settings.load(null, List.of(), Map.of("dbksvd.fit.time-budget",
        "90"))), 0);
    var e = assertThrows(IllegalArgumentException.class, () -> Settings.timeBudgetSeconds(Settings.load(null,
        List.of(), Map.of("dbksvd.fit.time-budget", "soon"))));
    assertTrue(e.getMessage().contains("dbksvd.fit.time-budget") && e.getMessage().contains("soon"),
        e.getMessage());
  }

  @Test
  void checkpointOfAnotherFitIsRefused() throws Exception {
    String out = tmp.resolve("other").toString();
    assertThrows(RuntimeException.class, () -> FitJob.run(config(3), spark, data, out, false, false, QUIET, im -> {
      if (im.iteration() == 2) {
        throw new RuntimeException("crash");
      }
    }));
    var e = assertThrows(java.io.IOException.class,
        () -> FitJob.run(config(4), spark, data, out, false, true, QUIET, null));
    assertTrue(e.getMessage().contains("other parameters"), e.getMessage());
  }
}
