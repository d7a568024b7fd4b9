package dbksvd.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;

/**
 * A given dictionary to start a fit from ({@code fit --init-dictionary PATH}): a dbksvd model directory, an (r, d)
 * float32 {@code .npy}, or a {@code .safetensors} file (or a directory holding {@code sae_weights.safetensors}, as
 * SAE libraries save) whose {@code W_dec} is an SAE's decoder, (r, d) — or (d, r), as a torch Linear stores it,
 * which is transposed. Its r ≤ m rows become atoms 0..r−1, normalised; {@code init} draws the others.
 *
 * <p>Example: an SAE with d_sae = 16384 latents over d_in = 2304, fit with m = 16384: every atom starts at a decoder
 * row; with m = 20000 the last 3616 atoms come from {@code init}.
 */
public final class InitDictionary {
  private InitDictionary() {}

  /**
   * The given atoms.
   *
   * @param D d × r, column-major, unit-norm columns
   * @param format "model", "npy" or "safetensors"
   * @param sha256 of the bytes read (the file the atoms come from), for model.json
   */
  public record Atoms(float[] D, int rows, String format, String sha256) {}

  public static Atoms read(Configuration conf, String path, int d, int m) throws IOException {
    Path p = new Path(path);
    FileSystem fs = p.getFileSystem(conf);
    if (!fs.exists(p)) {
      throw new IOException("init dictionary " + path + " does not exist");
    }
    String format;
    Path file;
    if (fs.getFileStatus(p).isDirectory()) {
      if (fs.exists(new Path(p, ModelDir.MODEL_JSON))) {
        format = "model";
        file = new Path(p, ModelDir.DICTIONARY);
      } else if (fs.exists(new Path(p, Export.SAFETENSORS))) {
        format = "safetensors";
        file = new Path(p, Export.SAFETENSORS);
      } else {
        throw new IOException("init dictionary " + path + " is a directory with neither " + ModelDir.MODEL_JSON
            + " (a dbksvd model) nor " + Export.SAFETENSORS + " (an SAE)");
      }
    } else if (path.endsWith(".npy")) {
      format = "npy";
      file = p;
    } else if (path.endsWith(".safetensors")) {
      format = "safetensors";
      file = p;
    } else {
      throw new IOException("init dictionary " + path + ": expected a model directory, a .npy or a .safetensors "
          + "file");
    }
    byte[] bytes;
    try (FSDataInputStream in = fs.open(file)) {
      bytes = in.readAllBytes();
    }
    String name = file.toString();
    float[][] rows;
    if (format.equals("model")) {
      ModelDir.Model model = ModelDir.read(conf, path); // checks the directory whole
      rows = rows(model.D(), model.m(), model.d());
    } else if (format.equals("npy")) {
      Npy.Matrix mat = Npy.read(new java.io.ByteArrayInputStream(bytes), name);
      rows = rows(mat.data(), mat.rows(), mat.cols());
    } else {
      rows = safetensorsDecoder(bytes, name, d);
    }
    int r = rows.length;
    int cols = r == 0 ? 0 : rows[0].length;
    if (r == 0) {
      throw new IOException("init dictionary " + name + " has no rows");
    }
    if (cols != d) {
      throw new IOException("init dictionary " + name + " has rows of length " + cols + ", but the embeddings have d = "
          + d);
    }
    if (r > m) {
      throw new IOException("init dictionary " + name + " has " + r + " atoms, more than m = " + m
          + " (--atoms)");
    }
    float[] D = new float[d * r];
    for (int j = 0; j < r; j++) {
      double sq = 0;
      for (int i = 0; i < d; i++) {
        float v = rows[j][i];
        if (!Float.isFinite(v)) {
          throw new IOException("init dictionary " + name + " row " + j + " has " + v + " at position " + i);
        }
        sq += (double) v * v;
      }
      if (sq == 0) {
        throw new IOException("init dictionary " + name + " row " + j + " is all zeros");
      }
      double inv = 1 / Math.sqrt(sq);
      for (int i = 0; i < d; i++) {
        D[j * d + i] = (float) (rows[j][i] * inv);
      }
    }
    return new Atoms(D, r, format, sha256(bytes));
  }

  /** The rows of a row-major (r, c) matrix held as data[j * c + i]. */
  private static float[][] rows(float[] data, int r, int c) {
    float[][] out = new float[r][c];
    for (int j = 0; j < r; j++) {
      System.arraycopy(data, j * c, out[j], 0, c);
    }
    return out;
  }

  /** W_dec of a safetensors file (F32, F16, BF16 or F64), as (r, d) rows; a (d, r) tensor is transposed. */
  static float[][] safetensorsDecoder(byte[] b, String name, int d) throws IOException {
    if (b.length < 8) {
      throw new IOException(name + " is not a safetensors file (shorter than its 8-byte header length)");
    }
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    long n = bb.getLong(0);
    if (n <= 0 || 8 + n > b.length) {
      throw new IOException(name + " is not a safetensors file (header length " + n + ")");
    }
    JsonNode header;
    try {
      header = new ObjectMapper().readTree(new String(b, 8, (int) n, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IOException(name + " is not a safetensors file (its header is not JSON)");
    }
    JsonNode t = header.get("W_dec");
    if (t == null) {
      StringBuilder names = new StringBuilder();
      for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
        String k = it.next().getKey();
        if (!k.equals("__metadata__")) {
          names.append(names.length() > 0 ? ", " : "").append(k);
        }
      }
      throw new IOException(name + " has no tensor W_dec (it holds " + names + ")");
    }
    String dtype = t.path("dtype").asText();
    JsonNode shape = t.path("shape");
    if (shape.size() != 2) {
      throw new IOException(name + ": W_dec has shape " + shape + "; expected (d_sae, d_in)");
    }
    int r = shape.get(0).asInt();
    int c = shape.get(1).asInt();
    int width = switch (dtype) {
      case "F32" -> 4;
      case "F16", "BF16" -> 2;
      case "F64" -> 8;
      default -> throw new IOException(name + ": W_dec has dtype " + dtype + "; expected F32, F16, BF16 or F64");
    };
    long from = 8 + n + t.path("data_offsets").get(0).asLong();
    long to = 8 + n + t.path("data_offsets").get(1).asLong();
    if (to - from != (long) r * c * width || to > b.length) {
      throw new IOException(name + ": W_dec's data (" + (to - from) + " bytes) does not match its shape " + shape
          + " and dtype " + dtype);
    }
    float[] v = new float[r * c];
    for (int i = 0; i < v.length; i++) {
      int at = (int) (from + (long) i * width);
      v[i] = switch (dtype) {
        case "F32" -> bb.getFloat(at);
        case "F64" -> (float) bb.getDouble(at);
        case "BF16" -> Float.intBitsToFloat((bb.getShort(at) & 0xffff) << 16);
        default -> halfToFloat(bb.getShort(at));
      };
    }
    if (c != d && r == d) { // (d_in, d_sae): a Linear layer's weight; rows are then the columns
      float[][] out = new float[c][r];
      for (int j = 0; j < c; j++) {
        for (int i = 0; i < r; i++) {
          out[j][i] = v[i * c + j];
        }
      }
      return out;
    }
    return rows(v, r, c);
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
  static float halfToFloat(short h) {
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) { // infinity or NaN
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) { // zero or subnormal: mant · 2^−24
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }
}
