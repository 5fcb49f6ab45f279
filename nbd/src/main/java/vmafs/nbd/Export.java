package vmafs.nbd;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import vmafs.image.ImageContent;

/**
 * One export of the server: the name a client asks for ({@code drive-scsi0}), a description for
 * people ({@code NBD_OPT_LIST}, {@code nbdinfo}), and the bytes and hole map it serves.
 */
public record Export(String name, String description, ImageContent content) {
  public Export {
    Objects.requireNonNull(content, "content");
    checkString("export name", name);
    checkString("export description", description);
    if (name.isEmpty()) {
      throw new IllegalArgumentException("an export name must not be empty (the empty name means the default export)");
    }
  }

  private static void checkString(String what, String s) {
    Objects.requireNonNull(s, what);
    if (s.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(what + " contains a NUL character: " + s);
    }
    if (s.getBytes(StandardCharsets.UTF_8).length > NbdProtocol.MAX_STRING) {
      throw new IllegalArgumentException(what + " is longer than " + NbdProtocol.MAX_STRING + " bytes");
    }
  }
}
