package dbksvd.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.io.ByteArrayOutputStream;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The bulk array serializers round-trip every bit: empty arrays, one element, and arrays over several chunks. */
class KryoSetupTest {
  static Object roundTrip(Kryo kryo, Object o) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (Output out = new Output(bytes)) {
      kryo.writeClassAndObject(out, o);
    }
    try (Input in = new Input(bytes.toByteArray())) {
      return kryo.readClassAndObject(in);
    }
  }

  @Test
  void bulkArraysRoundTrip() {
    Kryo kryo = new Kryo();
    new KryoSetup().registerClasses(kryo);
    SplittableRandom rng = new SplittableRandom(9);
    for (int len : new int[] {0, 1, 7, (1 << 20) / 8 + 3, (1 << 20) / 4 * 2 + 5}) {
      float[] f = new float[len];
      double[] d = new double[len];
      long[] l = new long[len];
      for (int i = 0; i < len; i++) {
        f[i] = Float.intBitsToFloat(rng.nextInt());
        d[i] = Double.longBitsToDouble(rng.nextLong());
        l[i] = rng.nextLong();
      }
      float[] f2 = (float[]) roundTrip(kryo, f);
      assertEquals(len, f2.length);
      for (int i = 0; i < len; i++) {
        assertEquals(Float.floatToRawIntBits(f[i]), Float.floatToRawIntBits(f2[i]), "float " + i);
      }
      double[] d2 = (double[]) roundTrip(kryo, d);
      assertEquals(len, d2.length);
      for (int i = 0; i < len; i++) {
        assertEquals(Double.doubleToRawLongBits(d[i]), Double.doubleToRawLongBits(d2[i]), "double " + i);
      }
      assertArrayEquals(l, (long[]) roundTrip(kryo, l));
      RowSource.Block b = (RowSource.Block) roundTrip(kryo, new RowSource.Block(l, f));
      assertArrayEquals(l, b.rowId());
      assertEquals(len, b.Y().length);
      RowSource.Block[] dealt = (RowSource.Block[]) roundTrip(kryo, new RowSource.Block[] {b,
          new RowSource.Block(new long[0], new float[0])});
      assertArrayEquals(l, dealt[0].rowId());
      assertEquals(0, dealt[1].n());
    }
  }
}
