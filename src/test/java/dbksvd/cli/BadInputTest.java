package dbksvd.cli;

import static dbksvd.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dbksvd.io.ModelDir;
import dbksvd.linalg.Blas;
import dbksvd.spark.BadInputException;
import dbksvd.spark.TestSpark;
import org.apache.hadoop.conf.Configuration;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.spark.SparkException;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntFunction;
import java.util.stream.Stream;

/**
 * Every kind of bad input, as a user meets it through the command line: exit 2, one line {@code dbksvd: error: ...}
 * that names the problem, no stack trace, nothing at the output path.
 */
class BadInputTest {
  static final int D = 8;
  static final String ERROR = "dbksvd: error:";

  @TempDir static Path tmp;
  static SparkSession spark;
  /** Good data (200 rows of dimension 8 in two files) and a model fitted on it, shared by all tests. */
  static String data;
  static String model;
  static final ObjectMapper JSON = new ObjectMapper();

  /** A fresh output path in its own folder, so that leftovers beside it can be checked. */
  static Path out(String name) throws IOException {
    Path dir = Files.createTempDirectory(tmp, "out-");
    return dir.resolve(name);
  }

  @BeforeAll
  static void goodDataAndModel() {
    spark = TestSpark.session();
    data = tmp.resolve("good").toString();
    model = tmp.resolve("model").toString();
    Cli.Run g = run("generate", "--output", data, "--dim", "" + D, "--atoms", "12", "--k", "2", "--samples", "200",
        "--partitions", "2", "--seed", "3");
    assertEquals(0, g.code(), g.err());
    Cli.Run f = run("fit", "--input", data, "--output", model, "--atoms", "12", "--k", "2", "--batch-size", "100",
        "--iterations", "2");
    assertEquals(0, f.code(), f.err());
  }

  @AfterAll
  static void quietAgain() {
    spark.sparkContext().setLogLevel("WARN");
  }

  // ---- assertions ----

  /** Exit 2, exactly one error line holding every fragment, no stack trace after it; returns the line. */
  static String assertBadInput(Cli.Run r, String... fragments) {
    assertEquals(2, r.code(), "exit code; stderr:\n" + r.err());
    List<String> lines = r.err().lines().toList();
    List<Integer> at = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith(ERROR)) {
        at.add(i);
      }
    }
    assertEquals(1, at.size(), "one error line; stderr:\n" + r.err());
    for (String l : lines.subList(at.get(0), lines.size())) {
      assertFalse(l.startsWith("\tat "), "stack trace after the error line:\n" + r.err());
    }
    String line = lines.get(at.get(0));
    System.out.println("exit 2: " + line);
    for (String f : fragments) {
      assertTrue(line.contains(f), "'" + f + "' not in: " + line);
    }
    return line;
  }

  /** Neither the output nor a hidden temporary sibling (.NAME.tmp-*, .NAME.old-*) exists. */
  static void assertNothingAt(Path output) throws IOException {
    assertFalse(Files.exists(output), output + " exists");
    try (Stream<Path> siblings = Files.list(output.getParent())) {
      List<String> left = siblings.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("." + output.getFileName() + ".")).toList();
      assertEquals(List.of(), left, "temporary left beside " + output);
    }
  }

  // ---- bad datasets ----

  static final DataType FLOATS = DataTypes.createArrayType(DataTypes.FloatType);

  /** Rows of dimension D with non-zero values, row r from {@code row}, written as one Parquet file. */
  static String dataset(String name, DataType type, int rows, IntFunction<Object> row) {
    String dir = tmp.resolve(name).toString();
    List<Row> list = new ArrayList<>();
    for (int r = 0; r < rows; r++) {
      list.add(RowFactory.create(row.apply(r)));
    }
    spark.createDataFrame(list, new StructType().add("embedding", type)).coalesce(1).write().parquet(dir);
    return dir;
  }

  static float[] good(int r) {
    float[] v = new float[D];
    for (int i = 0; i < D; i++) {
      v[i] = (float) Math.sin(r * D + i + 1);
    }
    return v;
  }

  /** A float dataset of 40 good rows, except row {@code bad} which {@code change} alters. */
  static String floats(String name, int bad, java.util.function.Function<float[], Object> change) {
    return dataset(name, FLOATS, 40, r -> r == bad ? change.apply(good(r)) : good(r));
  }

  /** A small fit; flags in {@code more} replace the defaults here. */
  static String[] fit(String input, Path output, String... more) {
    List<String> a = new ArrayList<>(List.of("fit", "--input", input, "--output", output.toString()));
    String[] defaults = {"--atoms", "6", "--k", "2", "--iterations", "1", "--batch-size", "40"};
    for (int i = 0; i < defaults.length; i += 2) {
      if (!Arrays.asList(more).contains(defaults[i])) {
        a.add(defaults[i]);
        a.add(defaults[i + 1]);
      }
    }
    a.addAll(Arrays.asList(more));
    return a.toArray(String[]::new);
  }

  /** The one Parquet file of a dataset written by {@link #dataset}. */
  static Path parquetFile(String dir) throws IOException {
    try (Stream<Path> files = Files.list(Path.of(dir))) {
      return files.filter(p -> p.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
    }
  }

  // ---- values ----

  @Test
  void nanIsNamedWithFileRowColumnPositionAndValue() throws Exception {
    String bad = floats("nan", 17, v -> {
      v[3] = Float.NaN;
      return v;
    });
    Path o = out("model");
    String line = assertBadInput(run(fit(bad, o)), "row 17", "column 'embedding'", "NaN", "position 3",
        parquetFile(bad).getFileName().toString());
    assertTrue(line.startsWith(ERROR + " file "), line);
    assertNothingAt(o);
  }

  @Test
  void infinitiesAreNamed() throws Exception {
    String pos = floats("posinf", 5, v -> {
      v[0] = Float.POSITIVE_INFINITY;
      return v;
    });
    String neg = dataset("neginf", DataTypes.createArrayType(DataTypes.DoubleType), 40, r -> {
      double[] v = new double[D];
      for (int i = 0; i < D; i++) {
        v[i] = good(r)[i];
      }
      if (r == 9) {
        v[7] = Double.NEGATIVE_INFINITY;
      }
      return v;
    });
    Path o = out("model");
    assertBadInput(run(fit(pos, o)), "row 5", "'embedding'", "has Infinity at position 0");
    assertNothingAt(o);
    assertBadInput(run(fit(neg, o)), "row 9", "'embedding'", "has -Infinity at position 7");
    assertNothingAt(o);
  }

  @Test
  void nanIsNamedByEncodeAndEvaluateToo() throws Exception {
    String bad = floats("nan8", 23, v -> {
      v[6] = Float.NaN;
      return v;
    });
    Path codes = out("codes");
    assertBadInput(run("encode", "--model", model, "--input", bad, "--output", codes.toString()), "row 23",
        "'embedding'", "NaN", "position 6");
    assertNothingAt(codes);
    Path json = out("eval.json");
    assertBadInput(run("evaluate", "--model", model, "--input", bad, "--json", json.toString()), "row 23", "NaN",
        "position 6");
    assertNothingAt(json);
  }

  @Test
  void nullEmbeddingIsNamed() throws Exception {
    String bad = floats("nullrow", 4, v -> null);
    Path o = out("model");
    assertBadInput(run(fit(bad, o)), "row 4", "column 'embedding' is null");
    assertNothingAt(o);
    String allNull = dataset("allnull", FLOATS, 5, r -> null);
    assertBadInput(run(fit(allNull, o)), "input " + allNull + ": column 'embedding' is null in every row");
    assertNothingAt(o);
  }

  @Test
  void nullElementIsNamed() throws Exception {
    String bad = dataset("nullelem", FLOATS, 40, r -> {
      Float[] v = new Float[D];
      for (int i = 0; i < D; i++) {
        v[i] = good(r)[i];
      }
      if (r == 6) {
        v[2] = null;
      }
      return v;
    });
    Path o = out("model");
    assertBadInput(run(fit(bad, o)), "row 6", "'embedding'", "null at position 2");
    assertNothingAt(o);
  }

  @Test
  void wrongLengthNamesTheRowItsLengthAndTheExpectedOne() throws Exception {
    String bad = floats("short", 9, v -> Arrays.copyOf(v, D - 1));
    Path o = out("model");
    assertBadInput(run(fit(bad, o)), "row 9", "'embedding'", "has length 7", "expected 8", "row 0)");
    assertNothingAt(o);
  }

  @Test
  void emptyDatasetIsRefused() throws Exception {
    String empty = dataset("empty", FLOATS, 0, r -> null);
    Path o = out("model");
    assertBadInput(run(fit(empty, o)), "input " + empty, "has no rows");
    assertNothingAt(o);
    assertBadInput(run("evaluate", "--model", model, "--input", empty), "has no rows");
  }

  // ---- all-zero rows ----

  @Test
  void zeroRowIsRefusedByDefault() throws Exception {
    String zero = floats("zero1", 3, v -> new float[D]);
    Path o = out("model");
    assertBadInput(run(fit(zero, o)), "row 3", "'embedding' is all zeros", "dbksvd.input.zero-rows=skip");
    assertNothingAt(o);
    Path codes = out("codes");
    assertBadInput(run("encode", "--model", model, "--input", zero, "--output", codes.toString()), "row 3",
        "all zeros");
    assertNothingAt(codes);
    assertBadInput(run("evaluate", "--model", model, "--input", zero), "row 3", "all zeros");
  }

  @Test
  void zeroRowsAreSkippedFromBatchesAndInitWhenAsked() throws Exception {
    // half the rows are zero; m = 20 needs all 20 others for init = samples
    String zero = dataset("zerohalf", FLOATS, 40, r -> r % 2 == 1 ? new float[D] : good(r));
    String skip = "dbksvd.input.zero-rows=skip";
    Path o = out("model");
    Cli.Run f = run("fit", "--input", zero, "--output", o.toString(), "--atoms", "20", "--k", "2", "--iterations", "0",
        "--set", skip);
    assertEquals(0, f.code(), f.err());
    ModelDir.Model m = ModelDir.read(new Configuration(), o.toString());
    for (int j = 0; j < 20; j++) { // every atom a normalised non-zero sample
      assertEquals(1.0, Math.sqrt(Blas.sqNorm(D, m.D(), j * D)), 1e-5, "atom " + j);
    }
    assertEquals(20, JSON.readTree(o.resolve("model.json").toFile()).get("rows").asLong());
    Path o2 = out("model");
    f = run("fit", "--input", zero, "--output", o2.toString(), "--atoms", "6", "--k", "2", "--iterations", "2",
        "--batch-size", "20", "--set", skip);
    assertEquals(0, f.code(), f.err());
    for (String line : Files.readAllLines(o2.resolve("metrics.jsonl"))) {
      assertEquals(20, JSON.readTree(line).get("samples").asLong(), line);
    }
    Path json = out("eval.json");
    Cli.Run e = run("evaluate", "--model", model, "--input", zero, "--json", json.toString(), "--set", skip);
    assertEquals(0, e.code(), e.err());
    assertEquals(20, JSON.readTree(json.toFile()).get("rows").asLong());
    Path codes = out("codes");
    Cli.Run c = run("encode", "--model", model, "--input", zero, "--output", codes.toString(), "--set", skip);
    assertEquals(0, c.code(), c.err());
    List<Row> rows = spark.read().parquet(codes.toString()).collectAsList();
    assertEquals(40, rows.size()); // every row keeps its place; a zero row gets the empty code
    for (Row r : rows) {
      float[] y = toFloats(r.getList(0));
      boolean zeroRow = Blas.sqNorm(D, y, 0) == 0;
      assertEquals(zeroRow, ((SparseVector) r.getAs("codes")).numNonzeros() == 0, r.toString());
    }
    assertBadInput(run(fit(zero, out("model"), "--set", "dbksvd.input.zero-rows=drop")),
        "dbksvd.input.zero-rows must be refuse or skip", "'drop'");
  }

  static float[] toFloats(List<Object> l) {
    float[] y = new float[l.size()];
    for (int i = 0; i < y.length; i++) {
      y[i] = ((Number) l.get(i)).floatValue();
    }
    return y;
  }

  @Test
  void allRowsZeroIsRefusedEvenWhenSkipping() throws Exception {
    String zero = dataset("zeroall", FLOATS, 10, r -> new float[D]);
    Path o = out("model");
    assertBadInput(run(fit(zero, o, "--set", "dbksvd.input.zero-rows=skip")), "input " + zero, "all 10 rows",
        "all-zero");
    assertNothingAt(o);
  }

  // ---- columns ----

  @Test
  void wrongColumnTypesAreNamed() throws Exception {
    String str = dataset("strings", DataTypes.StringType, 10, r -> "0.1,0.2");
    String ints = dataset("ints", DataTypes.createArrayType(DataTypes.IntegerType), 10, r -> new int[] {1, 2, 3});
    Path o = out("model");
    assertBadInput(run(fit(str, o)), "column 'embedding' has type string", "expected array<float>");
    assertBadInput(run(fit(ints, o)), "column 'embedding' has type array<int>");
    Path codes = out("codes");
    assertBadInput(run("encode", "--model", model, "--input", ints, "--output", codes.toString()),
        "has type array<int>");
    assertNothingAt(o);
    assertNothingAt(codes);
  }

  @Test
  void missingColumnIsNamedWithTheColumnsThereAre() throws Exception {
    Path o = out("model");
    assertBadInput(run(fit(data, o, "--column", "vec")), "no column 'vec'", "[id, embedding]", "--column");
    assertNothingAt(o);
    assertBadInput(run("evaluate", "--model", model, "--input", data, "--column", "vec"), "no column 'vec'");
  }

  @Test
  void sparkMlVectorColumnsAreRead() throws Exception {
    // a dense vector leaves the size field of Spark's vector struct null: the length comes from its values
    String dense = dataset("dense", SQLDataTypes.VectorType(), 40, r -> Vectors.dense(toDoubles(good(r))));
    String sparse = dataset("sparse", SQLDataTypes.VectorType(), 40,
        r -> Vectors.dense(toDoubles(good(r))).toSparse());
    for (String in : new String[] {dense, sparse}) {
      Path o = out("model");
      Cli.Run f = run(fit(in, o));
      assertEquals(0, f.code(), f.err());
    }
    String shortVec = dataset("shortvec", SQLDataTypes.VectorType(), 40,
        r -> Vectors.dense(toDoubles(r == 11 ? Arrays.copyOf(good(r), 5) : good(r))));
    assertBadInput(run(fit(shortVec, out("model"))), "row 11", "has length 5", "expected 8");
  }

  @Test
  void float32BinaryColumnsAreReadLikeArraysAndCheckedAsStrictly() throws Exception {
    IntFunction<Object> bytes = r -> dbksvd.spark.EmbeddingColumn.bytesFromFloats(good(r), 0, D);
    String bin = dataset("binary", DataTypes.BinaryType, 40, bytes);
    String arr = floats("asarray", -1, v -> v);
    Path fromBin = out("model-bin");
    Path fromArr = out("model-arr");
    Cli.Run a = run(fit(bin, fromBin));
    assertEquals(0, a.code(), a.err());
    Cli.Run b = run(fit(arr, fromArr));
    assertEquals(0, b.code(), b.err());
    // the same floats, stored two ways: the same dictionary, bit for bit
    assertTrue(Arrays.equals(Files.readAllBytes(fromBin.resolve("dictionary.npy")),
        Files.readAllBytes(fromArr.resolve("dictionary.npy"))));

    Path o = out("model");
    String ragged = dataset("ragged", DataTypes.BinaryType, 40,
        r -> r == 13 ? Arrays.copyOf((byte[]) bytes.apply(r), 30) : bytes.apply(r));
    assertBadInput(run(fit(ragged, o)), "row 13", "'embedding'", "30 bytes", "float32");
    String shorter = dataset("binshort", DataTypes.BinaryType, 40,
        r -> dbksvd.spark.EmbeddingColumn.bytesFromFloats(good(r), 0, r == 9 ? D - 1 : D));
    assertBadInput(run(fit(shorter, o)), "row 9", "has length 7", "expected 8");
    String nan = dataset("binnan", DataTypes.BinaryType, 40, r -> {
      float[] v = good(r);
      if (r == 17) {
        v[3] = Float.NaN;
      }
      return dbksvd.spark.EmbeddingColumn.bytesFromFloats(v, 0, D);
    });
    assertBadInput(run(fit(nan, o)), "row 17", "NaN", "position 3");
    String zero = dataset("binzero", DataTypes.BinaryType, 40,
        r -> r == 21 ? new byte[4 * D] : bytes.apply(r));
    assertBadInput(run(fit(zero, o)), "row 21", "all zeros");
    assertNothingAt(o);
  }

  static double[] toDoubles(float[] v) {
    double[] x = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      x[i] = v[i];
    }
    return x;
  }

  // ---- files and paths ----

  @Test
  void corruptParquetFileIsNamed() throws Exception {
    // alone: Spark fails reading its footer for the schema; beside a good file: the scan fails on it
    Path alone = tmp.resolve("corrupt-alone");
    Files.createDirectories(alone);
    Files.write(alone.resolve("part-00000.parquet"), "this is not parquet at all\n".repeat(20).getBytes());
    Path beside = tmp.resolve("corrupt-beside");
    copyDir(Path.of(data), beside);
    Files.write(beside.resolve("part-99999-garbage.parquet"), "garbage bytes\n".repeat(50).getBytes());
    Path o = out("model");
    assertBadInput(run(fit(alone.toString(), o)), "part-00000.parquet");
    assertBadInput(run(fit(beside.toString(), o)), "part-99999-garbage.parquet");
    assertNothingAt(o);
    Path codes = out("codes");
    assertBadInput(run("encode", "--model", model, "--input", beside.toString(), "--output", codes.toString()),
        "part-99999-garbage.parquet");
    assertNothingAt(codes);
  }

  @Test
  void truncatedParquetFileIsNamed() throws Exception {
    Path cut = tmp.resolve("truncated");
    copyDir(Path.of(data), cut);
    Path victim;
    try (Stream<Path> files = Files.list(cut)) {
      victim = files.filter(p -> p.getFileName().toString().endsWith(".parquet")).sorted().reduce((a, b) -> b)
          .orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(victim);
    Files.write(victim, Arrays.copyOf(bytes, bytes.length / 2));
    Path o = out("model");
    assertBadInput(run(fit(cut.toString(), o)), victim.getFileName().toString());
    assertNothingAt(o);
  }

  @Test
  void missingOrUnreadableInputIsNamed() throws Exception {
    String missing = tmp.resolve("no-such-data").toString();
    Path o = out("model");
    assertBadInput(run(fit(missing, o)), "does not exist", "no-such-data");
    assertBadInput(run("evaluate", "--model", model, "--input", missing), "does not exist", "no-such-data");
    Path codes = out("codes");
    assertBadInput(run("encode", "--model", model, "--input", missing, "--output", codes.toString()),
        "does not exist", "no-such-data");
    Path emptyDir = Files.createDirectories(tmp.resolve("no-files"));
    assertBadInput(run(fit(emptyDir.toString(), o)), "input " + emptyDir, "holds no Parquet files");
    Path text = tmp.resolve("notes.txt");
    Files.writeString(text, "not a dataset\n");
    assertBadInput(run(fit(text.toString(), o)), "notes.txt", "not a Parquet file");
    assertNothingAt(o);
    assertNothingAt(codes);
  }

  @Test
  void unreadableInputIsNamed() throws Exception {
    Path o = out("model");
    Path locked = tmp.resolve("locked");
    copyDir(Path.of(data), locked);
    File lockedDir = locked.toFile();
    lockedDir.setReadable(false, false);
    lockedDir.setExecutable(false, false);
    try {
      Assumptions.assumeFalse(Files.isReadable(locked), "running as root: permissions are not enforced");
      assertBadInput(run(fit(locked.toString(), o)), "locked");
      assertNothingAt(o);
    } finally {
      lockedDir.setReadable(true, false);
      lockedDir.setExecutable(true, false);
    }
  }

  static void copyDir(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : files.sorted(Comparator.naturalOrder()).toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else if (!p.getFileName().toString().startsWith(".")) { // no .crc: the copies get edited
          Files.copy(p, target);
        }
      }
    }
  }

  // ---- parameters ----

  @Test
  void kAtLeastDIsRefused() throws Exception {
    Path o = out("model");
    assertBadInput(run("fit", "--input", data, "--output", o.toString(), "--atoms", "12", "--k", "8",
        "--iterations", "1"), "k = 8 must be below the dimension d = 8");
    assertBadInput(run("fit", "--input", data, "--output", o.toString(), "--atoms", "12", "--k", "10",
        "--iterations", "1"), "k = 10 must be below the dimension d = 8");
    assertNothingAt(o);
  }

  @Test
  void badCountsAreRefused() throws Exception {
    Path o = out("model");
    assertBadInput(run(fit(data, o, "--atoms", "4", "--k", "5")), "k = 5 exceeds the number of atoms m = 4");
    assertBadInput(run(fit(data, o, "--atoms", "0")), "atoms (m) must be at least 1, got 0");
    assertBadInput(run(fit(data, o, "--batch-size", "0")), "batch size must be at least 1, got 0");
    assertBadInput(run(fit(data, o, "--batch-size", "-3")), "batch size must be at least 1, got -3");
    assertBadInput(run(fit(data, o, "--atoms", "many")), "'many' is not an int", "dbksvd fit --help");
    assertBadInput(run("fit", "--input", data), "Missing required option", "--output");
    assertNothingAt(o);
  }

  @Test
  void batchLargerThanTheDatasetIsCappedWithAWarning() throws Exception {
    Path o = out("model");
    try (LogCapture log = LogCapture.attach()) {
      Cli.Run f = run(fit(data, o, "--batch-size", "500", "--iterations", "1"));
      assertEquals(0, f.code(), f.err());
      assertTrue(f.out().contains("n=200"), f.out());
      String warning = log.lines().stream().filter(l -> l.contains("batch size 500")).findFirst().orElse("");
      assertTrue(warning.startsWith("WARN") && warning.contains("exceeds the 200 rows")
          && warning.contains("all rows"), log.lines().toString());
    }
    JsonNode line = JSON.readTree(Files.readAllLines(o.resolve("metrics.jsonl")).get(0));
    assertEquals(200, line.get("samples").asLong());
  }

  // ---- outputs ----

  @Test
  void existingOutputsAreKeptWithoutOverwrite() throws Exception {
    Path existing = out("existing");
    Files.createDirectories(existing);
    Files.writeString(existing.resolve("keep.txt"), "mine");
    String e = existing.toString();
    assertBadInput(run(fit(data, existing)), "output " + e + " already exists", "--overwrite");
    assertBadInput(run("encode", "--model", model, "--input", data, "--output", e), "already exists");
    assertBadInput(run("generate", "--output", e, "--samples", "10"), "already exists");
    assertBadInput(run("generate", "--output", out("fresh").toString(), "--samples", "10", "--truth", e),
        "already exists");
    try (Stream<Path> left = Files.list(existing)) {
      assertEquals(List.of("keep.txt"), left.map(p -> p.getFileName().toString()).toList());
    }
    try (Stream<Path> siblings = Files.list(existing.getParent())) {
      assertEquals(1, siblings.count(), "nothing written beside the existing output");
    }
    // an evaluation report is a file of the user's choosing: replaced
    Path json = out("eval.json");
    Files.writeString(json, "old");
    Cli.Run ev = run("evaluate", "--model", model, "--input", data, "--json", json.toString());
    assertEquals(0, ev.code(), ev.err());
    assertEquals(200, JSON.readTree(json.toFile()).get("rows").asLong());
  }

  // ---- configuration ----

  /** A GEMM backend that cannot be had fails on the driver before any job, in one line. */
  @Test
  void gemmBackendCudaWithoutGpusOrAnUnknownBackendIsNamed() throws Exception {
    Path o = out("model");
    assertBadInput(run(fit(data, o, "--set", "dbksvd.gemm.backend=cuda")), "dbksvd.gemm.backend = cuda",
        "Spark gives the tasks no GPU", "spark.task.resource.gpu.amount unset");
    assertFalse(Files.exists(o), "nothing at the output path");
    assertBadInput(run(fit(data, o, "--set", "dbksvd.gemm.backend=tpu")), "must be auto, cpu or cuda, got 'tpu'");
    Cli.Run cpu = run(fit(data, o, "--set", "dbksvd.gemm.backend=cpu"));
    assertEquals(0, cpu.code(), cpu.err());
  }

  @Test
  void badConfigurationIsNamed() throws Exception {
    Path o = out("model");
    assertBadInput(run(fit(data, o, "--set", "dbksvd.fit.atomz=3")), "unknown config key 'dbksvd.fit.atomz'");
    assertBadInput(run(fit(data, o, "--set", "spark.executor.memory=8g")), "unknown config key",
        "start with 'dbksvd.'");
    assertBadInput(run(fit(data, o, "--set", "dbksvd.fit.atoms")), "--set expects key=value");
    assertBadInput(run(fit(data, o, "--set", "dbksvd.fit..atoms=3")), "--set dbksvd.fit..atoms");
    assertBadInput(run(fit(data, o, "--set", "dbksvd.fit.rtol=many")), "bad configuration", "rtol");
    Path conf = tmp.resolve("broken.conf");
    Files.writeString(conf, "dbksvd { fit { atoms = 12\n");
    assertBadInput(run(fit(data, o, "--conf", conf.toString())), "config file " + conf);
    Path typo = tmp.resolve("typo.conf");
    Files.writeString(typo, "dbksvd.fit.atomz = 12\n");
    assertBadInput(run(fit(data, o, "--conf", typo.toString())), "unknown config key 'dbksvd.fit.atomz'");
    assertBadInput(run(fit(data, o, "--conf", tmp.resolve("none.conf").toString())), "none.conf",
        "does not exist");
    assertNothingAt(o);
  }

  // ---- model directories ----

  static Stream<Arguments> brokenModels() {
    List<Arguments> cases = new ArrayList<>();
    for (String command : new String[] {"encode", "evaluate"}) {
      cases.add(Arguments.of(command, "missing", "does not exist"));
      cases.add(Arguments.of(command, "no-dictionary", "dictionary.npy is missing"));
      cases.add(Arguments.of(command, "no-model-json", "model.json is missing"));
      cases.add(Arguments.of(command, "not-json", "model.json is not valid JSON"));
      cases.add(Arguments.of(command, "empty-json", "model.json is empty"));
      cases.add(Arguments.of(command, "other-format", "is not a dbksvd-model version 1 model (format \"sklearn\""));
      cases.add(Arguments.of(command, "other-version", "is not a dbksvd-model version 1 model"));
      cases.add(Arguments.of(command, "truncated-npy", "dictionary.npy is truncated"));
      cases.add(Arguments.of(command, "wrong-shape", "has shape (12, 8) but model.json says m = 13"));
      cases.add(Arguments.of(command, "not-npy", "dictionary.npy is not a .npy file"));
    }
    return cases.stream();
  }

  /** A copy of the good model, broken as {@code how} says. */
  static Path brokenModel(String how) throws IOException {
    Path dir = Files.createTempDirectory(tmp, "broken-").resolve("model");
    if (how.equals("missing")) {
      return dir;
    }
    copyDir(Path.of(model), dir);
    Path json = dir.resolve("model.json");
    Path npy = dir.resolve("dictionary.npy");
    switch (how) {
      case "no-dictionary" -> Files.delete(npy);
      case "no-model-json" -> Files.delete(json);
      case "not-json" -> Files.writeString(json, "{\"format\": \"dbksvd-model\", \"version\": 1,");
      case "empty-json" -> Files.writeString(json, "");
      case "other-format", "other-version", "wrong-shape" -> {
        ObjectNode o = (ObjectNode) JSON.readTree(json.toFile());
        switch (how) {
          case "other-format" -> o.put("format", "sklearn");
          case "other-version" -> o.put("version", 2);
          default -> o.put("m", 13);
        }
        Files.writeString(json, o.toString());
      }
      case "truncated-npy" -> {
        byte[] b = Files.readAllBytes(npy);
        Files.write(npy, Arrays.copyOf(b, b.length / 2));
      }
      case "not-npy" -> Files.writeString(npy, "hello, this is not numpy at all");
      default -> throw new IllegalArgumentException(how);
    }
    return dir;
  }

  @ParameterizedTest(name = "{0} with a model that is {1}")
  @MethodSource("brokenModels")
  void brokenModelDirectoryIsNamed(String command, String how, String message) throws Exception {
    Path broken = brokenModel(how);
    Path o = out("out");
    Cli.Run r = command.equals("encode")
        ? run("encode", "--model", broken.toString(), "--input", data, "--output", o.toString())
        : run("evaluate", "--model", broken.toString(), "--input", data, "--json", o.toString());
    assertBadInput(r, broken.toString(), message);
    assertNothingAt(o);
  }

  @Test
  void modelOfAnotherDimensionIsRefused() throws Exception {
    String wide = dataset("wide", FLOATS, 20, r -> Arrays.copyOf(good(r), D + 2));
    assertBadInput(run("evaluate", "--model", model, "--input", wide),
        "the input's embeddings have length 10 but the model's atoms have 8");
    Path codes = out("codes");
    assertBadInput(run("encode", "--model", model, "--input", wide, "--output", codes.toString()),
        "has length 10, expected 8 (the model's dimension d)");
    assertNothingAt(codes);
  }

  // ---- the error handler ----

  @Test
  void sparkFailuresAreSortedIntoBadInputAndTheRest() {
    BadInputException bad = new BadInputException("file f.parquet row 3: column 'embedding' is null");
    assertEquals(bad.getMessage(), Errors.badInput(new SparkException("Job aborted due to stage failure", bad)));
    // on a cluster the task's exception may arrive only as text
    assertEquals(bad.getMessage(), Errors.badInput(new SparkException("Job aborted due to stage failure: Lost task 0.0"
        + " (TID 7): dbksvd.spark.BadInputException: " + bad.getMessage() + "\n\tat dbksvd.spark.X.y(X.java:1)")));
    assertEquals("file:/d/a.parquet is not a Parquet file. Expected magic number at tail, but found [1, 2, 3, 4]",
        Errors.badInput(new SparkException("Job aborted: Lost task 0.0: org.apache.spark.SparkException: "
            + "[FAILED_READ_FILE.NO_HINT] Encountered error while reading file file:/d/a.parquet. SQLSTATE: KD001\n"
            + "Caused by: java.lang.RuntimeException: file:/d/a.parquet is not a Parquet file. Expected magic "
            + "number at tail, but found [1, 2, 3, 4]\n\tat org.apache.parquet.X")));
    assertEquals("file:/d/gone.parquet (No such file or directory)", Errors.badInput(new SparkException("Job aborted",
        new RuntimeException("wrapped", new java.io.FileNotFoundException("file:/d/gone.parquet (No such file or "
            + "directory)")))));
    // a file Spark could not read for another reason: which file, and the reason at the bottom of the chain
    assertEquals("Encountered error while reading file file:/d/b.parquet. (FAILED_TO_UNCOMPRESS(5))",
        Errors.badInput(new SparkException("Job aborted: Lost task 1.0", new SparkException("[FAILED_READ_FILE.NO_HINT] "
            + "Encountered error while reading file file:/d/b.parquet. SQLSTATE: KD001",
            new IOException("wrapped", new IOException("FAILED_TO_UNCOMPRESS(5)"))))));
    assertEquals("Encountered error while reading file file:/d/c.parquet.", Errors.badInput(new SparkException(
        "Job aborted due to stage failure: Lost task 0.0 (TID 3): org.apache.spark.SparkException: "
            + "[FAILED_READ_FILE.NO_HINT] Encountered error while reading file file:/d/c.parquet. SQLSTATE: KD001")));
    // a page that does not decode
    assertEquals("Can not read value at 0 in block -1 in file file:/d/e.parquet", Errors.badInput(new SparkException(
        "Job aborted", new org.apache.parquet.io.ParquetDecodingException("Can not read value at 0 in block -1 in "
            + "file file:/d/e.parquet"))));
    // anything else is not the user's fault: exit 1 with the stack trace
    assertNull(Errors.badInput(new SparkException("Job aborted", new ArithmeticException("/ by zero"))));
    assertNull(Errors.badInput(new NullPointerException()));
    assertNull(Errors.badInput(new SparkException("Job aborted", new IllegalStateException("task lost"))));
  }

  // ---- secrets ----

  @Test
  void credentialsNeverReachOutputsLogsOrMessages() throws Exception {
    String secret = "SECRETVALUE123";
    String access = "ACCESSKEYID987";
    String[] sets = {"--set", "dbksvd.spark.conf.\"spark.hadoop.fs.s3a.secret.key\"=" + secret,
        "--set", "dbksvd.spark.conf.\"spark.hadoop.fs.s3a.access.key\"=" + access,
        "--set", "dbksvd.spark.log-level=INFO"};
    Path o = out("model");
    Path json = out("eval.json");
    List<String> seen = new ArrayList<>();
    try (LogCapture log = LogCapture.attach()) {
      List<Cli.Run> runs = new ArrayList<>();
      runs.add(run(concat(fit(data, o), sets)));
      runs.add(run(concat(new String[] {"evaluate", "--model", o.toString(), "--input", data, "--json",
          json.toString()}, sets)));
      runs.add(run(concat(fit(tmp.resolve("no-such-data").toString(), out("model")), sets))); // an error, too
      runs.add(run("fit", "--input", data, "--output", out("model").toString(), "--set",
          "dbksvd.spark.conf.\"spark.hadoop.fs.s3a.secret.key\"=\"" + secret)); // a malformed --set
      assertEquals(0, runs.get(0).code(), runs.get(0).err());
      assertEquals(0, runs.get(1).code(), runs.get(1).err());
      assertEquals(2, runs.get(2).code(), runs.get(2).err());
      assertEquals(2, runs.get(3).code(), runs.get(3).err());
      for (Cli.Run r : runs) {
        seen.add(r.out());
        seen.add(r.err());
      }
      assertFalse(log.lines().isEmpty(), "the log capture saw nothing");
      seen.addAll(log.lines());
    } finally {
      spark.sparkContext().setLogLevel("WARN");
    }
    for (Path dir : new Path[] {o, json}) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          seen.add(f + ": " + new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
        }
      }
    }
    for (String s : seen) {
      assertFalse(s.contains(secret), "secret key leaked: " + s);
      assertFalse(s.contains(access), "access key leaked: " + s);
    }
  }

  static String[] concat(String[] a, String[] b) {
    String[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  /** Every log4j event while attached (message and stack trace), whatever the console appender shows. */
  static final class LogCapture extends AbstractAppender implements AutoCloseable {
    private final List<String> lines = Collections.synchronizedList(new ArrayList<>());

    private LogCapture() {
      super("dbksvd-test-capture", null, PatternLayout.createDefaultLayout(), true, Property.EMPTY_ARRAY);
    }

    static LogCapture attach() {
      LogCapture c = new LogCapture();
      c.start();
      LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
      ctx.getConfiguration().addAppender(c);
      ctx.getConfiguration().getRootLogger().addAppender(c, null, null);
      ctx.updateLoggers();
      return c;
    }

    @Override
    public void append(LogEvent e) {
      StringBuilder s = new StringBuilder(e.getLevel() + " " + e.getLoggerName() + ": "
          + e.getMessage().getFormattedMessage());
      if (e.getThrown() != null) {
        StringWriter w = new StringWriter();
        e.getThrown().printStackTrace(new PrintWriter(w));
        s.append('\n').append(w);
      }
      lines.add(s.toString());
    }

    List<String> lines() {
      synchronized (lines) {
        return new ArrayList<>(lines);
      }
    }

    @Override
    public void close() {
      LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
      ctx.getConfiguration().getRootLogger().removeAppender(getName());
      ctx.updateLoggers();
      stop();
    }
  }
}
