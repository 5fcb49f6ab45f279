package vmafs.cli.log;

/**
 * Text an archive chose (config and device names, messages quoting them), made safe for a
 * terminal or a log: a name with a newline could forge a line of {@code vmafs list}, and escape
 * sequences could rewrite the screen. Control characters (C0, DEL, C1) become {@code \xNN}; Unicode
 * line separators and format characters (bidirectional overrides) become a backslash, 'u' and the
 * code point in hex in braces; a backslash is doubled, so the result is unambiguous. Everything
 * else, including non-ASCII letters, is kept. {@code --json} output is exact instead: JSON has its own escapes.
 */
public final class Printable {
  private Printable() {}

  public static String of(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      String esc = escape(cp);
      if (esc != null && sb == null) {
        sb = new StringBuilder(s.length() + 8).append(s, 0, i);
      }
      if (sb != null) {
        if (esc != null) {
          sb.append(esc);
        } else {
          sb.appendCodePoint(cp);
        }
      }
      i += Character.charCount(cp);
    }
    return sb == null ? s : sb.toString();
  }

  private static String escape(int cp) {
    if (cp == '\\') {
      return "\\\\";
    }
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
      return String.format("\\x%02x", cp);
    }
    int type = Character.getType(cp);
    if (type == Character.FORMAT || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR || type == Character.SURROGATE) {
      return String.format("\\u{%04x}", cp);
    }
    return null;
  }
}
