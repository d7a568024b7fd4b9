package dbksvd.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dbksvd.cli.Main;
import dbksvd.io.ModelDir;
import dbksvd.io.Npy;
import dbksvd.spark.TestSpark;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * notebooks/model_report.ipynb runs headless (jupyter nbconvert --execute, as a user would) on a model the command
 * line fits here, and shows what it promises: the training curves, the coherence histogram with the same coherence
 * as dbksvd computes, atom usage from matching pursuit on a sample, and the nearest atoms. Jupyter, numpy and
 * matplotlib come from Debian packages: bin/setup-notebooks (which .ci/run calls) installs them.
 */
class NotebooksTest {
  static final Path PROJECT = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
  static final long TIMEOUT_S = 240;
  @TempDir Path tmp;

  @Test
  void modelReportRunsOnAFittedModel() throws Exception {
    SparkSession spark = TestSpark.session();
    String data = tmp.resolve("data").toString();
    String model = tmp.resolve("model").toString();
    assertEquals(0, Main.execute("generate", "--output", data, "--dim", "16", "--atoms", "24", "--k", "3",
        "--samples", "1500", "--partitions", "2", "--snr-db", "30", "--seed", "11"));
    assertEquals(0, Main.execute("fit", "--input", data, "--output", model, "--atoms", "24", "--k", "3",
        "--iterations", "4", "--seed", "1"));
    // a sample of the embeddings as .npy, for the usage section
    List<Row> rows = spark.read().parquet(data).select("embedding").limit(300).collectAsList();
    float[] sample = new float[rows.size() * 16];
    for (int r = 0; r < rows.size(); r++) {
      List<Float> v = rows.get(r).getList(0);
      for (int i = 0; i < 16; i++) {
        sample[r * 16 + i] = v.get(i);
      }
    }
    Path samplePath = tmp.resolve("sample.npy");
    try (OutputStream out = Files.newOutputStream(samplePath)) {
      Npy.write(out, rows.size(), 16, sample);
    }

    long t0 = System.nanoTime();
    JsonNode nb = execute("model_report.ipynb", model, samplePath);
    System.out.printf("NotebooksTest: jupyter nbconvert --execute model_report.ipynb took %.1f s%n",
        (System.nanoTime() - t0) / 1e9);
    int images = 0;
    StringBuilder text = new StringBuilder();
    int codeCells = 0;
    for (JsonNode cell : nb.get("cells")) {
      if (!"code".equals(cell.get("cell_type").asText())) {
        continue;
      }
      codeCells++;
      assertTrue(cell.get("execution_count").isNumber(), "a cell did not run: " + cell.get("source"));
      for (JsonNode out : cell.get("outputs")) {
        assertTrue(!"error".equals(out.path("output_type").asText()), "cell failed: " + out);
        if (out.at("/data/image~1png").isTextual()) {
          images++;
        }
        out.path("text").forEach(t -> text.append(t.asText()));
        if (out.path("text").isTextual()) {
          text.append(out.path("text").asText());
        }
      }
    }
    String printed = text.toString();
    assertEquals(5, codeCells);
    assertEquals(4, images, "curves, coherence histogram, usage, nearest atoms: " + printed);
    assertTrue(printed.contains("m = 24 atoms, d = 16, k = 3, 4 iterations, input rows 1500"), printed);

    // the notebook's coherence is dbksvd's: max over j != i of |d_i . d_j|, per atom, from dictionary.npy rows
    ModelDir.Model mdl = ModelDir.read(new Configuration(), model);
    double[] perAtom = new double[24];
    for (int i = 0; i < 24; i++) {
      for (int j = 0; j < 24; j++) {
        if (i != j) {
          double dot = 0;
          for (int c = 0; c < 16; c++) {
            dot += (double) mdl.D()[i * 16 + c] * mdl.D()[j * 16 + c];
          }
          perAtom[i] = Math.max(perAtom[i], Math.abs(dot));
        }
      }
    }
    double max = 0;
    double sum = 0;
    for (double c : perAtom) {
      max = Math.max(max, c);
      sum += c;
    }
    String coherence = String.format(Locale.ROOT, "coherence: max %.4f, mean of the per-atom maxima %.4f", max,
        sum / 24);
    assertTrue(printed.contains(coherence), "expected '" + coherence + "' in\n" + printed);

    Matcher usage = Pattern.compile("300 samples: (\\d+) of 24 atoms used, (\\d+) never; mean L0 ([0-9.]+); "
        + "FVE ([0-9.-]+)").matcher(printed);
    assertTrue(usage.find(), printed);
    assertEquals(24, Integer.parseInt(usage.group(1)) + Integer.parseInt(usage.group(2)));
    double l0 = Double.parseDouble(usage.group(3));
    assertTrue(l0 > 2 && l0 <= 3, "mean L0 " + l0);
    assertTrue(Double.parseDouble(usage.group(4)) > 0.7, "FVE of the sample: " + usage.group(4));
    assertTrue(printed.contains("closest pairs (i, j, |cos|):"), printed);
  }

  /** Runs a notebook with jupyter nbconvert and returns the executed notebook. */
  JsonNode execute(String notebook, String model, Path sample) throws Exception {
    Path out = tmp.resolve("executed");
    List<String> cmd = new ArrayList<>(List.of("jupyter-nbconvert", "--to", "notebook", "--execute",
        "--ExecutePreprocessor.timeout=180", "--output-dir", out.toString(), "--output", "result",
        PROJECT.resolve("notebooks").resolve(notebook).toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("nbconvert.log").toFile());
    pb.environment().put("DBKSVD_MODEL", model);
    pb.environment().put("DBKSVD_SAMPLE", sample.toString());
    pb.environment().remove("MPLBACKEND"); // the notebook draws inline, into the executed notebook
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new AssertionError("jupyter-nbconvert is not installed: run bin/setup-notebooks", e);
    }
    if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(notebook + " did not finish in " + TIMEOUT_S + " s");
    }
    String log = Files.readString(tmp.resolve("nbconvert.log"), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), notebook + " failed:\n" + log);
    return new ObjectMapper().readTree(out.resolve("result.ipynb").toFile());
  }
}
