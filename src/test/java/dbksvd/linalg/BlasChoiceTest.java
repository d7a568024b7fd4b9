package dbksvd.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The other choices of {@code dbksvd.blas.library}, each in a JVM of its own (netlib loads one library per JVM, and
 * this test's JVM runs the bundled one): the system's library, the environment variable executors get, netlib's own
 * property winning, and a file that is not a library failing in one line through the command line.
 */
class BlasChoiceTest {
  @TempDir Path tmp;

  static final Path PROJECT = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
      .toAbsolutePath();

  record Jvm(int code, String out, String err) {
    /** The {@code key=value} lines of BlasLibrary's main. */
    Map<String, String> values() {
      Map<String, String> m = new LinkedHashMap<>();
      for (String line : out.split("\n")) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          m.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
      return m;
    }
  }

  /** Runs a main class of the build in a new JVM (the test's class path less JUnit, Spark's JVM options). */
  static Jvm java(Map<String, String> env, List<String> args) throws IOException, InterruptedException {
    String cp = PROJECT.resolve("target/classes") + File.pathSeparator
        + Files.readString(PROJECT.resolve("target/classpath.txt")).trim();
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    Files.readAllLines(PROJECT.resolve("conf/jvm-options")).stream().map(String::trim)
        .filter(l -> !l.isEmpty() && !l.startsWith("#")).forEach(cmd::add);
    cmd.add("-cp");
    cmd.add(cp);
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().remove(BlasLibrary.ENV);
    pb.environment().put("OPENBLAS_NUM_THREADS", "1");
    pb.environment().putAll(env);
    Path out = Files.createTempFile("jvm", ".out");
    Path err = Files.createTempFile("jvm", ".err");
    try {
      Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("JVM still running after 120 s: " + cmd);
      }
      return new Jvm(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /** The system's libopenblas.so.0 where one of the directories dbksvd looks in has it, else null. */
  static Path systemOpenBlas() {
    for (String dir : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
        "/usr/lib", "/usr/local/lib"}) {
      Path p = Path.of(dir, "libopenblas.so.0");
      if (Files.exists(p)) {
        return p;
      }
    }
    return null;
  }

  /**
   * {@code system} loads the system's OpenBLAS where it is installed; without one it still loads no bundled copy (the
   * system's libblas.so.3, or the pure-Java fallback with its warning).
   */
  @Test
  void systemLoadsTheSystemLibrary() throws Exception {
    Jvm j = java(Map.of(), List.of("-Ddbksvd.blas.library=system", "dbksvd.linalg.BlasLibrary"));
    assertEquals(0, j.code(), j::err);
    Map<String, String> v = j.values();
    assertEquals("system", v.get("setting"), j::out);
    assertEquals("system", v.get("source"), j::out);
    Path installed = systemOpenBlas();
    if (installed != null) {
      assertTrue(Files.isSameFile(installed, Path.of(v.get("path"))), installed + " vs " + v.get("path"));
      assertFalse(v.get("version").isEmpty(), j::out);
      assertFalse(v.get("core").isEmpty(), "core name of the system's OpenBLAS: " + j.out());
      assertTrue(v.get("describe").endsWith("core " + v.get("core") + " (system)"), j::out);
    } else {
      assertFalse(v.get("path").contains("openblas-linux-"), "no bundled copy: " + j.out());
    }
  }

  /** An executor JVM gets the choice as the environment variable DBKSVD_BLAS_LIBRARY (spark.executorEnv). */
  @Test
  void theEnvironmentVariableChoosesForAnExecutor() throws Exception {
    Jvm j = java(Map.of(BlasLibrary.ENV, "system"), List.of("dbksvd.linalg.BlasLibrary"));
    assertEquals(0, j.code(), j::err);
    assertEquals("system", j.values().get("setting"), j::out);
    Jvm bundled = java(Map.of(BlasLibrary.ENV, "bundled"), List.of("dbksvd.linalg.BlasLibrary"));
    assertEquals(0, bundled.code(), bundled::err);
    Assumptions.assumeTrue(BundledOpenBlas.platform() != null, "no bundled OpenBLAS for this platform");
    assertEquals("bundled", bundled.values().get("source"), bundled::out);
    assertTrue(Files.isSameFile(BundledOpenBlas.extract(), Path.of(bundled.values().get("path"))), bundled::out);
  }

  /** A path loads that file; netlib's own -D...nativeLibPath, when a user sets it, wins over dbksvd's setting. */
  @Test
  void aPathLoadsThatFileAndNetlibsPropertyWins() throws Exception {
    Assumptions.assumeTrue(BundledOpenBlas.platform() != null, "no bundled OpenBLAS for this platform");
    Path lib = BundledOpenBlas.extract();
    Jvm byPath = java(Map.of(), List.of("-Ddbksvd.blas.library=" + lib, "dbksvd.linalg.BlasLibrary"));
    assertEquals(0, byPath.code(), byPath::err);
    assertEquals("path", byPath.values().get("source"), byPath::out);
    assertTrue(Files.isSameFile(lib, Path.of(byPath.values().get("path"))), byPath::out);

    Jvm netlib = java(Map.of(), List.of("-Ddbksvd.blas.library=system",
        "-Ddev.ludovic.netlib.blas.nativeLibPath=" + lib, "dbksvd.linalg.BlasLibrary"));
    assertEquals(0, netlib.code(), netlib::err);
    assertEquals("-Ddev.ludovic.netlib.blas.nativeLibPath=" + lib, netlib.values().get("setting"), netlib::out);
    assertTrue(Files.isSameFile(lib, Path.of(netlib.values().get("path"))), netlib::out);
  }

  /**
   * A file that exists but is no shared library: {@code fit} ends in one line naming the setting and the loader's
   * reason, exit 2, before any Spark job, and nothing at the output path.
   */
  @Test
  void aFileThatIsNoLibraryFailsInOneLine() throws Exception {
    Path notALibrary = Files.writeString(tmp.resolve("libopenblas.so.0"), "not a shared library\n");
    Path out = tmp.resolve("model");
    Jvm j = java(Map.of(), List.of("dbksvd.cli.Main", "fit", "--input", tmp.resolve("data").toString(), "--output",
        out.toString(), "--set", "dbksvd.blas.library=" + notALibrary));
    List<String> errors = j.err().lines().filter(l -> l.startsWith("dbksvd: error:")).toList();
    assertEquals(2, j.code(), j::err);
    assertEquals(1, errors.size(), j::err);
    assertTrue(errors.get(0).startsWith("dbksvd: error: dbksvd.blas.library = " + notALibrary + ": "), () -> errors.get(0));
    assertTrue(errors.get(0).endsWith(": not a BLAS library (it has no cblas_sgemm, which netlib calls)"),
        errors.get(0));
    assertFalse(j.err().contains("\tat "), "no stack trace: " + j.err());
    assertFalse(Files.exists(out), "nothing at the output path");

    // a shared library that holds no BLAS (libc): refused before netlib would call a function it lacks
    Path libc = Path.of("/lib/x86_64-linux-gnu/libc.so.6");
    Assumptions.assumeTrue(Files.exists(libc), "no " + libc);
    Jvm noBlas = java(Map.of(), List.of("-Ddbksvd.blas.library=" + libc, "dbksvd.linalg.BlasLibrary"));
    assertEquals(2, noBlas.code(), noBlas::err);
    assertTrue(noBlas.err().contains("dbksvd: error: dbksvd.blas.library = " + libc + ": not a BLAS library"),
        noBlas::err);

    // a file that names cblas_sgemm but is no shared library: the dynamic loader's own reason
    Path fake = Files.write(tmp.resolve("libfake.so"), "cblas_sgemm\0 but no ELF".getBytes(StandardCharsets.UTF_8));
    Jvm notElf = java(Map.of(), List.of("-Ddbksvd.blas.library=" + fake, "dbksvd.linalg.BlasLibrary"));
    assertEquals(2, notElf.code(), notElf::err);
    assertTrue(notElf.err().contains("dbksvd: error: dbksvd.blas.library = " + fake + ": "), notElf::err);
    assertTrue(notElf.err().contains("invalid ELF header") || notElf.err().contains("file too short"), notElf::err);
  }
}
