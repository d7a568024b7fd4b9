package dbksvd.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import dbksvd.encode.Encoder;
import dbksvd.loop.Batching;
import dbksvd.loop.FitParams;
import dbksvd.loop.Init;
import dbksvd.update.TopSingularTriplet;
import dbksvd.update.Update;

import java.io.File;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The configuration: reference.conf, then a user file (--conf), then --set key=value, then the command's flags.
 * Keys under {@code dbksvd} that reference.conf does not define are refused (a typo must not be silently ignored),
 * except below {@code dbksvd.spark.conf}, which holds arbitrary Spark settings.
 */
public final class Settings {
  /** Keys whose values are secrets (Spark's own redaction pattern): never echoed in an error message. */
  static final Pattern SECRET = Pattern.compile("(?i)secret|password|token|access[.]?key|credential");

  private Settings() {}

  public static Config load(File confFile, List<String> sets, Map<String, Object> flags) {
    return load(confFile, sets, flags, Map.of());
  }

  /**
   * As {@link #load(File, List, Map)}, with {@code defaults} between reference.conf and the user's file (a
   * command's own defaults, such as the demo's small shape, which --conf and --set still override).
   */
  public static Config load(File confFile, List<String> sets, Map<String, Object> flags,
      Map<String, Object> defaults) {
    Config reference = ConfigFactory.defaultReference();
    Config user = ConfigFactory.parseMap(defaults);
    if (confFile != null) {
      if (!confFile.isFile()) {
        throw new IllegalArgumentException("config file " + confFile + " does not exist");
      }
      try {
        user = ConfigFactory.parseFile(confFile, ConfigParseOptions.defaults().setAllowMissing(false));
      } catch (ConfigException e) {
        throw new IllegalArgumentException("config file " + confFile + ": " + e.getMessage());
      }
    }
    if (sets != null) {
      for (String s : sets) {
        int eq = s.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("--set expects key=value, got '" + (SECRET.matcher(s).find()
              ? "(redacted)" : s) + "'");
        }
        String key = s.substring(0, eq).trim();
        String value = s.substring(eq + 1).trim();
        try {
          user = ConfigFactory.parseString(key + " = " + quoteIfNeeded(value)).withFallback(user);
        } catch (ConfigException e) {
          // the parser quotes the text it choked on, which may be a credential's value
          throw new IllegalArgumentException("--set " + key + ": " + (SECRET.matcher(key).find()
              ? "not a valid HOCON key = value (value redacted)" : e.getMessage()));
        }
      }
    }
    Map<String, Object> flagMap = new HashMap<>();
    if (flags != null) {
      flags.forEach((k, v) -> {
        if (v != null) {
          flagMap.put(k, v);
        }
      });
    }
    Config merged = ConfigFactory.parseMap(flagMap).withFallback(user);
    checkKnown(merged, reference);
    Config all = merged.withFallback(reference).resolve();
    try {
      all.checkValid(reference, "dbksvd");
    } catch (ConfigException.ValidationFailed e) {
      throw new IllegalArgumentException("bad configuration: " + e.getMessage());
    }
    return all;
  }

  private static String quoteIfNeeded(String v) {
    if (v.startsWith("[") || v.startsWith("{") || v.startsWith("\"")) {
      return v;
    }
    return "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static void checkKnown(Config user, Config reference) {
    for (Map.Entry<String, ConfigValue> e : user.entrySet()) {
      String key = e.getKey();
      if (!key.startsWith("dbksvd.")) {
        throw new IllegalArgumentException("unknown config key '" + key + "': dbksvd's keys start with 'dbksvd.'");
      }
      if (key.startsWith("dbksvd.spark.conf.")) {
        continue;
      }
      if (!reference.hasPath(key)) {
        throw new IllegalArgumentException("unknown config key '" + key + "' (see reference.conf for the keys)");
      }
    }
  }

  /** The fit parameters from dbksvd.fit. */
  public static FitParams fitParams(Config c) {
    Config f = c.getConfig("dbksvd.fit");
    try {
      int[] budgets = f.getIntList("matryoshka-budgets").stream().mapToInt(Integer::intValue).toArray();
      return FitParams.builder(f.getInt("atoms"), f.getInt("k"))
          .batchSize(f.getInt("batch-size"))
          .iterations(f.getInt("iterations"))
          .encoder(f.getString("encoder"))
          .rtol(f.getDouble("rtol"))
          .matryoshka(FitParams.Matryoshka.of(f.getInt("matryoshka"), budgets))
          .update(Update.of(f.getString("update"), f.getInt("update-passes"), f.getInt("atom-batches")))
          .seed(f.getLong("seed"))
          .init(Init.of(f.getString("init")))
          .clearThreshold(f.getDouble("clear-threshold"))
          .lanczos(new TopSingularTriplet(f.getInt("lanczos.krylov"), f.getInt("lanczos.restarts"),
              f.getDouble("lanczos.tol")))
          .encodeChunk(f.getInt("encode-chunk"))
          .initDictionary(f.getString("init-dictionary"))
          .batching(Batching.of(f.getString("batching")))
          .window(f.getInt("window"))
          .build();
    } catch (ConfigException e) {
      throw new IllegalArgumentException("bad configuration: " + e.getMessage());
    }
  }

  /**
   * dbksvd.fit.time-budget in seconds: a number of seconds or a duration ("10m", "1h"); 0 = none. Not a fit parameter
   * (a resumed fit may have another), so not in {@link FitParams}.
   */
  public static double timeBudgetSeconds(Config c) {
    String path = "dbksvd.fit.time-budget";
    double s;
    try {
      s = c.getDouble(path);
    } catch (ConfigException.WrongType e) {
      try {
        s = c.getDuration(path).toNanos() / 1e9;
      } catch (ConfigException e2) {
        throw new IllegalArgumentException(path + " must be seconds or a duration such as 10m, got '"
            + c.getValue(path).unwrapped() + "'");
      }
    }
    if (!(s >= 0) || Double.isInfinite(s)) {
      throw new IllegalArgumentException(path + " must be 0 (none) or a positive number of seconds, got " + s);
    }
    return s;
  }

  /** dbksvd.input.zero-rows: refuse (the default) or skip all-zero embeddings. */
  /**
   * The encoder {@code encode} and {@code evaluate} code with: the model's own ({@code own}), unless
   * {@code dbksvd.encode.encoder} / {@code dbksvd.encode.rtol} (--encoder / --rtol) name another or another rtol;
   * k stays the model's.
   */
  public static Encoder encoderFor(Config c, Encoder own) {
    String name = c.getString("dbksvd.encode.encoder").trim();
    String rtolText = c.getString("dbksvd.encode.rtol").trim();
    if (name.isEmpty() && rtolText.isEmpty()) {
      return own;
    }
    double rtol = own.rtol();
    if (!rtolText.isEmpty()) {
      try {
        rtol = Double.parseDouble(rtolText);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("dbksvd.encode.rtol must be a number, got '" + rtolText + "'");
      }
    }
    if (!name.isEmpty() && !Encoder.NAMES.contains(name)) {
      throw new IllegalArgumentException("dbksvd.encode.encoder must be one of " + String.join(", ", Encoder.NAMES)
          + ", got '" + name + "'");
    }
    return Encoder.of(name.isEmpty() ? own.name() : name, own.k(), rtol);
  }

  public static ZeroRows zeroRows(Config c) {
    return ZeroRows.parse(c.getString("dbksvd.input.zero-rows"));
  }

  /** A double that may be written "inf". */
  public static double doubleOrInf(Config c, String path) {
    String s = c.getString(path).trim().toLowerCase();
    if (s.equals("inf") || s.equals("infinity") || s.equals("none")) {
      return Double.POSITIVE_INFINITY;
    }
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(path + " must be a number or inf, got '" + s + "'");
    }
  }
}
