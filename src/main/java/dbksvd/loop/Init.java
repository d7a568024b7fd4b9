package dbksvd.loop;

/** How D starts ({@code dbksvd.fit.init}). */
public enum Init {
  /** m rows of the data (the first m of epoch 0's order), normalised: the original K-SVD's start. */
  SAMPLES,
  /** Entries uniform in [−0.5, 0.5], columns normalised: KSVD.jl's start. */
  UNIFORM;

  /** The name in the configuration and in model.json. */
  public String configName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public static Init of(String name) {
    return switch (name) {
      case "samples" -> SAMPLES;
      case "uniform" -> UNIFORM;
      default -> throw new IllegalArgumentException("init must be samples or uniform, got '" + name + "'");
    };
  }
}
