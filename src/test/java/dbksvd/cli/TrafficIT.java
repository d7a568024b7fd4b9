package dbksvd.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What a fit moves does not grow with the task slots: the same 2-iteration fit (d = 256, m = 2048, k = 8, 16,384
 * rows in 16 files) at {@code local[2]} and {@code local[8]}, each in its own JVM through {@code bin/dbksvd}: the
 * bytes shuffled plus the task results sent to the driver (Spark's own metrics, per iteration in metrics.jsonl) at 8
 * slots are at most 1.25 × those at 2 slots, and the dictionaries are the same.
 */
class TrafficIT {
  @TempDir Path tmp;

  /** Shuffle + results over the fit's iterations, from metrics.jsonl. */
  static long moved(Path model) throws Exception {
    long total = 0;
    ObjectMapper json = new ObjectMapper();
    for (String line : Files.readAllLines(model.resolve("metrics.jsonl"))) {
      JsonNode b = json.readTree(line).path("bytes");
      assertTrue(b.has("shuffle") && b.has("results"), line);
      total += b.get("shuffle").asLong() + b.get("results").asLong();
    }
    return total;
  }

  @Test
  void bytesMovedDoNotGrowWithTaskSlots() throws Exception {
    String data = tmp.resolve("data").toString();
    LauncherIT.Result g = LauncherIT.dbksvd("generate", "--output", data, "--dim", "256", "--atoms", "2048", "--k",
        "8", "--samples", "16384", "--partitions", "16", "--seed", "1");
    assertEquals(0, g.code(), g.err());
    long[] moved = new long[2];
    byte[][] dictionary = new byte[2][];
    int[] slots = {2, 8};
    for (int i = 0; i < 2; i++) {
      Path model = tmp.resolve("model-" + slots[i]);
      LauncherIT.Result f = LauncherIT.dbksvd("fit", "--input", data, "--output", model.toString(), "--atoms",
          "2048", "--k", "8", "--iterations", "2", "--set", "dbksvd.spark.master=local[" + slots[i] + "]");
      assertEquals(0, f.code(), f.err());
      moved[i] = moved(model);
      dictionary[i] = Files.readAllBytes(model.resolve("dictionary.npy"));
    }
    System.out.printf("TrafficIT: shuffle + results over 2 iterations: %d bytes at local[2], %d at local[8] "
        + "(ratio %.3f)%n", moved[0], moved[1], (double) moved[1] / moved[0]);
    assertTrue(moved[1] <= 1.25 * moved[0], List.of(moved[0], moved[1]) + " bytes at 2 and 8 slots");
    assertArrayEquals(dictionary[0], dictionary[1], "the same dictionary for any number of slots");
  }
}
