package dbksvd;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * python3 with numpy for the tests that check dbksvd's files the way Python users read them. bin/setup-notebooks
 * installs both (CI runs it): under CI (the variable {@code CI} set) a missing one fails the test; elsewhere the
 * test is skipped, visibly.
 */
public final class Python {
  private Python() {}

  /** What a script printed (stdout and stderr together) and its exit code. */
  public record Result(int code, String output) {}

  /** Runs {@code python3 -c script args...}. */
  public static Result run(String script, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("python3", "-c", script));
    cmd.addAll(List.of(args));
    Process proc;
    try {
      proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      missing("python3 is not installed");
      throw e;
    }
    String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    int code = proc.waitFor();
    if (code != 0 && out.contains("No module named 'numpy'")) {
      missing("numpy is not installed");
    }
    return new Result(code, out);
  }

  private static void missing(String what) {
    String fix = what + " (run bin/setup-notebooks)";
    if (System.getenv("CI") != null) {
      throw new AssertionError(fix + "; CI must have it");
    }
    Assumptions.abort(fix);
  }
}
