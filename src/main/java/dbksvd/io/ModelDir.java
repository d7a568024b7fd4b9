package dbksvd.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dbksvd.encode.AtomGroups;
import dbksvd.loop.FitParams;
import dbksvd.loop.Init;
import dbksvd.update.TopSingularTriplet;
import dbksvd.update.Update;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A model directory (any Hadoop file system: local, hdfs://, s3a://):
 * <pre>
 *   dictionary.npy   float32, shape (m, d): atom j is row j, unit norm
 *   model.json       format and version, every parameter, the seed, versions, metrics summary
 *   metrics.jsonl    one JSON object per iteration
 * </pre>
 * Written into a hidden sibling directory and renamed into place when complete, so a reader sees the old model or
 * the new one, never half of one.
 */
public final class ModelDir {
  public static final String FORMAT = "dbksvd-model";
  public static final int VERSION = 1;
  public static final String DICTIONARY = "dictionary.npy";
  public static final String MODEL_JSON = "model.json";
  public static final String METRICS = "metrics.jsonl";
  static final ObjectMapper JSON = new ObjectMapper();

  private ModelDir() {}

  /** A dictionary with its metadata. D is d × m column-major. */
  public record Model(float[] D, int d, int m, FitParams params, ObjectNode info) {
    public AtomGroups groups() {
      return params.groups();
    }

    /** The same dictionary coded by another encoder (its name and rtol; k stays the model's). */
    public Model withEncoder(dbksvd.encode.Encoder encoder) {
      if (encoder.equals(params.encoder())) {
        return this;
      }
      return new Model(D, d, m, params.toBuilder().encoder(encoder.name()).rtol(encoder.rtol()).build(), info);
    }
  }

  public static ObjectNode newInfo() {
    return JSON.createObjectNode();
  }

  /** Writes the model atomically; an existing directory is replaced only when {@code overwrite}. */
  public static void write(Configuration conf, String dir, Model model, List<String> metricsLines, boolean overwrite)
      throws IOException {
    write(conf, dir, model, metricsLines, overwrite, java.util.Map.of());
  }

  /** As above, with extra files (name to bytes, e.g. report.html) written into the directory before the rename. */
  public static void write(Configuration conf, String dir, Model model, List<String> metricsLines, boolean overwrite,
      java.util.Map<String, byte[]> extra) throws IOException {
    Path target = new Path(dir);
    FileSystem fs = target.getFileSystem(conf);
    AtomicDir.write(fs, target, overwrite, tmp -> {
      try (OutputStream out = new BufferedOutputStream(fs.create(new Path(tmp, DICTIONARY), false), 1 << 20)) {
        Npy.write(out, model.m(), model.d(), model.D());
      }
      ObjectNode json = JSON.createObjectNode();
      json.put("format", FORMAT);
      json.put("version", VERSION);
      json.put("d", model.d());
      json.put("m", model.m());
      json.set("params", paramsToJson(model.params()));
      AtomGroups g = model.groups();
      ObjectNode groups = json.putObject("groups");
      ArrayNode start = groups.putArray("start");
      for (int s : g.start()) {
        start.add(s);
      }
      ArrayNode budget = groups.putArray("budget");
      for (int b : g.budget()) {
        budget.add(b);
      }
      if (model.info() != null) {
        // an info read from another model.json carries its own format, shape and params: the model's own win
        model.info().fields().forEachRemaining(e -> {
          if (!json.has(e.getKey())) {
            json.set(e.getKey(), e.getValue());
          }
        });
      }
      try (FSDataOutputStream out = fs.create(new Path(tmp, MODEL_JSON), false)) {
        out.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(json));
      }
      try (FSDataOutputStream out = fs.create(new Path(tmp, METRICS), false)) {
        for (String line : metricsLines) {
          out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        }
      }
      for (var e : extra.entrySet()) {
        try (FSDataOutputStream out = fs.create(new Path(tmp, e.getKey()), false)) {
          out.write(e.getValue());
        }
      }
    });
  }

  public static Model read(Configuration conf, String dir) throws IOException {
    Path p = new Path(dir);
    FileSystem fs = p.getFileSystem(conf);
    if (!fs.exists(p)) {
      throw new IOException("model directory " + dir + " does not exist");
    }
    for (String f : new String[] {DICTIONARY, MODEL_JSON}) {
      if (!fs.exists(new Path(p, f))) {
        throw new IOException("model directory " + dir + " is incomplete: " + f + " is missing");
      }
    }
    JsonNode json;
    try (FSDataInputStream in = fs.open(new Path(p, MODEL_JSON))) {
      json = JSON.readTree(in);
    } catch (IOException e) {
      // Jackson's message runs over several lines and quotes the source; its first line says what is wrong
      throw new IOException(dir + "/" + MODEL_JSON + " is not valid JSON: " + e.getMessage().split("\n")[0], e);
    }
    if (json == null || json.isMissingNode()) {
      throw new IOException(dir + "/" + MODEL_JSON + " is empty");
    }
    if (!FORMAT.equals(json.path("format").asText()) || json.path("version").asInt(-1) != VERSION) {
      throw new IOException(dir + "/" + MODEL_JSON + " is not a " + FORMAT + " version " + VERSION + " model (format "
          + json.path("format") + ", version " + json.path("version") + ")");
    }
    FitParams params;
    try {
      params = paramsFromJson(json.path("params"));
    } catch (IllegalArgumentException e) {
      throw new IOException(dir + "/" + MODEL_JSON + " has bad params: " + e.getMessage(), e);
    }
    Npy.Matrix mat;
    try (FSDataInputStream in = fs.open(new Path(p, DICTIONARY))) {
      mat = Npy.read(in, dir + "/" + DICTIONARY);
    } catch (java.io.EOFException e) {
      throw new IOException(dir + "/" + DICTIONARY + " is truncated", e);
    }
    int d = json.path("d").asInt();
    int m = json.path("m").asInt();
    if (mat.rows() != m || mat.cols() != d) {
      throw new IOException(dir + "/" + DICTIONARY + " has shape (" + mat.rows() + ", " + mat.cols()
          + ") but model.json says m = " + m + ", d = " + d);
    }
    float[] D = mat.data();
    for (int i = 0; i < D.length; i++) {
      if (!Float.isFinite(D[i])) {
        throw new IOException(dir + "/" + DICTIONARY + " has " + D[i] + " in atom " + i / d + " at position " + i % d);
      }
    }
    return new Model(D, d, m, params, (ObjectNode) json);
  }

  /** The metrics.jsonl lines of a model (empty when absent). */
  public static List<String> readMetrics(Configuration conf, String dir) throws IOException {
    Path p = new Path(dir, METRICS);
    FileSystem fs = p.getFileSystem(conf);
    if (!fs.exists(p)) {
      return List.of();
    }
    try (FSDataInputStream in = fs.open(p)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
    }
  }

  /** model.json's params, in the format of version 1 (every key kept, also those a setting does not use). */
  public static ObjectNode paramsToJson(FitParams p) {
    ObjectNode o = JSON.createObjectNode();
    o.put("atoms", p.m());
    o.put("k", p.k());
    o.put("batch_size", p.batchSize());
    o.put("iterations", p.iterations());
    o.put("encoder", p.encoder().name());
    o.put("rtol", p.rtol());
    o.put("matryoshka", p.matryoshka().levels());
    ArrayNode b = o.putArray("budgets");
    p.matryoshka().budgets().forEach(b::add);
    o.put("atom_batches", p.update().atomBatches());
    o.put("seed", p.seed());
    o.put("init", p.init().configName());
    o.put("clear_threshold", p.clearThreshold());
    o.put("lanczos_krylov", p.lanczos().maxKrylov());
    o.put("lanczos_restarts", p.lanczos().maxRestarts());
    o.put("lanczos_tol", p.lanczos().tol());
    o.put("encode_chunk", p.encodeChunk());
    o.put("update", p.update().name());
    o.put("update_passes", p.update().passes());
    o.put("init_dictionary", p.initDictionary());
    o.put("batching", p.batching().configName());
    o.put("window", p.window());
    return o;
  }

  /**
   * The params of model.json. Keys missing from models written before they existed take the value those models
   * were fitted with (update: gauss-seidel with 1 atom batch, 1 pass).
   */
  static FitParams paramsFromJson(JsonNode o) {
    int[] budgets = new int[o.path("budgets").size()];
    for (int i = 0; i < budgets.length; i++) {
      budgets[i] = o.path("budgets").get(i).asInt();
    }
    return FitParams.builder(o.path("atoms").asInt(), o.path("k").asInt())
        .batchSize(o.path("batch_size").asInt())
        .iterations(o.path("iterations").asInt())
        .encoder(o.path("encoder").asText())
        .rtol(o.path("rtol").asDouble())
        .matryoshka(FitParams.Matryoshka.of(o.path("matryoshka").asInt(-1), budgets))
        .update(Update.of(o.path("update").asText("gauss-seidel"), o.path("update_passes").asInt(1),
            o.path("atom_batches").asInt(1)))
        .seed(o.path("seed").asLong())
        .init(Init.of(o.path("init").asText("samples")))
        .clearThreshold(o.path("clear_threshold").asDouble(0.99))
        .lanczos(new TopSingularTriplet(o.path("lanczos_krylov").asInt(24), o.path("lanczos_restarts").asInt(20),
            o.path("lanczos_tol").asDouble(1e-7)))
        .encodeChunk(o.path("encode_chunk").asInt(1024))
        .initDictionary(o.path("init_dictionary").asText(""))
        .batching(dbksvd.loop.Batching.of(o.path("batching").asText("rows")))
        .window(o.path("window").asInt(4))
        .build();
  }
}
