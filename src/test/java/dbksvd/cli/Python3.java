package dbksvd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dbksvd.io.Npy;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The project's Python files run with python3 and numpy (bin/setup-notebooks installs them; CI runs it). Where
 * either is missing a test is skipped (a JUnit assumption, reported as skipped), except under CI (CI set), where it
 * fails. Also the rows and codes the Python tests exchange with {@code dbksvd encode}.
 */
final class Python3 {
  static final Path PROJECT = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
  static final long TIMEOUT_S = 300;

  private Python3() {}

  /** Runs {@code python3 ARGS…} in the project directory; returns what it printed; fails on a non-zero exit. */
  static String run(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("python3"));
    cmd.addAll(List.of(args));
    Process p;
    try {
      p = new ProcessBuilder(cmd).directory(PROJECT.toFile()).redirectErrorStream(true).start();
    } catch (IOException e) {
      missing("python3 is not installed");
      throw e;
    }
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("python3 " + String.join(" ", args) + " did not finish in " + TIMEOUT_S + " s");
    }
    String text = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0 && text.contains("No module named 'numpy'")) {
      missing("numpy is not installed for python3");
    }
    assertEquals(0, p.exitValue(), "python3 " + String.join(" ", args) + ":\n" + text);
    return text;
  }

  private static void missing(String what) {
    if (System.getenv("CI") != null) {
      fail(what + " (CI runs bin/setup-notebooks, which installs python3 and numpy)");
    }
    Assumptions.abort(what + "; bin/setup-notebooks installs it");
  }

  /** The rows (id &lt; n, by id) of a dataset with columns id and embedding (array&lt;float&gt;), n × d row-major. */
  static float[] rows(SparkSession spark, String data, int n, int d) {
    List<Row> rows = spark.read().parquet(data).where("id < " + n).orderBy("id").select("embedding")
        .collectAsList();
    assertEquals(n, rows.size());
    float[] Y = new float[n * d];
    for (int r = 0; r < n; r++) {
      List<Float> v = rows.get(r).getList(0);
      for (int i = 0; i < d; i++) {
        Y[r * d + i] = v.get(i);
      }
    }
    return Y;
  }

  /** The codes {@code dbksvd encode} wrote for the rows id &lt; n, by id, dense n × m. */
  static float[] codes(SparkSession spark, String codes, int n, int m) {
    List<Row> rows = spark.read().parquet(codes).where("id < " + n).orderBy("id").select("codes").collectAsList();
    assertEquals(n, rows.size());
    float[] X = new float[n * m];
    for (int r = 0; r < n; r++) {
      SparseVector v = (SparseVector) rows.get(r).get(0);
      assertEquals(m, v.size());
      for (int t = 0; t < v.indices().length; t++) {
        X[r * m + v.indices()[t]] = (float) v.values()[t];
      }
    }
    return X;
  }

  static void writeNpy(Path file, int rows, int cols, float[] data) throws IOException {
    try (OutputStream out = Files.newOutputStream(file)) {
      Npy.write(out, rows, cols, data);
    }
  }

  static Npy.Matrix readNpy(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return Npy.read(in, file.toString());
    }
  }

  /** Agreement of two sets of codes (n × m) of the same rows. */
  record Agreement(int rows, int sameSupport, double maxValueDiff) {
    /** Same support: the same atoms non-zero; values compared on those rows, |a − b| / max(1, |b|). */
    static Agreement of(float[] got, float[] want, int n, int m) {
      int same = 0;
      double maxDiff = 0;
      for (int r = 0; r < n; r++) {
        boolean eq = true;
        for (int j = 0; j < m; j++) {
          eq &= (got[r * m + j] != 0) == (want[r * m + j] != 0);
        }
        if (!eq) {
          continue;
        }
        same++;
        for (int j = 0; j < m; j++) {
          float w = want[r * m + j];
          maxDiff = Math.max(maxDiff, Math.abs(got[r * m + j] - w) / Math.max(1.0, Math.abs(w)));
        }
      }
      return new Agreement(n, same, maxDiff);
    }
  }
}
