package dbksvd.s3;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real S3 API server on 127.0.0.1 for tests: S3Proxy (org.gaul:s3proxy) with AWS signature v2/v4 authentication
 * and jclouds' in-memory ("transient") blob store, whose keys behave as S3's do. (Its filesystem store keeps an
 * empty folder where s3a deleted the last object below it and lists it as a directory, which S3 never does.) It runs
 * as its own JVM from its self-contained jar ({@code target/s3proxy/s3proxy.jar}, copied there by the build), so its
 * Jetty and jclouds never share a class path with Spark. Buckets are created through the S3 API.
 */
final class S3Proxy implements AutoCloseable {
  private static final Pattern STARTED =
      Pattern.compile("Started ServerConnector@\\S*\\{HTTP/1\\.1, \\(http/1\\.1\\)\\}\\{127\\.0\\.0\\.1:(\\d+)\\}");
  private static final long START_TIMEOUT_S = 60;

  final Path dir;
  final Path log;
  final int port;
  private final Process process;

  private final Thread hook;

  private S3Proxy(Path dir, Path log, Process process, int port) {
    this.dir = dir;
    this.log = log;
    this.process = process;
    this.port = port;
    // the server must not outlive the test JVM, however that ends
    this.hook = new Thread(process::destroyForcibly, "s3proxy-stop");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Starts the server on a free port of 127.0.0.1 with one access key pair and waits until it listens. */
  static S3Proxy start(Path dir, String accessKey, String secretKey) throws IOException {
    Path project = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
    Path jar = project.resolve("target/s3proxy/s3proxy.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: the build copies it (mvn generate-test-resources)");
    }
    Path props = dir.resolve("s3proxy.properties");
    // port 0: the system picks a free port, which Jetty logs; the secret goes in a file, not on a command line
    Files.writeString(props, String.join("\n",
        "s3proxy.endpoint=http://127.0.0.1:0",
        "s3proxy.authorization=aws-v2-or-v4",
        "s3proxy.identity=" + accessKey,
        "s3proxy.credential=" + secretKey,
        "jclouds.provider=transient",
        "jclouds.identity=local", // the blob store's own login, which an in-memory store does not check
        "jclouds.credential=local") + "\n");
    Path log = dir.resolve("s3proxy.log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(List.of(java, "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
        "-jar", jar.toString(), "--properties", props.toString()))
        .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    Process process = pb.start();
    process.getOutputStream().close();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_S);
    while (true) {
      Matcher m = STARTED.matcher(read(log));
      if (m.find()) {
        return new S3Proxy(dir, log, process, Integer.parseInt(m.group(1)));
      }
      if (!process.isAlive() || System.nanoTime() > deadline) {
        process.destroyForcibly();
        throw new IllegalStateException("S3Proxy did not start within " + START_TIMEOUT_S + " s (exit "
            + (process.isAlive() ? "-" : process.exitValue()) + "); its log:\n" + read(log));
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
        throw new IllegalStateException("interrupted while S3Proxy started");
      }
    }
  }

  String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  String log() {
    return read(log);
  }

  static String read(Path f) {
    try {
      return Files.exists(f) ? Files.readString(f, StandardCharsets.ISO_8859_1) : "";
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook runs anyway
    }
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
