package dbksvd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code bin/dbksvd} as a user starts it (a new JVM on the built jar, after {@code package}): help and version on
 * stdout with exit 0, and nothing on stderr but dbksvd's own lines — not the JVM's notice of the Vector API's
 * incubator module.
 */
class LauncherIT {
  @TempDir Path tmp;

  record Result(int code, String out, String err) {}

  static Result dbksvd(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("bin/dbksvd"));
    cmd.addAll(List.of(args));
    File out = Files.createTempFile("dbksvd-out", ".txt").toFile();
    File err = Files.createTempFile("dbksvd-err", ".txt").toFile();
    Process p = new ProcessBuilder(cmd).redirectOutput(out).redirectError(err).start();
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "bin/dbksvd " + String.join(" ", args) + " did not end");
    p.getInputStream().close();
    // the stderr filter may write its last lines just after the JVM exits
    Thread.sleep(200);
    return new Result(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
        Files.readString(err.toPath(), StandardCharsets.UTF_8));
  }

  @Test
  void versionAndHelpPrintNoWarning() throws Exception {
    Result v = dbksvd("--version");
    assertEquals(0, v.code(), v.err());
    assertTrue(v.out().startsWith("dbksvd "), v.out());
    assertEquals("", v.err(), "stderr of --version");
    for (String command : HelpTest.COMMANDS) {
      Result h = dbksvd(command, "--help");
      assertEquals(0, h.code(), command + ": " + h.err());
      assertTrue(h.out().startsWith("Usage: dbksvd " + command), h.out());
      assertEquals("", h.err(), "stderr of " + command + " --help");
    }
  }

  @Test
  void aPlainCommandPrintsNothingOnStderrAndAnErrorIsOneLine() throws Exception {
    String data = tmp.resolve("data").toString();
    Result g = dbksvd("generate", "--output", data, "--dim", "16", "--atoms", "20", "--k", "2", "--samples", "500");
    assertEquals(0, g.code(), g.err());
    assertEquals("", g.err(), "stderr of generate");
    Result f = dbksvd("fit", "--input", data, "--output", tmp.resolve("model").toString(), "--atoms", "20", "--k",
        "2", "--batch-size", "200", "--iterations", "2");
    assertEquals(0, f.code(), f.err());
    assertEquals("", f.err(), "stderr of fit");
    Result bad = dbksvd("fit", "--input", data, "--output", tmp.resolve("model").toString(), "--atoms", "20");
    assertEquals(2, bad.code());
    assertEquals("dbksvd: error: output " + tmp.resolve("model") + " already exists; pass --overwrite to replace it\n",
        bad.err());
  }
}
