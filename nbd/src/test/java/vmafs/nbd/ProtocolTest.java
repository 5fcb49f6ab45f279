package vmafs.nbd;

import static org.junit.jupiter.api.Assertions.*;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import vmafs.image.ImageContent;

/**
 * The protocol as the spec (docs/nbd-protocol.md) says it, message by message, through a raw
 * client: the handshake's options and their errors, and every command with good and bad input.
 */
class ProtocolTest {
  static final int OPT_EXPORT_NAME = 1;
  static final int OPT_LIST = 3;
  static final int OPT_INFO = 6;
  static final int OPT_GO = 7;
  static final int OPT_STRUCTURED_REPLY = 8;
  static final int OPT_LIST_META = 9;
  static final int OPT_SET_META = 10;
  static final int ACK = 1;
  static final int ERR_UNSUP = 0x80000001;
  static final int ERR_INVALID = 0x80000003;
  static final int ERR_UNKNOWN = 0x80000006;
  static final int ERR_TOO_BIG = 0x80000009;
  static final int READ = 0;
  static final int WRITE = 1;
  static final int DISC = 2;
  static final int FLUSH = 3;
  static final int TRIM = 4;
  static final int CACHE = 5;
  static final int WRITE_ZEROES = 6;
  static final int BLOCK_STATUS = 7;

  @TempDir Path dir;
  SparseImage image;
  SparseImage bad;
  TestServer server;

  @BeforeEach
  void start() throws IOException {
    image = TestServer.image();
    bad = TestServer.image().data(7L << 20, (7L << 20) + 65536).failing(7L << 20, (7L << 20) + 4096);
    server = new TestServer(dir, List.of(new Export("disk", "a test disk", image),
        new Export("efi", "the EFI vars", new SparseImage(540672).data(0, 4096)),
        new Export("bad", "a disk with a corrupt block", bad)), ServerLimits.defaults(), TlsMode.OFF, null);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  // ---- handshake ----

  @Test
  void listShowsEveryExportWithItsDescription() throws IOException {
    try (RawClient c = server.client().hello()) {
      c.option(OPT_LIST, new byte[0]);
      List<RawClient.OptionReply> r = c.optionReplies();
      assertEquals(4, r.size());
      assertEquals(List.of("disk:a test disk", "efi:the EFI vars", "bad:a disk with a corrupt block"),
          List.of(server(r.get(0)), server(r.get(1)), server(r.get(2))));
      assertEquals(ACK, r.get(3).type());
    }
  }

  private static String server(RawClient.OptionReply r) {
    assertEquals(2, r.type(), "NBD_REP_SERVER");
    ByteBuffer b = ByteBuffer.wrap(r.data());
    int n = b.getInt();
    return new String(r.data(), 4, n, StandardCharsets.UTF_8) + ":" + new String(r.data(), 4 + n, r.data().length - 4 - n, StandardCharsets.UTF_8);
  }

  @Test
  void infoAndGoGiveSizeFlagsNameDescriptionAndBlockSizes() throws IOException {
    try (RawClient c = server.client().hello()) {
      c.option(OPT_STRUCTURED_REPLY, new byte[0]);
      assertEquals(ACK, c.optionReply().type());
      for (int option : new int[] {OPT_INFO, OPT_GO}) {
        // The empty name is the default export only when there is one: here there are two.
        c.option(option, RawClient.infoRequest(""));
        RawClient.OptionReply unknown = c.optionReply();
        assertEquals(ERR_UNKNOWN, unknown.type());
        assertTrue(unknown.text().contains("disk, efi, bad"), unknown.text());

        c.option(option, RawClient.infoRequest("efi", 1, 2, 3));
        List<RawClient.OptionReply> r = c.optionReplies();
        assertEquals(ACK, r.get(r.size() - 1).type());
        boolean export = false;
        for (RawClient.OptionReply i : r.subList(0, r.size() - 1)) {
          assertEquals(3, i.type(), "NBD_REP_INFO");
          ByteBuffer b = ByteBuffer.wrap(i.data());
          switch (b.getShort()) {
            case 0 -> {
              export = true;
              assertEquals(540672, b.getLong());
              // HAS_FLAGS | READ_ONLY | SEND_DF | CAN_MULTI_CONN | SEND_CACHE; no write, trim, flush
              assertEquals(1 | 2 | 128 | 256 | 1024, b.getShort());
            }
            case 1 -> assertEquals("efi", new String(i.data(), 2, i.data().length - 2, StandardCharsets.UTF_8));
            case 2 -> assertEquals("the EFI vars", new String(i.data(), 2, i.data().length - 2, StandardCharsets.UTF_8));
            case 3 -> {
              assertEquals(1, b.getInt(), "minimum block");
              assertEquals(4096, b.getInt(), "preferred block");
              assertEquals(32 << 20, b.getInt(), "maximum payload");
            }
            default -> fail("unexpected info " + i);
          }
        }
        assertTrue(export, "NBD_INFO_EXPORT is mandatory");
      }
      // GO succeeded: transmission, with structured replies.
      assertArrayEquals(new byte[4096], readRange(c, 8192, 4096), "efi's data ends at 4096... this is a hole");
    }
  }

  private byte[] readRange(RawClient c, long offset, int length) throws IOException {
    return c.read(42, offset, length);
  }

  @Test
  void unknownOptionsAreUnsupportedAndTheHandshakeGoesOn() throws IOException {
    try (RawClient c = server.client().hello()) {
      for (int option : new int[] {4, 11, 99, 0x7fffffff}) {
        c.option(option, "some data".getBytes(StandardCharsets.US_ASCII));
        RawClient.OptionReply r = c.optionReply();
        assertEquals(option, r.option());
        assertEquals(ERR_UNSUP, r.type());
      }
      c.option(OPT_LIST, new byte[0]);
      assertEquals(4, c.optionReplies().size());
    }
  }

  @Test
  void invalidOptionDataIsInvalid() throws IOException {
    try (RawClient c = server.client().hello()) {
      c.option(OPT_LIST, new byte[] {1});
      assertEquals(ERR_INVALID, c.optionReply().type());
      c.option(OPT_STRUCTURED_REPLY, new byte[] {1});
      assertEquals(ERR_INVALID, c.optionReply().type());
      // A name length past the option's end.
      c.option(OPT_GO, ByteBuffer.allocate(8).putInt(1000).array());
      assertEquals(ERR_INVALID, c.optionReply().type());
      // Information requests that do not fill the rest exactly.
      c.option(OPT_GO, ByteBuffer.allocate(11).putInt(4).put("disk".getBytes(StandardCharsets.US_ASCII)).putShort((short) 1).array());
      assertEquals(ERR_INVALID, c.optionReply().type());
      // Meta contexts before structured replies.
      c.option(OPT_SET_META, RawClient.metaRequest("disk", "base:allocation"));
      RawClient.OptionReply r = c.optionReply();
      assertEquals(ERR_INVALID, r.type());
      assertTrue(r.text().contains("structured replies"), r.text());
      c.option(OPT_STRUCTURED_REPLY, new byte[0]);
      assertEquals(ACK, c.optionReply().type());
      // A query count the data cannot hold, a query without a namespace.
      c.option(OPT_SET_META, ByteBuffer.allocate(12).putInt(0).putInt(1 << 30).array());
      assertEquals(ERR_INVALID, c.optionReply().type());
      c.option(OPT_LIST_META, RawClient.metaRequest("disk", "allocation"));
      assertEquals(ERR_INVALID, c.optionReply().type());
      // A name that is not UTF-8.
      c.option(OPT_INFO, ByteBuffer.allocate(8).putInt(2).put((byte) 0xff).put((byte) 0xfe).putShort((short) 0).array());
      assertEquals(ERR_INVALID, c.optionReply().type());
      // Still negotiating.
      c.option(OPT_LIST, new byte[0]);
      assertEquals(4, c.optionReplies().size());
    }
  }

  @Test
  void metaContextsListAndSelectBaseAllocationOnly() throws IOException {
    try (RawClient c = server.client().hello()) {
      c.option(OPT_STRUCTURED_REPLY, new byte[0]);
      c.optionReply();
      for (String[] queries : new String[][] {{}, {"base:"}, {"base:allocation"}, {"qemu:dirty-bitmap:x", "base:allocation"}}) {
        c.option(OPT_LIST_META, RawClient.metaRequest("disk", queries));
        List<RawClient.OptionReply> r = c.optionReplies();
        assertEquals(2, r.size(), String.join(",", queries));
        assertEquals(4, r.get(0).type());
        assertEquals("base:allocation", new String(r.get(0).data(), 4, r.get(0).data().length - 4, StandardCharsets.UTF_8));
      }
      // Unknown namespaces are ignored; "base:" selects nothing in SET.
      c.option(OPT_SET_META, RawClient.metaRequest("disk", "qemu:allocation-depth", "base:"));
      assertEquals(List.of(ACK), c.optionReplies().stream().map(RawClient.OptionReply::type).toList());
      c.option(OPT_SET_META, RawClient.metaRequest("nope", "base:allocation"));
      assertEquals(ERR_UNKNOWN, c.optionReply().type());
      c.option(OPT_SET_META, RawClient.metaRequest("disk", "base:allocation"));
      List<RawClient.OptionReply> r = c.optionReplies();
      assertEquals(4, r.get(0).type());
      // Selected for "disk", not for "efi": BLOCK_STATUS on efi is refused.
      c.go("efi");
      c.request(0, BLOCK_STATUS, 1, 0, 4096);
      RawClient.Chunk e = c.chunk();
      assertEquals(22, e.error());
      assertTrue(e.message().contains("metadata context"), e.message());
    }
  }

  @Test
  void anOversizedOptionIsTooBigAndItsDataSkipped() throws IOException {
    try (RawClient c = server.client().hello()) {
      byte[] big = new byte[1 << 20];
      java.util.Arrays.fill(big, (byte) 'x');
      c.option(OPT_GO, big);
      RawClient.OptionReply r = c.optionReply();
      assertEquals(ERR_TOO_BIG, r.type());
      c.option(OPT_LIST, new byte[0]);
      assertEquals(4, c.optionReplies().size());
    }
  }

  @Test
  void brokenHandshakesAreClosed() throws IOException {
    try (RawClient c = server.client().hello(1 << 5)) {
      assertTrue(c.closedWithin(2000), "unknown client flags");
    }
    try (RawClient c = server.client().hello()) {
      c.write(ByteBuffer.allocate(16).putLong(0x1234).putInt(3).putInt(0).flip());
      assertTrue(c.closedWithin(2000), "bad option magic");
    }
    try (RawClient c = server.client().hello()) {
      c.option(OPT_EXPORT_NAME, "nope".getBytes(StandardCharsets.US_ASCII));
      assertTrue(c.closedWithin(2000), "EXPORT_NAME of an unknown export cannot be answered: closed");
    }
    // Without fixed newstyle only EXPORT_NAME can be answered.
    try (RawClient c = server.client().hello(0)) {
      c.option(OPT_LIST, new byte[0]);
      assertTrue(c.closedWithin(2000));
    }
    try (RawClient c = server.client().hello()) {
      c.option(2, new byte[0]); // ABORT
      assertEquals(ACK, c.optionReply().type());
      assertTrue(c.closedWithin(2000));
    }
  }

  @Test
  void exportNameEntersTransmissionWithOrWithoutZeroes() throws IOException {
    for (int flags : new int[] {1, 3, 0}) {
      try (RawClient c = server.client().hello(flags)) {
        c.option(OPT_EXPORT_NAME, "efi".getBytes(StandardCharsets.US_ASCII));
        ByteBuffer r = c.readExactly(10 + ((flags & 2) != 0 ? 0 : 124));
        assertEquals(540672, r.getLong());
        assertEquals(1 | 2 | 256 | 1024, r.getShort(), "no structured replies: no DF");
        c.request(0, READ, 7, 0, 8);
        assertEquals(new RawClient.Simple(0, 7), c.simpleReply());
        assertArrayEquals(expected(new SparseImage(540672).data(0, 4096), 0, 8), c.readExactly(8).array());
      }
    }
  }

  // ---- transmission ----

  static byte[] expected(SparseImage img, long offset, int length) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = img.at(offset + i);
    }
    return b;
  }

  @Test
  void simpleRepliesCarryTheBytesWithHolesAsZeros() throws IOException {
    try (RawClient c = server.client().hello()) {
      c.go("disk");
      Random r = new Random(1);
      long size = image.size();
      List<long[]> reads = new ArrayList<>(List.of(new long[] {0, 65536}, new long[] {65000, 2000},
          new long[] {size - 6000, 6000}, new long[] {size - 1, 1}, new long[] {(1 << 20) - 3, 12294}));
      for (int i = 0; i < 40; i++) {
        int len = 1 + r.nextInt(300_000);
        reads.add(new long[] {(long) (r.nextDouble() * (size - len)), len});
      }
      long cookie = 100;
      for (long[] rd : reads) {
        c.request(0, READ, cookie, rd[0], rd[1]);
        assertEquals(new RawClient.Simple(0, cookie), c.simpleReply());
        assertArrayEquals(expected(image, rd[0], (int) rd[1]), c.readExactly((int) rd[1]).array(),
            "read of " + rd[1] + " at " + rd[0]);
        cookie++;
      }
    }
  }

  @Test
  void structuredReadsSendHolesAsHoleChunksUnlessDontFragment() throws IOException {
    try (RawClient c = server.client().hello().structuredGo("disk")) {
      long size = image.size();
      for (long[] rd : new long[][] {{0, 2 << 20}, {60000, 8000}, {(1 << 20) + 4000, 100}, {size - 9000, 9000},
          {3 << 20, 32 << 20 >> 3}, {0, 32 << 20 >> 2}}) {
        assertArrayEquals(expected(image, rd[0], (int) rd[1]), c.read(5, rd[0], (int) rd[1]), "read at " + rd[0]);
      }
      // [60000, 260000): data to 65536, then a hole of more than 64 KiB: a hole chunk.
      c.request(0, READ, 6, 60000, 200000);
      List<RawClient.Chunk> chunks = c.reply();
      assertEquals(List.of(1, 2), chunks.stream().map(RawClient.Chunk::type).toList());
      assertTrue(chunks.get(1).done() && !chunks.get(0).done());
      assertEquals(8 + 65536 - 60000, chunks.get(0).payload().length);
      // A short hole travels as zeros in the data chunk: [1 MiB + 8 KiB, + 8 KiB) is 4 KiB of
      // data and 4 KiB of hole.
      c.request(0, READ, 10, (1 << 20) + 8192, 8192);
      chunks = c.reply();
      assertEquals(List.of(1), chunks.stream().map(RawClient.Chunk::type).toList());
      // DF: one data chunk, zeros included.
      c.request(4, READ, 7, 60000, 200000);
      chunks = c.reply();
      assertEquals(1, chunks.size());
      assertEquals(1, chunks.get(0).type());
      assertEquals(8 + 200000, chunks.get(0).payload().length);
      // A whole hole is one hole chunk; a read of 0 bytes is one NONE chunk.
      c.request(0, READ, 8, 2 << 20, 1 << 20);
      chunks = c.reply();
      assertEquals(List.of(2), chunks.stream().map(RawClient.Chunk::type).toList());
      c.request(0, READ, 9, 100, 0);
      assertEquals(List.of(0), c.reply().stream().map(RawClient.Chunk::type).toList());
    }
  }

  /** [offset, length, flags] extents from BLOCK_STATUS replies covering the whole export. */
  static List<long[]> blockStatusMap(RawClient c, long size, long step) throws IOException {
    List<long[]> out = new ArrayList<>();
    long pos = 0;
    while (pos < size) {
      c.request(0, BLOCK_STATUS, pos, pos, Math.min(step, size - pos));
      RawClient.Chunk ch = c.chunk();
      assertTrue(ch.done());
      assertEquals(5, ch.type(), "NBD_REPLY_TYPE_BLOCK_STATUS");
      ByteBuffer b = ch.buf();
      assertEquals(1, b.getInt(), "the context id SET_META_CONTEXT gave");
      assertTrue(b.hasRemaining(), "at least one extent");
      while (b.hasRemaining()) {
        long len = Integer.toUnsignedLong(b.getInt());
        int flags = b.getInt();
        assertTrue(len > 0);
        if (!out.isEmpty() && out.get(out.size() - 1)[2] == flags) {
          out.get(out.size() - 1)[1] += len;
        } else {
          out.add(new long[] {pos, len, flags});
        }
        pos += len;
      }
    }
    assertEquals(size, pos, "extents end exactly at the export's end");
    return out;
  }

  /** The same from the image's own nextData/nextHole. */
  static List<long[]> holeMap(ImageContent img) throws IOException {
    List<long[]> out = new ArrayList<>();
    long pos = 0;
    while (pos < img.size()) {
      long d = img.nextData(pos);
      if (d != pos) {
        long end = d < 0 ? img.size() : d;
        out.add(new long[] {pos, end - pos, 3});
        pos = end;
      } else {
        long h = img.nextHole(pos);
        out.add(new long[] {pos, h - pos, 0});
        pos = h;
      }
    }
    return out;
  }

  static String render(List<long[]> m) {
    StringBuilder sb = new StringBuilder();
    for (long[] e : m) {
      sb.append(e[0]).append('+').append(e[1]).append(e[2] == 0 ? " data\n" : e[2] == 3 ? " hole,zero\n" : " flags " + e[2] + "\n");
    }
    return sb.toString();
  }

  @Test
  void blockStatusIsExactlyTheHoleMap() throws IOException {
    try (RawClient c = server.client().hello().structuredGo("disk")) {
      String expected = render(holeMap(image));
      assertEquals(expected, render(blockStatusMap(c, image.size(), 0xffffffffL)));
      assertEquals(expected, render(blockStatusMap(c, image.size(), 1 << 20)));
      assertEquals(expected, render(blockStatusMap(c, image.size(), 12345)));
      // REQ_ONE: one extent, never longer than asked.
      c.request(8, BLOCK_STATUS, 1, 100, 1000);
      ByteBuffer b = c.chunk().buf();
      b.getInt();
      assertEquals(1000, b.getInt());
      assertEquals(0, b.getInt(), "data");
      assertFalse(b.hasRemaining());
    }
  }

  @Test
  void badRequestsGetEinvalAndTheConnectionGoesOn() throws IOException {
    try (RawClient c = server.client().hello().structuredGo("disk")) {
      long size = image.size();
      long[][] bad = {
        {0, READ, size - 10, 11}, {0, READ, size + 1, 0}, {0, READ, -4096, 4096}, {0, READ, 0, (32 << 20) + 1},
        {0, READ, 0, 0xffffffffL}, {1 << 5, READ, 0, 512}, {0, 42, 0, 512}, {0, BLOCK_STATUS, 0, 0},
        {0, BLOCK_STATUS, size, 1}, {1 << 1, BLOCK_STATUS, 0, 512}, {1 << 3, CACHE, 0, 512}, {0, CACHE, size, 1}};
      long cookie = 1000;
      for (long[] r : bad) {
        c.request((int) r[0], (int) r[1], cookie, r[2], r[3]);
        RawClient.Chunk e = c.chunk();
        assertEquals(cookie, e.cookie());
        assertTrue(e.type() == 0x8001 && e.done(), "error chunk for " + java.util.Arrays.toString(r));
        assertEquals(22, e.error(), "EINVAL for " + java.util.Arrays.toString(r) + ": " + e.message());
        assertFalse(e.message().isEmpty());
        cookie++;
      }
      assertArrayEquals(expected(image, 0, 4096), c.read(1, 0, 4096));
    }
  }

  @Test
  void writesTrimsAndZeroesAreRefusedWithEpermAndWritePayloadsSkipped() throws IOException {
    try (RawClient c = server.client().hello().structuredGo("disk")) {
      // A WRITE whose payload looks like requests: if the server parsed it, it would answer them.
      ByteBuffer payload = ByteBuffer.allocate(8192);
      while (payload.hasRemaining()) {
        payload.putInt(RawClient.REQUEST_MAGIC).putShort((short) 0).putShort((short) READ).putLong(666).putLong(0).putInt(512);
        payload.position(Math.min(payload.capacity(), payload.position() + 4));
      }
      c.request(0, WRITE, 1, 0, 8192);
      c.write(payload.flip());
      c.request(0, TRIM, 2, 0, 4096);
      c.request(0, WRITE_ZEROES, 3, 0, 4096);
      c.request(1, WRITE, 4, 4096, 0); // FUA, empty payload
      for (long cookie = 1; cookie <= 4; cookie++) {
        RawClient.Chunk e = c.chunk();
        assertEquals(cookie, e.cookie());
        assertEquals(1, e.error(), "EPERM");
        assertTrue(e.message().contains("read-only"), e.message());
      }
      assertArrayEquals(expected(image, 0, 100), c.read(5, 0, 100), "still in step after the payload");
    }
    // Simple replies too.
    try (RawClient c = server.client().hello()) {
      c.go("disk");
      c.request(0, WRITE, 9, 0, 512);
      c.write(ByteBuffer.allocate(512));
      assertEquals(new RawClient.Simple(1, 9), c.simpleReply());
    }
  }

  @Test
  void cacheAndFlushSucceed() throws IOException {
    try (RawClient c = server.client().hello().structuredGo("disk")) {
      c.request(0, CACHE, 1, 0, (int) Math.min(0xffffffffL, image.size()));
      RawClient.Chunk ok = c.chunk();
      assertEquals(1, ok.cookie());
      assertEquals(0, ok.error());
      c.request(0, FLUSH, 2, 0, 0);
      RawClient.Chunk f = c.chunk();
      assertEquals(2, f.cookie());
      assertEquals(0, f.error());
    }
  }

  @Test
  void aFailedReadIsEioForThatRequestAlone() throws IOException {
    long at = 7L << 20;
    try (RawClient c = server.client().hello().structuredGo("bad")) {
      c.request(0, READ, 1, at - 100, 200);
      List<RawClient.Chunk> r = c.reply();
      assertEquals(1, r.size(), "no data of a failed read is sent");
      assertEquals(0x8001, r.get(0).type());
      assertEquals(5, r.get(0).error(), "EIO");
      assertTrue(r.get(0).message().contains("checksum mismatch"), r.get(0).message());
      assertArrayEquals(expected(bad, at + 4096, 4096), c.read(2, at + 4096, 4096));
    }
    try (RawClient c = server.client().hello()) {
      c.go("bad");
      c.request(0, READ, 3, at, 4096);
      assertEquals(new RawClient.Simple(5, 3), c.simpleReply());
      c.request(0, READ, 4, 0, 16);
      assertEquals(new RawClient.Simple(0, 4), c.simpleReply());
      assertArrayEquals(expected(bad, 0, 16), c.readExactly(16).array());
    }
  }

  @Test
  void aSlowReadDoesNotHoldUpTheRequestsBehindIt() throws Exception {
    GatedImage slow = new GatedImage(TestServer.image());
    Path d = java.nio.file.Files.createDirectory(dir.resolve("slow"));
    try (TestServer s = new TestServer(d, List.of(new Export("disk", "slow", slow)), ServerLimits.defaults(), TlsMode.OFF, null);
         RawClient c = s.client().hello().structuredGo("disk")) {
      c.request(0, READ, 1, 0, 4096);
      c.request(0, READ, 2, 1 << 20, 4096);
      RawClient.Chunk first = c.chunk();
      assertEquals(2, first.cookie(), "the second request is answered while the first waits");
      slow.open();
      assertEquals(1, c.chunk().cookie());
    }
  }

  @Test
  void discClosesOnceTheRequestsBeforeItAreAnswered() throws IOException {
    try (RawClient c = server.client().hello().structuredGo("disk")) {
      c.request(0, READ, 1, 0, 1 << 20);
      c.request(0, DISC, 2, 0, 0);
      List<RawClient.Chunk> r = c.reply();
      assertEquals(1, r.get(0).cookie());
      assertThrows(EOFException.class, c::chunk, "closed after the reply, nothing for DISC");
    }
  }
}
