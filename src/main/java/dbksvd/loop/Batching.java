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
  SPLITS;

  /** The name in the configuration and in model.json. */
  public String configName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public static Batching of(String name) {
    return switch (name) {
      case "rows" -> ROWS;
      case "splits" -> SPLITS;
      default -> throw new IllegalArgumentException("batching must be rows or splits, got '" + name + "'");
    };
  }
}
