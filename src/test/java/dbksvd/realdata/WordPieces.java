package dbksvd.realdata;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The WordPiece tokenizer of the sentence model, read from the tokenizer JSON that ships in the model's jar and run
 * by DJL's binding of HuggingFace tokenizers (its native library is inside DJL's jar). No special tokens, no
 * truncation, no padding: the JSON asks for truncation at 128 and padding to 128, which would cut every document;
 * {@link TokenWindows} does the windowing instead.
 */
final class WordPieces {
  static final String RESOURCE = "all-minilm-l6-v2-tokenizer.json";

  /**
   * A text's tokens: ids, pieces and each piece's span [start, end) in the text, e.g. for "Set errno.":
   * ids [2275, 9413, 19139, 1012], pieces ["set", "er", "##rno", "."], start [0, 4, 6, 9], end [3, 6, 9, 10] (the
   * uncased model lowercases; the spans point at the original characters).
   */
  record Tokens(long[] ids, String[] pieces, int[] start, int[] end) {
    int size() {
      return ids.length;
    }
  }

  private static WordPieces shared;

  private final HuggingFaceTokenizer tokenizer;
  final long cls;
  final long sep;

  private WordPieces() {
    try (InputStream in = resource(RESOURCE)) {
      tokenizer = HuggingFaceTokenizer.newInstance(in,
          Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
      long[] special = tokenizer.encode("", true, false).getIds();
      if (special.length != 2) {
        throw new IllegalStateException("expected [CLS] [SEP] around an empty text, got " + special.length + " ids");
      }
      cls = special[0];
      sep = special[1];
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One tokenizer per JVM (the driver and, in local mode, every task). */
  static synchronized WordPieces shared() {
    if (shared == null) {
      shared = new WordPieces();
    }
    return shared;
  }

  static InputStream resource(String name) throws IOException {
    InputStream in = WordPieces.class.getClassLoader().getResourceAsStream(name);
    if (in == null) {
      throw new IOException("resource " + name + " is not on the class path (it ships in " + TokenStates.ARTIFACT
          + "; run bin/real-embeddings, which uses target/test-classpath.txt)");
    }
    return in;
  }

  /** Synchronized: the binding's thread safety is not documented, and tokenizing costs little beside the model. */
  synchronized Tokens tokenize(String text) {
    Encoding e = tokenizer.encode(text, false, false);
    long[] ids = e.getIds();
    String[] pieces = e.getTokens();
    CharSpan[] spans = e.getCharTokenSpans();
    int[] start = new int[ids.length];
    int[] end = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      start[i] = spans[i].getStart();
      end[i] = spans[i].getEnd();
    }
    return new Tokens(ids, pieces, start, end);
  }
}
