package vmafs.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import org.junit.jupiter.api.Test;
import vmafs.source.CorruptArchiveException.Part;
import vmafs.source.CorruptArchiveException.Where;

/** The message a user reads is rendered from the fields: archive, part and number, offset, what. */
class CorruptArchiveExceptionTest {
  @Test
  void theMessageNamesTheArchiveThePartAndTheCompressedOffset() {
    CorruptArchiveException e = new CorruptArchiveException(
        Where.of("x.vma.zst", Part.ZSTD_FRAME, 3, 4096), "content checksum mismatch");
    assertEquals("x.vma.zst: zstd frame #3 at compressed offset 4096: content checksum mismatch",
        e.getMessage());
    assertEquals("x.vma.zst", e.archive());
    assertEquals(4096, e.offset());
    assertEquals(Part.ZSTD_FRAME, e.where().part());
    assertEquals(3, e.where().index());
    assertEquals("content checksum mismatch", e.problem());
  }

  @Test
  void whatIsNotKnownIsLeftOut() {
    assertEquals("x.gz: at compressed offset 7: trailing garbage",
        new CorruptArchiveException(Where.at("x.gz", 7), "trailing garbage").getMessage());
    assertEquals("x.gz: gzip member at compressed offset 0: bad magic", new CorruptArchiveException(
        Where.of("x.gz", Part.GZIP_MEMBER, CorruptArchiveException.NONE, 0), "bad magic").getMessage());
    assertEquals("x.lzo: block #5: decoded to 3 bytes", new CorruptArchiveException(
        Where.of("x.lzo", Part.BLOCK, 5, CorruptArchiveException.NONE), "decoded to 3 bytes").getMessage());
    assertEquals("x.zst: holds no data",
        new CorruptArchiveException(Where.archive("x.zst"), "holds no data").getMessage());
  }

  @Test
  void checkThrowsOnlyWhenTheConditionFails() throws CorruptArchiveException {
    Where w = Where.of("a.lzo", Part.LZOP_HEADER, CorruptArchiveException.NONE, 0);
    CorruptArchiveException.check(true, w, "fine");
    CorruptArchiveException e = assertThrows(CorruptArchiveException.class,
        () -> CorruptArchiveException.check(false, w, "bad magic"));
    assertSame(w, e.where());
    assertEquals("a.lzo: lzop header at compressed offset 0: bad magic", e.getMessage());
  }

  @Test
  void theCauseIsKept() {
    IOException cause = new IOException("inner");
    assertSame(cause, new CorruptArchiveException(Where.at("a", 1), "x", cause).getCause());
  }

  @Test
  void anIndexNeedsAPart() {
    assertThrows(IllegalArgumentException.class, () -> new Where("a", null, 2, 0));
  }
}
