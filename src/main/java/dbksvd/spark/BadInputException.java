package dbksvd.spark;

/**
 * Input that dbksvd refuses: the message is the one line the user sees (file, row, column, value). Thrown inside
 * tasks, it reaches the driver wrapped in Spark's exceptions; {@link #find} digs it out.
 */
public final class BadInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BadInputException(String message) {
    super(message);
  }

  /** The BadInputException in a cause chain (Spark wraps task failures, sometimes only as a message). */
  public static String find(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof BadInputException) {
        return c.getMessage();
      }
      String msg = c.getMessage();
      if (msg != null) {
        int i = msg.indexOf(BadInputException.class.getName() + ": ");
        if (i >= 0) {
          String rest = msg.substring(i + BadInputException.class.getName().length() + 2);
          int nl = rest.indexOf('\n');
          return nl >= 0 ? rest.substring(0, nl) : rest;
        }
      }
    }
    return null;
  }
}
