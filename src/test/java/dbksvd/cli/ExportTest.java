package dbksvd.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dbksvd.encode.AtomGroups;
import dbksvd.io.ModelDir;
import dbksvd.io.Npy;
import dbksvd.loop.FitParams;
import dbksvd.spark.SparkGenerate;
import dbksvd.spark.TestSpark;
import dbksvd.synth.PlantedData;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** {@code dbksvd export}: each format read back by an independent reader and compared with the model. */
class ExportTest {
  static final int D = 16, M = 24, K = 4;
  @TempDir static Path tmp;
  static SparkSession spark;
  static String data;
  static String model;
  static PlantedData planted;
  static final ObjectMapper JSON = new ObjectMapper();

  static Cli.Run run(String... args) {
    return Cli.run(args);
  }

  /** A Matryoshka model (L = 2: groups of 4, 4, 8, 8 atoms, one non-zero each) holding a planted dictionary. */
  @BeforeAll
  static void modelAndData() throws Exception {
    spark = TestSpark.session();
    planted = new PlantedData(D, M, K, 30, 5);
    data = tmp.resolve("data").toString();
    SparkGenerate.write(spark, data, D, M, K, 600, 30, 5, 2, false);
    model = tmp.resolve("model").toString();
    FitParams p = FitParams.builder(M, K).matryoshka(FitParams.Matryoshka.of(2)).build();
    ModelDir.write(new Configuration(), model, new ModelDir.Model(planted.D, D, M, p, ModelDir.newInfo()),
        List.of(), false);
  }

  static Path out(String name) throws Exception {
    return Files.createTempDirectory(tmp, "out-").resolve(name);
  }

  static void assertCfg(Path cfgFile) throws Exception {
    JsonNode cfg = JSON.readTree(cfgFile.toFile());
    assertEquals(D, cfg.get("d_in").asInt());
    assertEquals(M, cfg.get("d_sae").asInt());
    assertEquals(K, cfg.get("k").asInt());
    assertEquals("mp-refit", cfg.get("encoder").asText()); // the default
    assertEquals("[4,4,8,8]", cfg.get("matryoshka_group_sizes").toString());
    assertEquals("[1,1,1,1]", cfg.get("matryoshka_group_k").toString());
  }

  @Test
  void npyIsTheDictionary() throws Exception {
    Path o = out("npy");
    Cli.Run r = run("export", "--model", model, "--format", "npy", "--output", o.toString());
    assertEquals(0, r.code(), r.err());
    Npy.Matrix mat;
    try (InputStream in = Files.newInputStream(o.resolve("dictionary.npy"))) {
      mat = Npy.read(in, "dictionary.npy");
    }
    assertEquals(M, mat.rows());
    assertEquals(D, mat.cols());
    assertArrayEquals(planted.D, mat.data());
    assertCfg(o.resolve("cfg.json"));
  }

  /** An independent safetensors reader: header length, JSON header, raw little-endian data. */
  @Test
  void safetensorsHoldsWdecAsMByD() throws Exception {
    Path o = out("sae");
    Cli.Run r = run("export", "--model", model, "--format", "safetensors", "--output", o.toString());
    assertEquals(0, r.code(), r.err());
    byte[] file = Files.readAllBytes(o.resolve("sae_weights.safetensors"));
    long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, n % 8, "header padded to 8 bytes");
    JsonNode header = JSON.readTree(new String(file, 8, (int) n, StandardCharsets.UTF_8));
    JsonNode w = header.get("W_dec");
    assertEquals("F32", w.get("dtype").asText());
    assertEquals("[" + M + "," + D + "]", w.get("shape").toString());
    assertEquals("[0," + 4 * M * D + "]", w.get("data_offsets").toString());
    assertEquals(8 + n + 4L * M * D, file.length);
    assertEquals(String.valueOf(K), header.at("/__metadata__/k").asText());
    assertEquals(2, header.size(), "W_dec and __metadata__ only");
    ByteBuffer body = ByteBuffer.wrap(file, (int) (8 + n), 4 * M * D).order(ByteOrder.LITTLE_ENDIAN);
    for (int j = 0; j < M; j++) {
      for (int i = 0; i < D; i++) {
        assertEquals(planted.D[j * D + i], body.getFloat(), "W_dec[" + j + ", " + i + "]");
      }
    }
    assertCfg(o.resolve("cfg.json"));
    numpyReadsSafetensors(o.resolve("sae_weights.safetensors"));
  }

  /** numpy reads the file too, by the format's definition (without the safetensors library). */
  static void numpyReadsSafetensors(Path file) throws Exception {
    String out = Python3.run("-c", "import json,struct,sys,numpy as np\n"
        + "b=open(sys.argv[1],'rb').read(); n=struct.unpack('<Q',b[:8])[0]; h=json.loads(b[8:8+n])\n"
        + "t=h['W_dec']; s,e=t['data_offsets']; W=np.frombuffer(b[8+n+s:8+n+e],'<f4').reshape(t['shape'])\n"
        + "print(W.shape, round(float(np.linalg.norm(W,axis=1).min()),4), round(float(W.sum()),3))",
        file.toString());
    double sum = 0;
    for (float v : planted.D) {
      sum += v;
    }
    assertEquals("(" + M + ", " + D + ") 1.0 " + Math.round(sum * 1000) / 1000.0, out.trim());
  }

  @Test
  void parquetHasOneRowPerAtomWithUsageAndGroup() throws Exception {
    Path o = out("atoms");
    Cli.Run r = run("export", "--model", model, "--format", "parquet", "--output", o.toString(), "--input", data);
    assertEquals(0, r.code(), r.err());
    List<Row> rows = spark.read().parquet(o.toString()).orderBy("atom").collectAsList();
    assertEquals(M, rows.size());
    // usage counted independently from what encode writes: rows whose sparse code has the atom
    Path codes = out("codes");
    assertEquals(0, run("encode", "--model", model, "--input", data, "--output", codes.toString()).code());
    long[] want = new long[M];
    for (Row c : spark.read().parquet(codes.toString()).select("codes").collectAsList()) {
      for (int j : ((SparseVector) c.get(0)).indices()) {
        want[j]++;
      }
    }
    AtomGroups groups = FitParams.builder(M, K).matryoshka(FitParams.Matryoshka.of(2)).build().groups();
    long total = 0;
    for (int j = 0; j < M; j++) {
      Row row = rows.get(j);
      assertEquals(j, row.getInt(row.fieldIndex("atom")));
      List<Float> v = row.getList(row.fieldIndex("vector"));
      for (int i = 0; i < D; i++) {
        assertEquals(planted.D[j * D + i], v.get(i));
      }
      assertEquals(want[j], row.getLong(row.fieldIndex("usage")), "usage of atom " + j);
      assertEquals(groups.groupOf(j), row.getInt(row.fieldIndex("group")));
      total += want[j];
    }
    assertTrue(total >= 600, "every row uses an atom");
    assertEquals(3, rows.get(M - 1).getInt(rows.get(M - 1).fieldIndex("group")));

    // without --input the usage is unknown: null
    Path o2 = out("atoms");
    assertEquals(0, run("export", "--model", model, "--format", "parquet", "--output", o2.toString()).code());
    assertEquals(M, spark.read().parquet(o2.toString()).where("usage is null").count());
  }

  static void assertOneLine(Cli.Run r, String line) {
    assertEquals(2, r.code(), r.err());
    List<String> errors = r.err().lines().filter(l -> l.startsWith("dbksvd: error:")).toList();
    assertEquals(List.of("dbksvd: error: " + line), errors, r.err());
    assertFalse(r.err().contains("\tat "), "no stack trace");
  }

  static void assertNothingBeside(Path o) throws Exception {
    try (var s = Files.list(o.getParent())) {
      assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(o.getFileName()
          .toString())).toList(), "nothing but the output in " + o.getParent());
    }
  }

  @Test
  void badInputEndsInOneLineAndWritesNothing() throws Exception {
    Path o = out("x");
    String missing = tmp.resolve("no-model").toString();
    assertOneLine(run("export", "--model", missing, "--format", "npy", "--output", o.toString()),
        "model directory " + missing + " does not exist");
    assertFalse(Files.exists(o));
    assertOneLine(run("export", "--model", model, "--format", "onnx", "--output", o.toString()),
        "unknown export format 'onnx'; expected npy, safetensors, parquet or saelens");
    assertOneLine(run("export", "--model", model, "--format", "npy", "--output", o.toString(), "--input", data),
        "--input (atom usage) applies to --format parquet only");
    assertFalse(Files.exists(o));
    assertNothingBeside(o);

    // an existing output stays as it was without --overwrite, and is replaced with it
    Files.createDirectories(o);
    Files.writeString(o.resolve("keep.txt"), "mine");
    for (String format : new String[] {"npy", "safetensors", "parquet"}) {
      assertOneLine(run("export", "--model", model, "--format", format, "--output", o.toString()),
          "output " + o + " already exists; pass --overwrite to replace it");
      assertEquals("mine", Files.readString(o.resolve("keep.txt")));
    }
    assertEquals(0, run("export", "--model", model, "--format", "npy", "--output", o.toString(), "--overwrite")
        .code());
    assertFalse(Files.exists(o.resolve("keep.txt")));
    assertTrue(Files.exists(o.resolve("dictionary.npy")));
    assertNothingBeside(o);

    // a model that is not one
    Path bad = Files.createDirectories(tmp.resolve("bad-model"));
    Files.writeString(bad.resolve("model.json"), "{\"format\": \"sklearn\", \"version\": 1}");
    Files.write(bad.resolve("dictionary.npy"), new byte[0]);
    Path o3 = out("y");
    assertOneLine(run("export", "--model", bad.toString(), "--format", "safetensors", "--output", o3.toString()),
        bad + "/model.json is not a dbksvd-model version 1 model (format \"sklearn\", version 1)");
    assertNothingBeside(o3);
    assertFalse(Files.exists(o3));
  }
}
