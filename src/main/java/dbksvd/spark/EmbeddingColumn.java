package dbksvd.spark;

import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Decodes the embedding column straight from Spark's internal rows into float[] (no boxing): array&lt;float&gt;,
 * array&lt;double&gt; or a Spark ML vector. Every value is checked: a null, a NaN, an infinity or a wrong length is
 * refused with one line naming the file, the row, the column and the value. All-zero rows are the caller's call
 * ({@link #isZero}, {@link #zeroRow}): refused or skipped as {@code dbksvd.input.zero-rows} says.
 */
public final class EmbeddingColumn implements Serializable {
  private static final long serialVersionUID = 1L;

  public enum Kind { FLOAT_ARRAY, DOUBLE_ARRAY, VECTOR }

  public final String name;
  public final Kind kind;

  private EmbeddingColumn(String name, Kind kind) {
    this.name = name;
    this.kind = kind;
  }

  /** Checks that the schema has the column with a usable type. */
  public static EmbeddingColumn of(StructType schema, String name) {
    StructField field = null;
    for (StructField f : schema.fields()) {
      if (f.name().equals(name)) {
        field = f;
      }
    }
    if (field == null) {
      throw new BadInputException("input has no column '" + name + "'; its columns are "
          + Arrays.toString(schema.fieldNames()) + " (choose one with --column)");
    }
    DataType t = field.dataType();
    if (t instanceof ArrayType a && a.elementType().equals(DataTypes.FloatType)) {
      return new EmbeddingColumn(name, Kind.FLOAT_ARRAY);
    }
    if (t instanceof ArrayType a && a.elementType().equals(DataTypes.DoubleType)) {
      return new EmbeddingColumn(name, Kind.DOUBLE_ARRAY);
    }
    if (t.equals(SQLDataTypes.VectorType())) {
      return new EmbeddingColumn(name, Kind.VECTOR);
    }
    throw new BadInputException("column '" + name + "' has type " + t.simpleString()
        + "; expected array<float>, array<double> or a Spark ML vector");
  }

  /** Length of the embedding in this row (for finding d), or -1 when null. */
  public int length(InternalRow row, int ordinal) {
    if (row.isNullAt(ordinal)) {
      return -1;
    }
    if (kind == Kind.VECTOR) {
      return vectorSize(row.getStruct(ordinal, 4));
    }
    return row.getArray(ordinal).numElements();
  }

  /** A Spark ML vector's size: a dense vector leaves the size field null and has one value per entry. */
  private static int vectorSize(InternalRow v) {
    return v.getByte(0) == 1 ? v.getArray(3).numElements() : v.getInt(1);
  }

  /**
   * True when this row's embedding is present and every entry is zero (a null, a null entry or a NaN is not: those
   * are refused when decoded).
   */
  public boolean isZero(InternalRow row, int ordinal) {
    if (row.isNullAt(ordinal)) {
      return false;
    }
    ArrayData a;
    switch (kind) {
      case FLOAT_ARRAY -> {
        a = row.getArray(ordinal);
        for (int i = 0; i < a.numElements(); i++) {
          if (a.isNullAt(i) || a.getFloat(i) != 0f) {
            return false;
          }
        }
        return true;
      }
      case DOUBLE_ARRAY -> a = row.getArray(ordinal);
      default -> a = row.getStruct(ordinal, 4).getArray(3);
    }
    for (int i = 0; i < a.numElements(); i++) {
      if (a.isNullAt(i) || a.getDouble(i) != 0.0) {
        return false;
      }
    }
    return true;
  }

  /** True when dst[off..off+d) is all zeros. */
  public static boolean isZero(float[] y, int off, int d) {
    for (int i = 0; i < d; i++) {
      if (y[off + i] != 0f) {
        return false;
      }
    }
    return true;
  }

  /** The error for an all-zero row under {@code dbksvd.input.zero-rows = refuse}. */
  public BadInputException zeroRow(Where where) {
    return new BadInputException(where.describe() + ": column '" + name + "' is all zeros (usually a broken "
        + "upstream step); --set dbksvd.input.zero-rows=skip leaves such rows out");
  }

  /**
   * Writes the embedding of this row into dst[off..off+d).
   *
   * @param where describes the row for error messages, e.g. "file part-0.parquet row 17"
   * @param dFrom where d came from, for the wrong-length message, e.g. "the length of file a.parquet row 0"
   */
  public void decode(InternalRow row, int ordinal, float[] dst, int off, int d, Where where, String dFrom) {
    if (row.isNullAt(ordinal)) {
      throw new BadInputException(where.describe() + ": column '" + name + "' is null");
    }
    switch (kind) {
      case FLOAT_ARRAY -> {
        ArrayData a = row.getArray(ordinal);
        checkLength(a.numElements(), d, where, dFrom);
        checkNoNulls(a, where);
        for (int i = 0; i < d; i++) {
          dst[off + i] = a.getFloat(i);
        }
      }
      case DOUBLE_ARRAY -> {
        ArrayData a = row.getArray(ordinal);
        checkLength(a.numElements(), d, where, dFrom);
        checkNoNulls(a, where);
        for (int i = 0; i < d; i++) {
          dst[off + i] = (float) a.getDouble(i);
        }
      }
      case VECTOR -> {
        InternalRow v = row.getStruct(ordinal, 4);
        checkLength(vectorSize(v), d, where, dFrom);
        ArrayData values = v.getArray(3);
        if (v.getByte(0) == 1) { // dense
          for (int i = 0; i < d; i++) {
            dst[off + i] = (float) values.getDouble(i);
          }
        } else {
          Arrays.fill(dst, off, off + d, 0f);
          ArrayData idx = v.getArray(2);
          for (int t = 0; t < idx.numElements(); t++) {
            dst[off + idx.getInt(t)] = (float) values.getDouble(t);
          }
        }
      }
    }
    for (int i = 0; i < d; i++) {
      float x = dst[off + i];
      if (!Float.isFinite(x)) {
        throw new BadInputException(where.describe() + ": column '" + name + "' has " + x + " at position " + i);
      }
    }
  }

  /**
   * Writes the embedding of an external Row's field into dst[off..off+d) (the Dataset&lt;Row&gt; path, where d is
   * the model's dimension).
   */
  public void decodeRow(org.apache.spark.sql.Row row, int field, float[] dst, int off, int d, Where where) {
    String dFrom = "the model's dimension d";
    if (row.isNullAt(field)) {
      throw new BadInputException(where.describe() + ": column '" + name + "' is null");
    }
    Object v = row.get(field);
    if (v instanceof org.apache.spark.ml.linalg.Vector vec) {
      checkLength(vec.size(), d, where, dFrom);
      Arrays.fill(dst, off, off + d, 0f);
      vec.foreachActive((i, x) -> {
        dst[off + (Integer) i] = (float) (double) (Double) x;
        return scala.runtime.BoxedUnit.UNIT;
      });
    } else if (v instanceof scala.collection.Seq<?> seq) {
      checkLength(seq.size(), d, where, dFrom);
      for (int i = 0; i < d; i++) {
        Object x = seq.apply(i);
        if (x == null) {
          throw new BadInputException(where.describe() + ": column '" + name + "' has a null at position " + i);
        }
        dst[off + i] = ((Number) x).floatValue();
      }
    } else {
      throw new BadInputException(where.describe() + ": column '" + name + "' holds " + v.getClass().getName());
    }
    for (int i = 0; i < d; i++) {
      if (!Float.isFinite(dst[off + i])) {
        throw new BadInputException(where.describe() + ": column '" + name + "' has " + dst[off + i]
            + " at position " + i);
      }
    }
  }

  private void checkLength(int len, int d, Where where, String dFrom) {
    if (len != d) {
      throw new BadInputException(where.describe() + ": column '" + name + "' has length " + len
          + ", expected " + d + " (" + dFrom + ")");
    }
  }

  private void checkNoNulls(ArrayData a, Where where) {
    for (int i = 0; i < a.numElements(); i++) {
      if (a.isNullAt(i)) {
        throw new BadInputException(where.describe() + ": column '" + name + "' has a null at position " + i);
      }
    }
  }

  /** Lazily built description of a row's location, for error messages only. */
  @FunctionalInterface
  public interface Where {
    String describe();
  }
}
