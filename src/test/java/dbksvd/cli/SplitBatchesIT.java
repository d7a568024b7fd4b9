package dbksvd.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * fit --batching splits reaches the same dictionary at {@code local[1]} and {@code local[2]}, each in its own JVM
 * through {@code bin/dbksvd}: the splits are the files (not Spark's packing of small files, which depends on the
 * cores: with a small {@code spark.sql.files.openCostInBytes} it would make 1 split at 1 slot and 2 at 2) and the
 * row ids are the files', so the batches, and the bits, do not depend on the task slots.
 */
class SplitBatchesIT {
  @TempDir Path tmp;

  @Test
  void sameDictionaryAtOneAndTwoSlots() throws Exception {
    String data = tmp.resolve("data").toString();
    LauncherIT.Result g = LauncherIT.dbksvd("generate", "--output", data, "--dim", "32", "--atoms", "64", "--k",
        "3", "--samples", "8000", "--partitions", "16", "--seed", "4", "--snr-db", "30");
    assertEquals(0, g.code(), g.err());
    byte[][] dictionary = new byte[2][];
    for (int slots = 1; slots <= 2; slots++) {
      Path model = tmp.resolve("model-" + slots);
      LauncherIT.Result f = LauncherIT.dbksvd("fit", "--input", data, "--output", model.toString(), "--atoms", "64",
          "--k", "3", "--batch-size", "1500", "--iterations", "8", "--batching", "splits",
          "--set", "dbksvd.spark.master=local[" + slots + "]",
          // a small open cost: Spark alone would pack the 16 files into 1 partition at 1 slot and 2 at 2 slots
          "--set", "dbksvd.spark.conf.\"spark.sql.files.openCostInBytes\"=1024");
      assertEquals(0, f.code(), f.err());
      assertTrue(f.out().contains("batches of whole splits: 16 splits"), f.out());
      dictionary[slots - 1] = Files.readAllBytes(model.resolve("dictionary.npy"));
      assertTrue(Files.readString(model.resolve("model.json")).contains("\"batching\" : \"splits\"")
          || Files.readString(model.resolve("model.json")).contains("\"batching\":\"splits\""), "model.json");
    }
    assertArrayEquals(dictionary[0], dictionary[1], "the same dictionary at 1 and 2 slots");
  }
}
