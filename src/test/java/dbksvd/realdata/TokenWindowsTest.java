package dbksvd.realdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.List;

class TokenWindowsTest {
  @Test
  void workedExampleOfTheClassComment() {
    assertEquals(List.of(new TokenWindows.Window(0, 126, 0, 95), new TokenWindows.Window(64, 190, 95, 159),
        new TokenWindows.Window(128, 254, 159, 214), new TokenWindows.Window(174, 300, 214, 300)),
        TokenWindows.plan(300, 126, 64));
  }

  @Test
  void everyTokenOnceWithContextOnBothSides() {
    for (int content : new int[] {10, 126, 254}) {
      for (int stride : new int[] {1, content / 2, content}) {
        for (int n = 0; n <= 3 * content + 7; n++) {
          List<TokenWindows.Window> ws = TokenWindows.plan(n, content, stride);
          int next = 0;
          for (TokenWindows.Window w : ws) {
            assertEquals(next, w.emitFrom(), "n " + n + " emitted in order, each once");
            assertTrue(w.start() >= 0 && w.end() <= n && w.end() - w.start() <= content, "inside the document");
            assertTrue(w.start() <= w.emitFrom() && w.emitTo() <= w.end() && w.emitFrom() < w.emitTo());
            int margin = (content - stride) / 2;
            // a token sees at least `margin` tokens either side, unless the document ends first
            assertTrue(w.emitFrom() - w.start() >= Math.min(margin, w.emitFrom()), "left context, n " + n);
            assertTrue(w.end() - w.emitTo() >= Math.min(margin, n - w.emitTo()), "right context, n " + n);
            next = w.emitTo();
          }
          assertEquals(n, next, "all tokens emitted");
        }
      }
    }
  }

  @Test
  void refusesAStrideLongerThanTheWindow() {
    assertThrows(IllegalArgumentException.class, () -> TokenWindows.plan(100, 10, 11));
  }

  @Test
  void snippetBracketsTheTokenInItsWords() {
    String text = "one two three four five six seven\neight nine";
    int at = text.indexOf("five");
    assertEquals("… three four [five] six seven …", Snippet.around(text, at, at + 4, 2));
    assertEquals("[one] two", Snippet.around(text, 0, 3, 1).replace(" …", ""));
    int piece = text.indexOf("ight");
    assertEquals("… seven e[ight] nine", Snippet.around(text, piece, piece + 4, 2));
  }
}
