package dbksvd.cli;

import static dbksvd.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dbksvd.io.ModelDir;
import dbksvd.linalg.Blas;
import dbksvd.spark.TestSpark;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The commands as a user runs them, on a real local Spark and real files. */
class CliTest {
  @TempDir static Path tmp;
  static SparkSession spark;
  static String data;
  static String truth;
  static String model;

  static String p(String name) {
    return tmp.resolve(name).toString();
  }

  @BeforeAll
  static void generateAndFit() {
    spark = TestSpark.session();
    data = p("data");
    truth = p("truth");
    model = p("model");
    Cli.Run g = run("generate", "--output", data, "--dim", "32", "--atoms", "48", "--k", "3", "--samples", "3000",
        "--partitions", "3", "--seed", "4", "--truth", truth);
    assertEquals(0, g.code(), g.err());
    Cli.Run f = run("fit", "--input", data, "--output", model, "--atoms", "48", "--k", "3", "--batch-size", "1500",
        "--iterations", "15", "--seed", "2", "--encoder", "mp");
    assertEquals(0, f.code(), f.err());
  }

  @Test
  void modelDirectoryHoldsDictionaryParametersAndMetrics() throws Exception {
    ModelDir.Model mdl = ModelDir.read(new Configuration(), model);
    assertEquals(32, mdl.d());
    assertEquals(48, mdl.m());
    for (int j = 0; j < 48; j++) {
      assertEquals(1.0, Math.sqrt(Blas.sqNorm(32, mdl.D(), j * 32)), 1e-5, "atom " + j);
    }
    JsonNode json = new ObjectMapper().readTree(new File(model, "model.json"));
    assertEquals("samples", json.at("/params/init").asText());
    assertEquals(2, json.at("/params/seed").asLong());
    assertEquals(3000, json.get("rows").asLong());
    assertTrue(json.at("/metrics/fve").asDouble() > 0.5);
    List<String> lines = Files.readAllLines(Path.of(model, "metrics.jsonl"));
    assertEquals(15, lines.size());
    for (String line : lines) {
      JsonNode m = new ObjectMapper().readTree(line);
      assertTrue(m.has("fve") && m.has("relative_error") && m.has("mean_l0") && m.has("dead_atoms")
          && m.has("coherence_max") && m.at("/seconds/encode").isNumber(), line);
    }
    // no temporary directory left beside the output
    try (var siblings = Files.list(tmp)) {
      assertTrue(siblings.noneMatch(s -> s.getFileName().toString().startsWith(".")), "temporary left behind");
    }
  }

  @Test
  void dictionaryNpyIsReadableByNumpy() throws Exception {
    String out = Python3.run("-c", "import numpy as np,sys; D=np.load(sys.argv[1]); "
        + "print(D.dtype, D.shape, round(float(np.linalg.norm(D,axis=1).mean()),4))", model + "/dictionary.npy");
    assertEquals("float32 (48, 32) 1.0", out.trim());
  }

  @Test
  void generateWritesBinaryFloat32WithTheSameValuesAsTheArrayForm() {
    String bin = p("data-binary");
    Cli.Run g = run("generate", "--output", bin, "--dim", "32", "--atoms", "48", "--k", "3", "--samples", "3000",
        "--partitions", "2", "--seed", "4", "--format", "binary");
    assertEquals(0, g.code(), g.err());
    Dataset<Row> b = spark.read().parquet(bin);
    assertEquals("binary", b.schema().apply("embedding").dataType().simpleString());
    List<Row> binRows = b.orderBy("id").limit(40).collectAsList();
    List<Row> arrRows = spark.read().parquet(data).orderBy("id").limit(40).collectAsList();
    for (int r = 0; r < 40; r++) {
      byte[] bytes = binRows.get(r).getAs("embedding");
      float[] y = new float[32];
      java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(y);
      List<Float> a = arrRows.get(r).getList(1);
      for (int i = 0; i < 32; i++) {
        assertEquals(a.get(i), y[i], 0f, "row " + r + " position " + i);
      }
    }
    assertEquals(2, run("generate", "--output", p("bad-format"), "--format", "csv").code());
  }

  @Test
  void encodeWritesSparseCodesAndCarriesColumns() {
    String codes = p("codes");
    Cli.Run e = run("encode", "--model", model, "--input", data, "--output", codes);
    assertEquals(0, e.code(), e.err());
    Dataset<Row> df = spark.read().parquet(codes);
    assertEquals(List.of("id", "embedding", "codes"), Arrays.asList(df.columns()));
    assertEquals(3000, df.count());
    for (Row r : df.limit(50).collectAsList()) {
      SparseVector v = (SparseVector) r.getAs("codes");
      assertEquals(48, v.size());
      assertTrue(v.numNonzeros() >= 1 && v.numNonzeros() <= 3, v.toString());
    }
  }

  @Test
  void evaluateReportsMetricsAndRecovery() throws Exception {
    String json = p("eval.json");
    Cli.Run e = run("evaluate", "--model", model, "--input", data, "--reference", truth, "--json", json);
    assertEquals(0, e.code(), e.err());
    JsonNode o = new ObjectMapper().readTree(new File(json));
    for (String key : new String[] {"fve", "relative_error", "mean_l0", "dead_atoms", "coherence_max",
        "coherence_mean", "recovery_rate"}) {
      assertTrue(o.has(key), key + " missing in " + o);
    }
    assertEquals(3000, o.get("rows").asLong());
    assertTrue(o.get("fve").asDouble() > 0.8, o.toString());
    assertTrue(o.get("recovery_rate").asDouble() > 0.5, o.toString());
  }

  @Test
  void existingOutputIsRefusedWithoutOverwrite() throws Exception {
    byte[] before = Files.readAllBytes(Path.of(model, "dictionary.npy"));
    Cli.Run f = run("fit", "--input", data, "--output", model, "--atoms", "48", "--k", "3", "--iterations", "1");
    assertEquals(2, f.code());
    assertTrue(f.err().contains("already exists") && f.err().contains("--overwrite"), f.err());
    assertTrue(Arrays.equals(before, Files.readAllBytes(Path.of(model, "dictionary.npy"))));
  }

  @Test
  void unknownConfigKeyIsRefused() {
    Cli.Run f = run("fit", "--input", data, "--output", p("never"), "--set", "dbksvd.fit.atomz=3");
    assertEquals(2, f.code());
    assertTrue(f.err().contains("unknown config key 'dbksvd.fit.atomz'"), f.err());
    assertFalse(new File(p("never")).exists());
  }

  @Test
  void kAboveAtomsIsRefused() {
    Cli.Run f = run("fit", "--input", data, "--output", p("never2"), "--atoms", "8", "--k", "9");
    assertEquals(2, f.code());
    assertTrue(f.err().contains("k = 9 exceeds the number of atoms m = 8"), f.err());
  }

  @Test
  void missingColumnIsNamed() {
    Cli.Run f = run("fit", "--input", data, "--output", p("never3"), "--column", "vec");
    assertEquals(2, f.code());
    assertTrue(f.err().contains("no column 'vec'") && f.err().contains("embedding"), f.err());
  }

  @Test
  void nanRowIsNamedAndNothingIsWritten() {
    String bad = p("bad");
    StructType schema = new StructType().add("embedding", DataTypes.createArrayType(DataTypes.FloatType));
    List<Row> rows = new ArrayList<>();
    for (int r = 0; r < 40; r++) {
      float[] v = new float[8];
      for (int i = 0; i < 8; i++) {
        v[i] = (float) Math.sin(r * 8 + i);
      }
      if (r == 17) {
        v[3] = Float.NaN;
      }
      rows.add(RowFactory.create((Object) v));
    }
    spark.createDataFrame(rows, schema).coalesce(1).write().parquet(bad);
    String out = p("never4");
    Cli.Run f = run("fit", "--input", bad, "--output", out, "--atoms", "4", "--k", "2", "--iterations", "2",
        "--set", "dbksvd.fit.init=uniform");
    assertEquals(2, f.code(), f.err());
    String line = f.err().lines().filter(l -> l.startsWith("dbksvd: error:")).findFirst().orElse("");
    assertTrue(line.contains("row 17") && line.contains("'embedding'") && line.contains("NaN")
        && line.contains("position 3"), f.err());
    assertFalse(new File(out).exists());
  }

  /** --encoder / --rtol score the dictionary of an mp model with every encoder; the report names the one used. */
  @Test
  void evaluateAndEncodeTakeAnotherEncoder() throws Exception {
    String modelJson = Files.readString(Path.of(model, "model.json"));
    double[] fve = new double[3];
    String[] names = {"mp", "mp-refit", "omp"};
    for (int e = 0; e < names.length; e++) {
      String json = p("eval-" + names[e] + ".json");
      Cli.Run r = e == 0 ? run("evaluate", "--model", model, "--input", data, "--json", json)
          : run("evaluate", "--model", model, "--input", data, "--json", json, "--encoder", names[e]);
      assertEquals(0, r.code(), r.err());
      JsonNode o = new ObjectMapper().readTree(new File(json));
      assertEquals(names[e], o.get("encoder").asText(), o.toString());
      assertEquals(0.0, o.get("rtol").asDouble());
      assertTrue(o.get("mean_l0").asDouble() <= 3, o.toString());
      fve[e] = o.get("fve").asDouble();
    }
    System.out.printf("evaluate of an mp model (d=32, m=48, k=3, 3000 planted rows) by encoder: FVE mp %.4f, "
        + "mp-refit %.4f, omp %.4f%n", fve[0], fve[1], fve[2]);
    assertTrue(fve[1] >= fve[0] - 1e-3 && fve[2] >= fve[0] - 1e-3, Arrays.toString(fve));
    String json = p("eval-rtol.json");
    Cli.Run r = run("evaluate", "--model", model, "--input", data, "--json", json, "--rtol", "0.5");
    assertEquals(0, r.code(), r.err());
    JsonNode o = new ObjectMapper().readTree(new File(json));
    assertEquals("mp", o.get("encoder").asText());
    assertEquals(0.5, o.get("rtol").asDouble());
    assertTrue(o.get("mean_l0").asDouble() < 3, o.toString());

    String codes = p("codes-refit");
    Cli.Run c = run("encode", "--model", model, "--input", data, "--output", codes, "--encoder", "mp-refit");
    assertEquals(0, c.code(), c.err());
    assertTrue(c.out().contains("encoder mp-refit, k 3, rtol 0.0"), c.out());
    for (Row row : spark.read().parquet(codes).limit(50).collectAsList()) {
      SparseVector v = (SparseVector) row.getAs("codes");
      assertTrue(v.numNonzeros() >= 1 && v.numNonzeros() <= 3, v.toString());
    }
    assertEquals(modelJson, Files.readString(Path.of(model, "model.json")), "the model is not changed");

    Cli.Run bad = run("evaluate", "--model", model, "--input", data, "--encoder", "lasso");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("mp, mp-refit, omp") && bad.err().contains("'lasso'"), bad.err());
    Cli.Run badRtol = run("evaluate", "--model", model, "--input", data, "--rtol", "1.5");
    assertEquals(2, badRtol.code());
    assertTrue(badRtol.err().contains("rtol must be in [0, 1)"), badRtol.err());
  }
}
