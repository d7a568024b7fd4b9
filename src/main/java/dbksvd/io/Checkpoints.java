package dbksvd.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dbksvd.loop.FitParams;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.logging.Logger;

/**
 * Checkpoints of a running fit, so that {@code fit --resume} continues where a killed job stopped and ends with the
 * same dictionary, bit for bit, as an uninterrupted run. Everything an iteration depends on is D, the iteration
 * number, the parameters and the data (every random choice is derived from (seed, iteration)), so a checkpoint
 * holds D as it enters an iteration, that iteration's number and the metrics so far:
 * <pre>
 *   CHECKPOINT_DIR/iter-000010/   dictionary.npy, state.json (next iteration, parameters, input), metrics.jsonl
 * </pre>
 * Each is written to a hidden sibling and renamed when complete; a half-written one is never read.
 */
public final class Checkpoints {
  private static final Logger LOG = Logger.getLogger(Checkpoints.class.getName());
  static final String FORMAT = "dbksvd-checkpoint";
  static final int VERSION = 1;

  private final Configuration conf;
  private final Path dir;

  public Checkpoints(Configuration conf, String dir) {
    this.conf = conf;
    this.dir = new Path(dir);
  }

  /** The default place: a hidden sibling of the model directory. */
  public static String defaultDir(String output) {
    Path out = new Path(output);
    return new Path(out.getParent(), "." + out.getName() + ".checkpoints").toString();
  }

  public Path dir() {
    return dir;
  }

  /** A checkpoint read back: D entering iteration {@code next}, and the metrics lines of iterations before it. */
  public record State(int next, float[] D, int d, int m, List<String> metrics) {}

  /** Writes the state entering iteration {@code next}, then removes older checkpoints. */
  public void write(int next, float[] D, int d, int m, FitParams p, String input, long rows, List<String> metrics)
      throws IOException {
    write(next, D, d, m, p, input, rows, "", metrics);
  }

  /**
   * As above, with the input's layout where the batches depend on it (batching = splits or window: the rows of
   * each split; empty otherwise): a checkpoint is resumed only on the same layout.
   */
  public void write(int next, float[] D, int d, int m, FitParams p, String input, long rows, String layout,
      List<String> metrics) throws IOException {
    FileSystem fs = dir.getFileSystem(conf);
    fs.mkdirs(dir);
    Path target = new Path(dir, String.format("iter-%06d", next));
    AtomicDir.write(fs, target, true, tmp -> {
      try (OutputStream out = new BufferedOutputStream(fs.create(new Path(tmp, ModelDir.DICTIONARY), false),
          1 << 20)) {
        Npy.write(out, m, d, D);
      }
      ObjectNode s = ModelDir.JSON.createObjectNode();
      s.put("format", FORMAT);
      s.put("version", VERSION);
      s.put("next_iteration", next);
      s.put("d", d);
      s.put("m", m);
      s.put("input", input);
      s.put("rows", rows);
      if (!layout.isEmpty()) {
        s.put("layout", layout);
      }
      s.set("params", ModelDir.paramsToJson(p));
      try (FSDataOutputStream out = fs.create(new Path(tmp, "state.json"), false)) {
        out.write(ModelDir.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(s));
      }
      try (FSDataOutputStream out = fs.create(new Path(tmp, ModelDir.METRICS), false)) {
        for (String line : metrics) {
          out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        }
      }
    });
    for (FileStatus st : list(fs)) {
      if (!st.getPath().getName().equals(target.getName())) {
        fs.delete(st.getPath(), true);
      }
    }
  }

  private FileStatus[] list(FileSystem fs) throws IOException {
    if (!fs.exists(dir)) {
      return new FileStatus[0];
    }
    return Arrays.stream(fs.listStatus(dir))
        .filter(s -> s.isDirectory() && s.getPath().getName().matches("iter-\\d{6}"))
        .sorted(Comparator.comparing((FileStatus s) -> s.getPath().getName()).reversed())
        .toArray(FileStatus[]::new);
  }

  /**
   * The newest complete checkpoint, or null when there is none. A checkpoint made with other parameters (other
   * than the number of iterations) or from another input is refused: resuming it would not be the same fit.
   */
  public State latest(FitParams p, String input, long rows) throws IOException {
    return latest(p, input, rows, "");
  }

  /** As above, refusing a checkpoint made on another layout of the input ({@link #write}'s layout). */
  public State latest(FitParams p, String input, long rows, String layout) throws IOException {
    FileSystem fs = dir.getFileSystem(conf);
    for (FileStatus st : list(fs)) {
      Path c = st.getPath();
      JsonNode s;
      try (FSDataInputStream in = fs.open(new Path(c, "state.json"))) {
        s = ModelDir.JSON.readTree(in);
      } catch (IOException e) {
        LOG.warning("skipping unreadable checkpoint " + c + ": " + e.getMessage());
        continue;
      }
      if (!FORMAT.equals(s.path("format").asText()) || s.path("version").asInt() != VERSION) {
        throw new IOException("checkpoint " + c + " is not a " + FORMAT + " version " + VERSION);
      }
      FitParams saved = ModelDir.paramsFromJson(s.path("params"));
      // W matters to batching = window only
      int window = p.batching() == dbksvd.loop.Batching.WINDOW ? saved.window() : p.window();
      if (!saved.toBuilder().iterations(p.iterations()).window(window).build().equals(p)) {
        throw new IOException("checkpoint " + c + " was made with other parameters (" + saved + "); resume with "
            + "the same settings, or delete " + dir);
      }
      if (!input.equals(s.path("input").asText()) || rows != s.path("rows").asLong()) {
        throw new IOException("checkpoint " + c + " was made from " + s.path("input").asText() + " ("
            + s.path("rows").asLong() + " rows), not " + input + " (" + rows + " rows)");
      }
      if (!layout.equals(s.path("layout").asText(""))) {
        throw new IOException("checkpoint " + c + " was made on another layout of " + input + " (its batches are "
            + "whole splits: " + s.path("layout").asText("?") + ", now " + layout + "); resume on the same files, "
            + "or delete " + dir);
      }
      Npy.Matrix D;
      try (FSDataInputStream in = fs.open(new Path(c, ModelDir.DICTIONARY))) {
        D = Npy.read(in, c + "/" + ModelDir.DICTIONARY);
      }
      List<String> metrics = List.of();
      Path mp = new Path(c, ModelDir.METRICS);
      if (fs.exists(mp)) {
        try (FSDataInputStream in = fs.open(mp)) {
          metrics = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank())
              .toList();
        }
      }
      return new State(s.path("next_iteration").asInt(), D.data(), D.cols(), D.rows(), metrics);
    }
    return null;
  }

  /** Removes the checkpoints (after the model is safely written). */
  public void clear() throws IOException {
    FileSystem fs = dir.getFileSystem(conf);
    fs.delete(dir, true);
  }
}
