package vmafs.nbd;

import static vmafs.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import vmafs.image.ImageContent;

/**
 * What each transmission request does: its check (done on the I/O thread, before anything is read)
 * and the reply it gets (built on a worker: reads, block status, prefetch). Every request gets
 * exactly one reply except DISC.
 */
final class Commands {
  /** Descriptors that fit one slab with the chunk header and the context id. */
  static final int MAX_EXTENTS = (BufferPool.SLAB_SIZE - CHUNK_HEADER_SIZE - 4) / 8;
  /** Per CACHE request, at most this much is prefetched (the rest is a hint we may ignore). */
  static final int MAX_PREFETCH = ServerLimits.MAX_PAYLOAD;
  /**
   * Holes shorter than this travel as zeros inside the data chunk around them: each chunk costs
   * the client a header to parse and a few reads (libnbd reads a chunk's header, offset and data
   * separately), more than 64 KiB of zeros cost it to copy. Measured: a 256 KiB read of a disk
   * whose clusters hold a few zero blocks became 9 chunks with a chunk per hole, and nbdcopy ran
   * 3 to 5 times slower than against nbdkit (docs/benchmarks.md).
   */
  static final int MIN_HOLE_CHUNK = 64 << 10;

  private Commands() {}

  /** One request header. {@code length} is unsigned (up to 2^32 - 1). */
  record Request(int flags, int type, long cookie, long offset, long length) {
    String describe() {
      return commandName(type) + " of " + length + " bytes at offset " + Long.toUnsignedString(offset);
    }
  }

  /** Slabs a request may need: the reply payload of a read, one for block status and prefetch. */
  static int slabsFor(Request r) {
    return switch (r.type()) {
      case CMD_READ -> r.length() <= ServerLimits.MAX_PAYLOAD ? BufferPool.slabsFor(r.length()) : 0;
      case CMD_BLOCK_STATUS, CMD_CACHE -> 1;
      default -> 0;
    };
  }

  /**
   * Why the request cannot be served as sent, or null. Messages name what is wrong for the person
   * behind the client.
   */
  static Refusal check(Negotiation.Session s, Request r) {
    long size = s.export().content().size();
    int lenient = CMD_FLAG_FUA; // clients are known to set FUA on any command; it changes nothing here
    switch (r.type()) {
      case CMD_READ -> {
        int allowed = lenient | (s.structured() ? CMD_FLAG_DF : 0);
        if ((r.flags() & ~allowed) != 0) {
          return Refusal.invalid("READ with flags 0x" + Integer.toHexString(r.flags()) + " this server does not take");
        }
        if (r.length() > ServerLimits.MAX_PAYLOAD) {
          return Refusal.invalid("READ of " + r.length() + " bytes: the maximum is " + ServerLimits.MAX_PAYLOAD);
        }
        return bounds(r, size);
      }
      case CMD_BLOCK_STATUS -> {
        if (!s.baseAllocation()) {
          return Refusal.invalid("BLOCK_STATUS without a metadata context (NBD_OPT_SET_META_CONTEXT base:allocation)");
        }
        if ((r.flags() & ~(lenient | CMD_FLAG_REQ_ONE)) != 0) {
          return Refusal.invalid("BLOCK_STATUS with flags 0x" + Integer.toHexString(r.flags()) + " this server does not take");
        }
        if (r.length() == 0) {
          return Refusal.invalid("BLOCK_STATUS of 0 bytes");
        }
        return bounds(r, size);
      }
      case CMD_CACHE -> {
        if ((r.flags() & ~lenient) != 0) {
          return Refusal.invalid("CACHE with flags 0x" + Integer.toHexString(r.flags()) + " this server does not take");
        }
        return bounds(r, size);
      }
      case CMD_WRITE, CMD_TRIM, CMD_WRITE_ZEROES -> {
        return new Refusal(EPERM, commandName(r.type()) + " refused: the export is read-only");
      }
      case CMD_FLUSH -> {
        return null; // nothing is ever written: every flush succeeds at once
      }
      default -> {
        return Refusal.invalid("unknown command " + r.type());
      }
    }
  }

  private static Refusal bounds(Request r, long size) {
    if (r.offset() < 0 || r.offset() > size || r.length() > size - r.offset()) {
      return Refusal.invalid(r.describe() + " goes past the end of the export (" + size + " bytes)");
    }
    return null;
  }

  /** An error reply for a request that failed its check or its work. */
  record Refusal(int error, String message) {
    static Refusal invalid(String message) {
      return new Refusal(EINVAL, message);
    }
  }

  /** The error reply: a structured error chunk (with the message) when negotiated, else simple. */
  static Reply error(Negotiation.Session s, Request r, Reply.Credit credit, Refusal f) {
    return Reply.of(credit, s.structured() ? Wire.errorChunk(r.cookie(), f.error(), f.message())
        : Wire.simpleReply(r.cookie(), f.error()));
  }

  /** The success reply of a request without data (FLUSH, CACHE). */
  static Reply ok(Request r, Reply.Credit credit) {
    return Reply.of(credit, Wire.simpleReply(r.cookie(), 0));
  }

  /**
   * A checked READ. With structured replies, holes travel as OFFSET_HOLE chunks (12 bytes each
   * instead of the zeros) unless the client asked for one chunk (DF); the last chunk carries DONE,
   * since every byte is read before anything is sent. A read that fails anywhere is an EIO for
   * this request alone, and none of its data is sent.
   */
  static Reply read(Negotiation.Session s, Request r, Reply.Credit credit) throws IOException {
    ImageContent c = s.export().content();
    long offset = r.offset();
    int length = (int) r.length();
    if (!s.structured()) {
      List<ByteBuffer> out = new ArrayList<>();
      out.add(Wire.simpleReply(r.cookie(), 0));
      fill(c, offset, length, credit, out);
      return new Reply(out.toArray(ByteBuffer[]::new), credit);
    }
    if (length == 0) {
      return Reply.of(credit, Wire.done(r.cookie()));
    }
    List<long[]> segments = (r.flags() & CMD_FLAG_DF) != 0
        ? List.of(new long[] {offset, offset + length, 1}) : chunks(segments(c, offset, offset + length));
    ByteBuffer headers = ByteBuffer.allocate(segments.size() * Wire.HOLE_CHUNK_SIZE);
    List<ByteBuffer> out = new ArrayList<>(segments.size() * 2);
    for (int i = 0; i < segments.size(); i++) {
      long[] seg = segments.get(i);
      int flags = i == segments.size() - 1 ? REPLY_FLAG_DONE : 0;
      int len = (int) (seg[1] - seg[0]);
      int at = headers.position();
      if (seg[2] == 0) {
        Wire.holeChunk(headers, flags, r.cookie(), seg[0], len);
        out.add(headers.slice(at, Wire.HOLE_CHUNK_SIZE));
      } else {
        Wire.dataChunkPrefix(headers, flags, r.cookie(), seg[0], len);
        out.add(headers.slice(at, Wire.DATA_CHUNK_PREFIX));
        fill(c, seg[0], len, credit, out);
      }
    }
    return new Reply(out.toArray(ByteBuffer[]::new), credit);
  }

  /**
   * The pieces of a read's reply: holes of at least {@link #MIN_HOLE_CHUNK} (or the whole range)
   * as holes, everything else as data, neighbours merged.
   */
  static List<long[]> chunks(List<long[]> segments) {
    if (segments.size() == 1) {
      return segments;
    }
    List<long[]> out = new ArrayList<>();
    for (long[] seg : segments) {
      boolean hole = seg[2] == 0 && seg[1] - seg[0] >= MIN_HOLE_CHUNK;
      long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null && last[2] == 1 && !hole) {
        last[1] = seg[1];
      } else {
        out.add(new long[] {seg[0], seg[1], hole ? 0 : 1});
      }
    }
    return out;
  }

  /** [start, end, 1 for data / 0 for a hole] pieces of the range, from the hole map. */
  static List<long[]> segments(ImageContent c, long start, long end) throws IOException {
    List<long[]> out = new ArrayList<>();
    long pos = start;
    while (pos < end) {
      long d = c.nextData(pos);
      if (d < 0 || d >= end) {
        out.add(new long[] {pos, end, 0});
        break;
      }
      if (d > pos) {
        out.add(new long[] {pos, d, 0});
        pos = d;
      }
      long h = Math.min(Math.max(c.nextHole(pos), pos + 1), end);
      out.add(new long[] {pos, h, 1});
      pos = h;
    }
    return out;
  }

  /** Reads {@code length} bytes at {@code offset} into slabs of the credit, appending views to {@code out}. */
  private static void fill(ImageContent c, long offset, int length, Reply.Credit credit, List<ByteBuffer> out)
      throws IOException {
    ByteBuffer slab = credit.currentSlab();
    int done = 0;
    while (done < length) {
      if (slab == null || !slab.hasRemaining()) {
        slab = credit.takeSlab();
      }
      int n = Math.min(slab.remaining(), length - done);
      int at = slab.position();
      ByteBuffer view = slab.slice(at, n);
      readFully(c, offset + done, view);
      slab.position(at + n);
      out.add(slab.slice(at, n));
      done += n;
    }
  }

  private static void readFully(ImageContent c, long offset, ByteBuffer dst) throws IOException {
    int want = dst.remaining();
    while (dst.hasRemaining()) {
      int n = c.read(offset + want - dst.remaining(), dst);
      if (n <= 0) {
        throw new IOException("short read: " + (want - dst.remaining()) + " of " + want
            + " bytes at offset " + offset);
      }
    }
  }

  /**
   * A checked BLOCK_STATUS for base:allocation: holes are HOLE|ZERO, data 0, exactly the
   * nextData/nextHole map, clipped to the request; at most {@link #MAX_EXTENTS} descriptors (the
   * client asks again from where the reply ends), one with REQ_ONE.
   */
  static Reply blockStatus(Negotiation.Session s, Request r, Reply.Credit credit) throws IOException {
    ImageContent c = s.export().content();
    boolean one = (r.flags() & CMD_FLAG_REQ_ONE) != 0;
    ByteBuffer b = credit.takeSlab();
    b.position(CHUNK_HEADER_SIZE).putInt(Negotiation.BASE_ALLOCATION_ID);
    long pos = r.offset();
    long end = r.offset() + r.length();
    int n = 0;
    while (pos < end && n < MAX_EXTENTS) {
      long next;
      int state;
      long d = c.nextData(pos);
      if (d == pos) {
        next = Math.max(c.nextHole(pos), pos + 1);
        state = 0;
      } else {
        next = d < 0 ? end : d;
        state = STATE_HOLE | STATE_ZERO;
      }
      next = Math.min(next, end);
      b.putInt((int) (next - pos)).putInt(state);
      n++;
      pos = next;
      if (one) {
        break;
      }
    }
    int payload = 4 + 8 * n;
    Wire.chunkHeader(b.duplicate().position(0), REPLY_FLAG_DONE, REPLY_TYPE_BLOCK_STATUS, r.cookie(), payload);
    return Reply.of(credit, b.flip());
  }

  /**
   * A checked CACHE: reads the data of the range (at most {@link #MAX_PREFETCH}) into one scratch
   * slab and throws it away, which leaves it in the block cache and the page cache.
   */
  static Reply cache(Negotiation.Session s, Request r, Reply.Credit credit) throws IOException {
    ImageContent c = s.export().content();
    ByteBuffer scratch = credit.takeSlab();
    long end = r.offset() + Math.min(r.length(), MAX_PREFETCH);
    for (long[] seg : segments(c, r.offset(), end)) {
      for (long pos = seg[0]; seg[2] == 1 && pos < seg[1]; ) {
        int n = (int) Math.min(scratch.capacity(), seg[1] - pos);
        readFully(c, pos, scratch.clear().limit(n));
        pos += n;
      }
    }
    return ok(r, credit);
  }
}
