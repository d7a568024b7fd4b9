package dbksvd.spark;

import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.unsafe.Platform;
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
 * array&lt;double&gt;, a Spark ML vector, or {@code binary} holding d float32 values little-endian (4·d bytes, the
 * layout of numpy's {@code '<f4'}.tobytes(); {@code generate --format binary} writes it). The binary form is the fast
 * one: Parquet stores it as one byte string per row, with no repetition levels to decode per element. Every value is checked: a null, a NaN, an infinity or a wrong length is
 * refused with one line naming the file, the row, the column and the value. All-zero rows are the caller's call
 * ({@link #isZero}, {@link #zeroRow}): refused or skipped as {@code dbksvd.input.zero-rows} says.
 */
public final class EmbeddingColumn implements Serializable {
  private static final long serialVersionUID = 1L;

  public enum Kind { FLOAT_ARRAY, DOUBLE_ARRAY, VECTOR, FLOAT32_BINARY }

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
    if (t.equals(DataTypes.BinaryType)) {
      return new EmbeddingColumn(name, Kind.FLOAT32_BINARY);
    }
    throw new BadInputException("column '" + name + "' has type " + t.simpleString()
        + "; expected array<float>, array<double>, a Spark ML vector or binary (float32 little-endian)");
  }

  /** Length of the embedding in this row (for finding d), or -1 when null. */
  public int length(InternalRow row, int ordinal) {
    if (row.isNullAt(ordinal)) {
      return -1;
    }
    if (kind == Kind.VECTOR) {
      return vectorSize(row.getStruct(ordinal, 4));
    }
    if (kind == Kind.FLOAT32_BINARY) {
      return row.getBinary(ordinal).length / Float.BYTES;
    }
    return row.getArray(ordinal).numElements();
  }

  /** d of a float32 binary value of this many bytes; a length that is not a multiple of 4 is refused. */
  public int binaryDimension(int bytes, Where where) {
    if (bytes % Float.BYTES != 0) {
      throw new BadInputException(where.describe() + ": column '" + name + "' holds " + bytes + " bytes, not a "
          + "whole number of float32 values (4 bytes each)");
    }
    return bytes / Float.BYTES;
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
      case FLOAT32_BINARY -> {
        byte[] b = row.getBinary(ordinal);
        return b.length % Float.BYTES == 0 && allZeros(b); // a ragged length is refused when decoded
      }
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

  /** True when every float32 of b is ±0 (a NaN is not zero: it is refused when decoded). */
  private static boolean allZeros(byte[] b) {
    for (int i = 0; i < b.length; i += Float.BYTES) {
      if ((float) LE_FLOAT.get(b, i) != 0f) {
        return false;
      }
    }
    return true;
  }

  private static final java.lang.invoke.VarHandle LE_FLOAT =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(float[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

  /** Copies d float32 little-endian values from b into dst[off..off+d) (b has been checked to hold 4·d bytes). */
  static void floatsFromBytes(byte[] b, float[] dst, int off, int d) {
    java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(dst, off, d);
  }

  /** float32 little-endian bytes of y[off..off+d), the binary embedding layout. */
  public static byte[] bytesFromFloats(float[] y, int off, int d) {
    byte[] b = new byte[d * Float.BYTES];
    java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(y, off, d);
    return b;
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
      case FLOAT32_BINARY -> {
        if (NATIVE_LE && row instanceof UnsafeRow u) { // copy the bytes straight from the row into dst
          long offsetAndSize = u.getLong(ordinal);
          int bytes = (int) offsetAndSize;
          checkLength(binaryDimension(bytes, where), d, where, dFrom);
          Platform.copyMemory(u.getBaseObject(), u.getBaseOffset() + (offsetAndSize >>> 32), dst,
              Platform.FLOAT_ARRAY_OFFSET + (long) Float.BYTES * off, bytes);
        } else {
          byte[] b = row.getBinary(ordinal);
          checkLength(binaryDimension(b.length, where), d, where, dFrom);
          floatsFromBytes(b, dst, off, d);
        }
      }
      case FLOAT_ARRAY -> {
        ArrayData a = row.getArray(ordinal);
        checkLength(a.numElements(), d, where, dFrom);
        if (anyNull(a)) {
          checkNoNulls(a, where);
        }
        if (a instanceof UnsafeArrayData u) { // one bulk copy of the values that follow the header
          Platform.copyMemory(u.getBaseObject(),
              u.getBaseOffset() + UnsafeArrayData.calculateHeaderPortionInBytes(d), dst,
              Platform.FLOAT_ARRAY_OFFSET + (long) Float.BYTES * off, (long) Float.BYTES * d);
        } else {
          for (int i = 0; i < d; i++) {
            dst[off + i] = a.getFloat(i);
          }
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
    if (!allFinite(dst, off, d)) {
      for (int i = 0; i < d; i++) {
        float x = dst[off + i];
        if (!Float.isFinite(x)) {
          throw new BadInputException(where.describe() + ": column '" + name + "' has " + x + " at position " + i);
        }
      }
    }
  }

  private static final boolean NATIVE_LE = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;

  /** No NaN or infinity in y[off..off+d): no exponent field is all ones (an int max the JIT vectorises). */
  static boolean allFinite(float[] y, int off, int d) {
    int top = 0;
    for (int i = 0; i < d; i++) {
      top = Math.max(top, Float.floatToRawIntBits(y[off + i]) & 0x7f800000);
    }
    return top != 0x7f800000;
  }

  /** Whether the array holds a null: Spark's unsafe arrays keep a null bit per element after the length word. */
  private static boolean anyNull(ArrayData a) {
    if (a instanceof UnsafeArrayData u) {
      long bits = u.getBaseOffset() + 8;
      for (int w = 0; w < (u.numElements() + 63) / 64; w++) {
        if (Platform.getLong(u.getBaseObject(), bits + 8L * w) != 0) {
          return true;
        }
      }
      return false;
    }
    return true; // other kinds: the caller checks element by element
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
    if (v instanceof byte[] b && kind == Kind.FLOAT32_BINARY) {
      checkLength(binaryDimension(b.length, where), d, where, dFrom);
      floatsFromBytes(b, dst, off, d);
    } else if (v instanceof org.apache.spark.ml.linalg.Vector vec) {
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
