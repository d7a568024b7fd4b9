package dbksvd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every command answers {@code --help}, {@code -h} and {@code help CMD} with its usage on stdout and exit 0, before
 * any validation (required options missing) and without starting Spark.
 */
class HelpTest {
  static final String[] COMMANDS = {"generate", "fit", "encode", "evaluate", "export", "demo", "inspect", "report",
      "bench"};

  @ParameterizedTest
  @ValueSource(strings = {"generate", "fit", "encode", "evaluate", "export", "demo", "inspect", "report", "bench"})
  void helpPrintsUsageAndExitsZero(String command) {
    for (String[] args : new String[][] {{command, "--help"}, {command, "-h"}, {"help", command}}) {
      Cli.Run r = Cli.run(args);
      String what = String.join(" ", args);
      assertEquals(0, r.code(), what + ": " + r.err());
      assertTrue(r.out().startsWith("Usage: dbksvd " + command), what + " printed: " + r.out());
      assertTrue(r.out().contains("--set=KEY=VALUE") && r.out().contains("-h, --help"), r.out());
      assertEquals("", r.err(), what);
    }
  }

  @org.junit.jupiter.api.Test
  void topLevelHelpListsEveryCommandAndVersionPrintsIt() {
    Cli.Run r = Cli.run("--help");
    assertEquals(0, r.code());
    for (String c : COMMANDS) {
      assertTrue(r.out().contains("\n  " + c + " "), c + " missing from: " + r.out());
    }
    Cli.Run v = Cli.run("--version");
    assertEquals(0, v.code());
    assertTrue(v.out().startsWith("dbksvd "), v.out());
    Cli.Run fv = Cli.run("fit", "--version");
    assertEquals(v.out(), fv.out());
  }

  @org.junit.jupiter.api.Test
  void missingOptionsStillNameTheCommandsHelp() {
    Cli.Run r = Cli.run("fit");
    assertEquals(2, r.code());
    assertEquals("dbksvd: error: Missing required options: '--input=DATA', '--output=MODEL_DIR' (see dbksvd fit "
        + "--help)\n", r.err());
  }
}
