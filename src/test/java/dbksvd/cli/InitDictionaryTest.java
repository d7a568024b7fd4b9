package dbksvd.cli;

import static dbksvd.cli.Cli.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dbksvd.io.ModelDir;
import dbksvd.io.Npy;
import dbksvd.spark.TestSpark;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** {@code fit --init-dictionary}: a model directory, an .npy, a safetensors W_dec; fewer rows than m; bad shapes. */
class InitDictionaryTest {
  static final int D = 16, M = 24;
  @TempDir static Path tmp;
  static String data;
  static String truth;
  static final Configuration HC = new Configuration();

  @BeforeAll
  static void data() {
    TestSpark.session();
    data = tmp.resolve("data").toString();
    truth = tmp.resolve("truth").toString();
    Cli.Run g = run("generate", "--output", data, "--dim", "" + D, "--atoms", "" + M, "--k", "2", "--samples",
        "600", "--seed", "8", "--truth", truth);
    assertEquals(0, g.code(), g.err());
  }

  static String[] fit(String out, String... more) {
    String[] base = {"fit", "--input", data, "--output", out, "--atoms", "" + M, "--k", "2", "--batch-size", "300",
        "--seed", "4"};
    String[] all = Arrays.copyOf(base, base.length + more.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  static float[] dictionary(String model) throws IOException {
    return ModelDir.read(HC, model).D();
  }

  /** Rows (r, D) as a row-major float array: atom j of a model is D[j*D .. j*D+D). */
  static float[] scaled(float[] rows, float by) {
    float[] out = rows.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] *= by;
    }
    return out;
  }

  static void assertClose(float[] want, float[] got, int from, int to, String what) {
    for (int i = from; i < to; i++) {
      assertEquals(want[i - from], got[i], 1e-6, what + " at " + i);
    }
  }

  @Test
  void aModelDirectoryGivesEveryAtom() throws Exception {
    String out = tmp.resolve("from-model").toString();
    Cli.Run f = run(fit(out, "--iterations", "0", "--init-dictionary", truth));
    assertEquals(0, f.code(), f.err());
    assertTrue(f.out().contains("starting from 24 atoms of " + truth + " (model)"), f.out());
    assertClose(dictionary(truth), dictionary(out), 0, M * D, "atom");
    JsonNode json = new ObjectMapper().readTree(new File(out, "model.json"));
    assertEquals(truth, json.at("/params/init_dictionary").asText());
    assertEquals("model", json.at("/init_dictionary/format").asText());
    assertEquals(24, json.at("/init_dictionary/atoms").asInt());
    assertEquals(64, json.at("/init_dictionary/sha256").asText().length());
  }

  @Test
  void anNpyOfFewerRowsThenInitDrawsTheRest() throws Exception {
    float[] planted = dictionary(truth);
    Path npy = tmp.resolve("ten.npy");
    try (OutputStream o = Files.newOutputStream(npy)) {
      Npy.write(o, 10, D, scaled(Arrays.copyOf(planted, 10 * D), 3)); // not unit norm: normalised on the way in
    }
    String out = tmp.resolve("from-npy").toString();
    Cli.Run f = run(fit(out, "--iterations", "0", "--init-dictionary", npy.toString()));
    assertEquals(0, f.code(), f.err());
    float[] got = dictionary(out);
    assertClose(Arrays.copyOf(planted, 10 * D), got, 0, 10 * D, "given atom");
    // the other 14 are what init = samples draws for m = 14: the first 14 rows of epoch 0
    String plain = tmp.resolve("plain-14").toString();
    Cli.Run p = run("fit", "--input", data, "--output", plain, "--atoms", "14", "--k", "2", "--batch-size", "300",
        "--seed", "4", "--iterations", "0");
    assertEquals(0, p.code(), p.err());
    assertArrayEquals(dictionary(plain), Arrays.copyOfRange(got, 10 * D, M * D));
  }

  /** A safetensors W_dec: float32 (r, d) as SAELens stores it, bfloat16 (d, r) as a torch Linear's weight. */
  @Test
  void aSafetensorsDecoderAndTheSameFitTwice() throws Exception {
    float[] planted = dictionary(truth);
    Path f32 = tmp.resolve("sae.safetensors");
    writeSafetensors(f32, "F32", new int[] {M, D}, planted);
    float[] transposed = new float[D * M];
    for (int j = 0; j < M; j++) {
      for (int i = 0; i < D; i++) {
        transposed[i * M + j] = planted[j * D + i];
      }
    }
    Path bf16 = tmp.resolve("linear.safetensors");
    writeSafetensors(bf16, "BF16", new int[] {D, M}, transposed);
    String a = tmp.resolve("from-f32").toString();
    String b = tmp.resolve("from-bf16").toString();
    assertEquals(0, run(fit(a, "--iterations", "0", "--init-dictionary", f32.toString())).code());
    assertEquals(0, run(fit(b, "--iterations", "0", "--init-dictionary", bf16.toString())).code());
    assertClose(planted, dictionary(a), 0, M * D, "F32 atom");
    float[] got = dictionary(b);
    for (int i = 0; i < M * D; i++) {
      assertEquals(planted[i], got[i], 1e-2, "BF16 atom value " + i); // bfloat16 keeps 8 bits of mantissa
    }
    String c1 = tmp.resolve("fit-1").toString();
    String c2 = tmp.resolve("fit-2").toString();
    assertEquals(0, run(fit(c1, "--iterations", "3", "--init-dictionary", f32.toString())).code());
    assertEquals(0, run(fit(c2, "--iterations", "3", "--init-dictionary", f32.toString())).code());
    assertArrayEquals(dictionary(c1), dictionary(c2), "a seed and a given dictionary fix the result");
  }

  @Test
  void badShapesAndPathsAreOneLine() throws Exception {
    Path wide = tmp.resolve("wide.npy");
    try (OutputStream o = Files.newOutputStream(wide)) {
      Npy.write(o, 4, D + 1, new float[4 * (D + 1)]);
    }
    Path many = tmp.resolve("many.npy");
    try (OutputStream o = Files.newOutputStream(many)) {
      Npy.write(o, M + 1, D, new float[(M + 1) * D]);
    }
    Path zero = tmp.resolve("zero.npy");
    float[] z = scaled(Arrays.copyOf(dictionary(truth), 3 * D), 1);
    Arrays.fill(z, D, 2 * D, 0f);
    try (OutputStream o = Files.newOutputStream(zero)) {
      Npy.write(o, 3, D, z);
    }
    Path noDec = tmp.resolve("enc.safetensors");
    writeSafetensors(noDec, "F32", new int[] {M, D}, new float[M * D], "W_enc");
    String[][] cases = {
        {wide.toString(), "has rows of length 17, but the embeddings have d = 16"},
        {many.toString(), "has 25 atoms, more than m = 24 (--atoms)"},
        {zero.toString(), "row 1 is all zeros"},
        {noDec.toString(), "has no tensor W_dec (it holds W_enc)"},
        {tmp.resolve("nope.npy").toString(), "does not exist"},
        {data, "is a directory with neither model.json (a dbksvd model) nor sae_weights.safetensors (an SAE)"}};
    for (String[] c : cases) {
      String out = tmp.resolve("bad-" + Math.abs(c[0].hashCode())).toString();
      Cli.Run r = run(fit(out, "--iterations", "1", "--init-dictionary", c[0]));
      assertEquals(2, r.code(), c[0] + ": " + r.err());
      assertTrue(r.err().startsWith("dbksvd: error: ") && r.err().contains(c[1]) && r.err().lines().count() == 1,
          r.err());
      assertFalse(new File(out).exists(), "nothing at the output path");
    }
  }

  static void writeSafetensors(Path file, String dtype, int[] shape, float[] values) throws IOException {
    writeSafetensors(file, dtype, shape, values, "W_dec");
  }

  /** The format by its definition: 8-byte header length, JSON header, little-endian data. */
  static void writeSafetensors(Path file, String dtype, int[] shape, float[] values, String name)
      throws IOException {
    int width = dtype.equals("F32") ? 4 : 2;
    ByteBuffer data = ByteBuffer.allocate(values.length * width).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      if (width == 4) {
        data.putFloat(v);
      } else {
        data.putShort((short) (Float.floatToIntBits(v) >>> 16)); // bfloat16 by truncation
      }
    }
    String header = "{\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + shape[0] + "," + shape[1]
        + "],\"data_offsets\":[0," + data.capacity() + "]}}";
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
    try (OutputStream o = Files.newOutputStream(file)) {
      o.write(len.array());
      o.write(h);
      o.write(data.array());
    }
  }
}
