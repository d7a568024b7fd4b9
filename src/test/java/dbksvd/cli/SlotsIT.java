package dbksvd.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Fits that reach the same dictionary at {@code local[1]} and {@code local[2]}, each in its own JVM through
 * {@code bin/dbksvd}, on 16 files of planted data.
 */
class SlotsIT {
  @TempDir static Path tmp;
  static String data;

  @BeforeAll
  static void data() throws Exception {
    data = tmp.resolve("data").toString();
    LauncherIT.Result g = LauncherIT.dbksvd("generate", "--output", data, "--dim", "32", "--atoms", "64", "--k",
        "3", "--samples", "8000", "--partitions", "16", "--seed", "4", "--snr-db", "30");
    assertEquals(0, g.code(), g.err());
  }

  /** The fit at 1 and 2 slots (m = 64, k = 3, and the given flags); asserts equal dictionaries, returns the runs. */
  static List<LauncherIT.Result> sameDictionaryAtOneAndTwoSlots(String name, String... flags) throws Exception {
    byte[][] dictionary = new byte[2][];
    List<LauncherIT.Result> runs = new ArrayList<>();
    for (int slots = 1; slots <= 2; slots++) {
      Path model = tmp.resolve(name + "-" + slots);
      List<String> args = new ArrayList<>(List.of("fit", "--input", data, "--output", model.toString(), "--atoms",
          "64", "--k", "3", "--set", "dbksvd.spark.master=local[" + slots + "]"));
      args.addAll(List.of(flags));
      LauncherIT.Result f = LauncherIT.dbksvd(args.toArray(String[]::new));
      assertEquals(0, f.code(), f.err());
      dictionary[slots - 1] = Files.readAllBytes(model.resolve("dictionary.npy"));
      runs.add(f);
    }
    assertArrayEquals(dictionary[0], dictionary[1], name + ": the same dictionary at 1 and 2 slots");
    return runs;
  }

  /**
   * batching = window with update = jacobi-batches, one fit per slot count that checks both. Windows: the splits
   * are the files (not Spark's packing of small files, which depends on the cores: with a small
   * {@code spark.sql.files.openCostInBytes} it would make 1 split at 1 slot and 2 at 2), the row ids are the
   * files', and a window's rows are dealt to its batches by the plan alone, so the batches do not depend on the task
   * slots (batching = splits plans the same batches of splits: a window of 1 batch, WindowPlanTest). Jacobi-batches: the per-batch Jacobi sums are exact and
   * the refit of coefficients and residuals is per sample, so neither depends on the task slots (the sums are split
   * over as many atom ranges and threads as there are slots). Either one depending on the slots changes the bits.
   * (The default batching and update across slot counts: TrafficIT.)
   */
  @Test
  void windowsOfSplitsWithJacobiBatches() throws Exception {
    for (LauncherIT.Result f : sameDictionaryAtOneAndTwoSlots("window", "--batch-size", "1500", "--iterations", "8",
        "--batching", "window", "--window", "2",
        "--update", "jacobi-batches", "--atom-batches", "4", "--update-passes", "2",
        // a small open cost: Spark alone would pack the 16 files into 1 partition at 1 slot and 2 at 2 slots
        "--set", "dbksvd.spark.conf.\"spark.sql.files.openCostInBytes\"=1024")) {
      assertTrue(f.out().contains("batches from windows of 2 batches of splits: 16 splits"), f.out());
    }
    String json = Files.readString(tmp.resolve("window-1").resolve("model.json"));
    assertTrue(json.replace(" ", "").contains("\"update\":\"jacobi-batches\""), json);
    assertTrue(json.replace(" ", "").contains("\"batching\":\"window\""), json);
    assertTrue(json.replace(" ", "").contains("\"window\":2"), json);
  }
}
