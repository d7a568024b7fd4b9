package dbksvd.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs dbksvd command lines in this JVM as a user types them: the exit code and what went to stdout and stderr. */
public final class Cli {
  private Cli() {}

  /** A command's exit code and what it wrote to stdout and stderr. */
  public record Run(int code, String out, String err) {}

  /** Runs a command line; prints its time, and what it printed, after it (a failing test shows both). */
  public static Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    long t0 = System.nanoTime();
    int code;
    try {
      code = Main.execute(args);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
    Run r = new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    oldOut.printf("%s %s: exit %d, %.1f s%n", args.length > 0 ? args[0] : "", args.length > 2 ? args[2] : "", code,
        (System.nanoTime() - t0) / 1e9);
    oldOut.print(r.out());
    oldErr.print(r.err());
    return r;
  }
}
