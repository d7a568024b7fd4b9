package dbksvd.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * fit --update jacobi-batches reaches the same dictionary at {@code local[1]} and {@code local[2]}, each in its own
 * JVM through {@code bin/dbksvd}: the per-batch Jacobi sums are exact and the refit of coefficients and residuals
 * is per sample, so neither depends on the task slots (the sums are split over as many atom ranges and threads as
 * there are slots).
 */
class JacobiBatchesIT {
  @TempDir Path tmp;

  @Test
  void sameDictionaryAtOneAndTwoSlots() throws Exception {
    String data = tmp.resolve("data").toString();
    LauncherIT.Result g = LauncherIT.dbksvd("generate", "--output", data, "--dim", "32", "--atoms", "64", "--k",
        "3", "--samples", "6000", "--partitions", "4", "--seed", "4", "--snr-db", "30");
    assertEquals(0, g.code(), g.err());
    byte[][] dictionary = new byte[2][];
    for (int slots = 1; slots <= 2; slots++) {
      Path model = tmp.resolve("model-" + slots);
      LauncherIT.Result f = LauncherIT.dbksvd("fit", "--input", data, "--output", model.toString(), "--atoms", "64",
          "--k", "3", "--batch-size", "2000", "--iterations", "6", "--update", "jacobi-batches", "--atom-batches",
          "4", "--update-passes", "2", "--set", "dbksvd.spark.master=local[" + slots + "]");
      assertEquals(0, f.code(), f.err());
      dictionary[slots - 1] = Files.readAllBytes(model.resolve("dictionary.npy"));
      String json = Files.readString(model.resolve("model.json"));
      assertTrue(json.replace(" ", "").contains("\"update\":\"jacobi-batches\""), json);
    }
    assertArrayEquals(dictionary[0], dictionary[1], "the same dictionary at 1 and 2 slots");
  }
}
