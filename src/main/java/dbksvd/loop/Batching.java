package dbksvd.loop;

/** How the outer batches are drawn ({@code dbksvd.fit.batching}). */
public enum Batching {
  /**
   * Rows: every epoch a seeded permutation of all N rows ({@link RowOrder}), cut into batches of n rows; on Spark a
   * staging pass per epoch sends each row to its batch (a shuffle of the whole dataset).
   */
  ROWS,
  /**
   * Splits: every epoch a seeded permutation of the input's splits (Spark's partitions of the file scan), batch t
   * the consecutive splits that make about n rows ({@link BatchPlan}); iteration t reads only its splits, no
   * shuffle. Spark only.
   */
  SPLITS,
  /**
   * Window: {@link #SPLITS}' batches taken W at a time ({@code dbksvd.fit.window}), the rows of every split of a
   * window dealt over its W batches by a seeded permutation ({@link WindowPlan}); the window's rows are read once
   * and kept in executor memory for its W iterations, no shuffle. Spark only.
   */
  WINDOW;

  /** The name in the configuration and in model.json. */
  /** Whether the batches are planned from the input's splits ({@link #SPLITS}, {@link #WINDOW}). */
  public boolean fromSplits() {
    return this != ROWS;
  }

  public String configName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public static Batching of(String name) {
    return switch (name) {
      case "rows" -> ROWS;
      case "splits" -> SPLITS;
      case "window" -> WINDOW;
      default -> throw new IllegalArgumentException("batching must be rows, splits or window, got '" + name + "'");
    };
  }
}
