package dbksvd.cli;

import dbksvd.spark.FitJob;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;

/**
 * {@code dbksvd <command>}: the command line, one class per command. Each command reads its settings
 * (reference.conf, --conf, --set, flags), starts or joins Spark ({@link SparkCommand}) and calls its job. Errors end
 * in one line on stderr and a non-zero exit ({@link Errors}); {@code --help} and {@code -h} print a command's usage
 * and exit 0 before anything is checked, as does {@code dbksvd help CMD}.
 */
@Command(name = "dbksvd", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "DB-KSVD dictionary learning for embeddings on Apache Spark.",
    subcommands = {CommandLine.HelpCommand.class, GenerateCommand.class, FitCommand.class, EncodeCommand.class,
        EvaluateCommand.class, DemoCommand.class, BenchCommand.class, ExportCommand.class, InspectCommand.class,
        ReportCommand.class})
public final class Main implements Runnable {
  /** Standard output as it is when written to (so that a caller, a test, can redirect it with System.setOut). */
  static final PrintStream OUT = new PrintStream(new OutputStream() {
    @Override
    public void write(int b) {
      System.out.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      System.out.write(b, off, len);
    }

    @Override
    public void flush() {
      System.out.flush();
    }
  }, true);

  @Override
  public void run() {
    new CommandLine(this).usage(OUT);
  }

  public static void main(String[] args) {
    routeJavaLoggingToSpark();
    System.exit(execute(args));
  }

  /**
   * Runs a command line and returns the exit code (0 ok, 1 failure, 2 bad input or usage). Bad input and usage
   * errors end in one line {@code dbksvd: error: ...} and no stack trace; anything else prints the stack trace.
   */
  public static int execute(String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setOut(new PrintWriter(OUT, true));
    cl.getSubcommands().values().forEach(sub -> sub.getCommandSpec().versionProvider(new Version()));
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      String bad = Errors.badInput(e);
      if (bad != null) {
        System.err.println("dbksvd: error: " + bad);
        return 2;
      }
      System.err.println("dbksvd: error: " + e);
      e.printStackTrace(System.err);
      return 1;
    });
    cl.setParameterExceptionHandler((e, params) -> {
      System.err.println("dbksvd: error: " + Errors.firstLine(e.getMessage()) + " (see "
          + e.getCommandLine().getCommandSpec().qualifiedName() + " --help)");
      return 2;
    });
    return cl.execute(args);
  }

  /** The numerical core logs through java.util.logging; send it to Spark's log4j so one config rules both. */
  static void routeJavaLoggingToSpark() {
    try {
      Class<?> bridge = Class.forName("org.slf4j.bridge.SLF4JBridgeHandler");
      bridge.getMethod("removeHandlersForRootLogger").invoke(null);
      bridge.getMethod("install").invoke(null);
    } catch (ReflectiveOperationException | LinkageError e) {
      // no bridge on the class path: java.util.logging prints to stderr itself
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"dbksvd " + FitJob.version()};
    }
  }
}
