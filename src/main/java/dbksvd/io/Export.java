package dbksvd.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dbksvd.encode.AtomGroups;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code dbksvd export}: a model directory's dictionary in a format other tools read, as a directory written
 * atomically (a hidden sibling renamed into place):
 * <pre>
 *   npy          dictionary.npy (m, d) float32 + cfg.json
 *   safetensors  sae_weights.safetensors with W_dec (m, d) F32 + cfg.json, as sparse-autoencoder libraries lay out
 *   parquet      a Parquet dataset, one row per atom: atom int, vector array&lt;float&gt;, usage long, group int
 *   saelens      sae_weights.safetensors with W_dec = [D; −D] (2m, d) and b_dec = 0 + cfg.json, a SAELens
 *                "matching_pursuit" SAE ({@link SaelensExport})
 * </pre>
 * For npy and safetensors, cfg.json holds d_in = d, d_sae = m, k and the encoder ("mp"/"mp-refit"/"omp"), and the
 * Matryoshka groups when there are several. A decoder only: DB-KSVD codes with matching pursuit on D, there is no encoder
 * matrix to export.
 */
public final class Export {
  public static final String NPY = "dictionary.npy";
  public static final String SAFETENSORS = "sae_weights.safetensors";
  public static final String CFG = "cfg.json";
  static final ObjectMapper JSON = new ObjectMapper();

  private Export() {}

  public enum Format {
    NPY, SAFETENSORS, PARQUET, SAELENS;

    public static Format parse(String s) {
      for (Format f : values()) {
        if (f.name().toLowerCase(Locale.ROOT).equals(s)) {
          return f;
        }
      }
      throw new IllegalArgumentException("unknown export format '" + s
          + "'; expected npy, safetensors, parquet or saelens");
    }
  }

  /** The parquet layout: one row per atom. */
  public static final StructType ATOMS = new StructType()
      .add("atom", DataTypes.IntegerType, false)
      .add("vector", DataTypes.createArrayType(DataTypes.FloatType, false), false)
      .add("usage", DataTypes.LongType, true)
      .add("group", DataTypes.IntegerType, false);

  /**
   * Writes the export.
   *
   * @param usage per atom, the rows whose code uses it (null: unknown, the parquet column is then null)
   */
  public static void write(SparkSession spark, ModelDir.Model model, Format format, String output, long[] usage,
      boolean overwrite) throws IOException {
    write(spark, model, null, format, output, usage, overwrite);
  }

  /**
   * As above, naming the model directory the model was read from (recorded in the saelens cfg.json; null: unknown).
   */
  public static void write(SparkSession spark, ModelDir.Model model, String modelDir, Format format, String output,
      long[] usage, boolean overwrite) throws IOException {
    Path target = new Path(output);
    FileSystem fs = target.getFileSystem(spark.sparkContext().hadoopConfiguration());
    AtomicDir.checkTarget(fs, target, overwrite);
    if (format == Format.PARQUET) {
      writeParquet(spark, fs, model, target, usage, overwrite);
      return;
    }
    ObjectNode cfg = format == Format.SAELENS ? SaelensExport.cfg(model, modelDir) : cfg(model);
    AtomicDir.write(fs, target, overwrite, tmp -> {
      try (OutputStream out = new BufferedOutputStream(fs.create(new Path(tmp, format == Format.NPY ? NPY
          : SAFETENSORS), false), 1 << 20)) {
        switch (format) {
          case NPY -> Npy.write(out, model.m(), model.d(), model.D());
          case SAELENS -> SaelensExport.writeWeights(out, model);
          default -> writeSafetensors(out, model);
        }
      }
      try (FSDataOutputStream out = fs.create(new Path(tmp, CFG), false)) {
        out.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(cfg));
      }
    });
    if (format == Format.SAELENS) {
      SaelensExport.warnIfCodesDiffer(model);
    }
  }

  /** cfg.json: the shape and coding settings under the names sparse-autoencoder libraries use. */
  public static ObjectNode cfg(ModelDir.Model model) {
    ObjectNode o = JSON.createObjectNode();
    o.put("architecture", "dbksvd");
    o.put("d_in", model.d());
    o.put("d_sae", model.m());
    o.put("k", model.params().k());
    o.put("encoder", model.params().encoder().name());
    o.put("rtol", model.params().rtol());
    o.put("dtype", "float32");
    o.put("decoder", "W_dec: (d_sae, d_in), unit-norm rows; x = argmin ||y - x W_dec|| with at most k non-zeros, "
        + "by the encoder");
    AtomGroups g = model.groups();
    if (g.count() > 1) {
      ArrayNode sizes = o.putArray("matryoshka_group_sizes");
      ArrayNode budgets = o.putArray("matryoshka_group_k");
      for (int i = 0; i < g.count(); i++) {
        sizes.add(g.size(i));
        budgets.add(g.budget()[i]);
      }
    }
    return o;
  }

  /** The safetensors export: W_dec (m, d), the dictionary's atoms as rows. */
  static void writeSafetensors(OutputStream out, ModelDir.Model model) throws IOException {
    java.util.Map<String, String> meta = new java.util.LinkedHashMap<>();
    meta.put("format", "dbksvd");
    meta.put("d_in", Integer.toString(model.d()));
    meta.put("d_sae", Integer.toString(model.m()));
    meta.put("k", Integer.toString(model.params().k()));
    meta.put("encoder", model.params().encoder().name());
    writeSafetensors(out, meta, List.of(new Tensor("W_dec", new int[] {model.m(), model.d()}, model.D())));
  }

  /** A float32 tensor: its name, shape (row-major) and values. */
  record Tensor(String name, int[] shape, float[] data) {}

  /**
   * The safetensors format: 8 bytes little-endian header length N, N bytes of JSON (tensor name → dtype, shape,
   * byte offsets into the data; "__metadata__" → string pairs), padded with spaces to a multiple of 8, then the
   * raw little-endian data, the tensors in the order given. D (d × m column-major) is W_dec (m × d row-major) byte
   * for byte.
   */
  static void writeSafetensors(OutputStream out, java.util.Map<String, String> metadata, List<Tensor> tensors)
      throws IOException {
    ObjectNode header = JSON.createObjectNode();
    ObjectNode meta = header.putObject("__metadata__");
    metadata.forEach(meta::put);
    long offset = 0;
    for (Tensor t : tensors) {
      ObjectNode w = header.putObject(t.name());
      w.put("dtype", "F32");
      ArrayNode shape = w.putArray("shape");
      long size = 1;
      for (int s : t.shape()) {
        shape.add(s);
        size *= s;
      }
      if (size != t.data().length) {
        throw new IllegalArgumentException(t.name() + " has " + t.data().length + " values for shape "
            + shape);
      }
      w.putArray("data_offsets").add(offset).add(offset + 4 * size);
      offset += 4 * size;
    }
    byte[] json = JSON.writeValueAsBytes(header);
    byte[] hb = java.util.Arrays.copyOf(json, (json.length + 7) / 8 * 8); // padded with spaces to 8 bytes
    java.util.Arrays.fill(hb, json.length, hb.length, (byte) ' ');
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hb.length);
    out.write(len.array());
    out.write(hb);
    ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    for (Tensor t : tensors) {
      for (float v : t.data()) {
        if (!buf.hasRemaining()) {
          out.write(buf.array(), 0, buf.position());
          buf.clear();
        }
        buf.putFloat(v);
      }
    }
    out.write(buf.array(), 0, buf.position());
  }

  private static void writeParquet(SparkSession spark, FileSystem fs, ModelDir.Model model, Path target,
      long[] usage, boolean overwrite) throws IOException {
    int d = model.d();
    AtomGroups g = model.groups();
    List<Row> rows = new ArrayList<>(model.m());
    for (int j = 0; j < model.m(); j++) {
      List<Float> v = new ArrayList<>(d);
      for (int i = 0; i < d; i++) {
        v.add(model.D()[j * d + i]);
      }
      rows.add(RowFactory.create(j, v, usage == null ? null : usage[j], g.groupOf(j)));
    }
    Path tmp = AtomicDir.tempSibling(target, "tmp");
    try {
      spark.createDataFrame(rows, ATOMS).coalesce(1).write().parquet(tmp.toString());
      AtomicDir.commit(fs, tmp, target, overwrite);
    } catch (IOException | RuntimeException e) {
      AtomicDir.deleteSettled(fs, tmp); // written by a Spark task
      throw e;
    }
  }
}
