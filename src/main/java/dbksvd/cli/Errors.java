package dbksvd.cli;

import dbksvd.spark.BadInputException;

import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which failures are the user's (bad input, configuration, paths: one line, exit 2) and which are not (a bug, a lost
 * executor: the stack trace, exit 1), and the one line for the first kind.
 */
final class Errors {
  private Errors() {}

  /**
   * The one line for an error caused by the input, the configuration or the paths, or null for anything else.
   * Failures inside Spark tasks reach the driver wrapped in SparkExceptions, with the task's exception as the cause
   * or, on a cluster, sometimes only inside the message.
   */
  static String badInput(Throwable e) {
    String bad = BadInputException.find(e);
    if (bad != null) {
      return bad;
    }
    // dbksvd's own checks on the driver: configuration, parameters, paths, model directories
    if (e instanceof IllegalArgumentException || e instanceof IOException) {
      return firstLine(e.getMessage());
    }
    String unreadable = null;
    Throwable unreadableAt = null;
    for (Throwable c = e; c != null; c = c.getCause()) {
      String msg = c.getMessage() == null ? "" : c.getMessage();
      String notParquet = lineWith(msg, "is not a Parquet file"); // names the file; corrupt or truncated
      if (notParquet != null) {
        return sparkMessage(notParquet);
      }
      if (c instanceof org.apache.spark.sql.AnalysisException) { // PATH_NOT_FOUND, UNABLE_TO_INFER_SCHEMA, ...
        return sparkMessage(msg);
      }
      if (c instanceof java.io.FileNotFoundException || c instanceof java.nio.file.AccessDeniedException
          || c instanceof org.apache.hadoop.security.AccessControlException
          || c instanceof org.apache.parquet.io.ParquetDecodingException) {
        return sparkMessage(msg);
      }
      if (unreadable == null && msg.contains("[FAILED_READ_FILE")) {
        unreadable = sparkMessage(lineWith(msg, "[FAILED_READ_FILE"));
        unreadableAt = c;
      }
    }
    if (unreadable != null) { // a file Spark could not read, for a reason not recognised above: say which and why
      Throwable root = rootCause(unreadableAt);
      return root == unreadableAt ? unreadable : unreadable + " (" + sparkMessage(root.getMessage()) + ")";
    }
    // the cause chain was cut (a cluster that could not ship the exception back): the task's error is in the text
    String msg = String.valueOf(e.getMessage());
    for (String marker : new String[] {"is not a Parquet file", "ParquetDecodingException", "FileNotFoundException",
        "[FAILED_READ_FILE"}) {
      String line = lineWith(msg, marker);
      if (line != null) {
        return sparkMessage(line);
      }
    }
    return null;
  }

  static Throwable rootCause(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }

  /** The line of a (multi-line) message that holds {@code marker}, without the exception class before it. */
  static String lineWith(String msg, String marker) {
    if (msg == null) {
      return null;
    }
    for (String line : msg.split("\n")) {
      if (line.contains(marker)) {
        return line;
      }
    }
    return null;
  }

  private static final Pattern EXCEPTION_NAME = Pattern.compile("([\\w$]+\\.)+[\\w$]*(Exception|Error): ");

  /**
   * A Spark error message as one readable line: its first line from after the last "some.package.SomeException: "
   * in it (Spark's "Job aborted ... Lost task ...: " preamble goes too), without the "[ERROR_CLASS] " prefix and the
   * " SQLSTATE: ..." suffix.
   */
  static String sparkMessage(String msg) {
    String s = firstLine(msg).trim();
    Matcher m = EXCEPTION_NAME.matcher(s);
    int from = 0;
    while (m.find()) {
      from = m.end();
    }
    s = s.substring(from);
    s = s.replaceFirst("^\\[[A-Z0-9_.]+\\] ", "");
    s = s.replaceFirst("\\s*SQLSTATE: \\w+\\s*$", "");
    return s.isEmpty() ? "(no message)" : s;
  }

  static String firstLine(String s) {
    if (s == null) {
      return "(no message)";
    }
    int nl = s.indexOf('\n');
    return nl >= 0 ? s.substring(0, nl) : s;
  }
}
