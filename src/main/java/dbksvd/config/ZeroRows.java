package dbksvd.config;

/**
 * What to do with an all-zero embedding ({@code dbksvd.input.zero-rows}): refuse it (the default: a zero row
 * usually means a broken upstream step) or skip it (left out of every batch, of {@code init = samples}, of the row
 * count and of {@code evaluate}; {@code encode} gives it the empty code).
 */
public enum ZeroRows {
  REFUSE, SKIP;

  public static ZeroRows parse(String s) {
    return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "refuse" -> REFUSE;
      case "skip" -> SKIP;
      default -> throw new IllegalArgumentException("dbksvd.input.zero-rows must be refuse or skip, got '" + s
          + "'");
    };
  }
}
