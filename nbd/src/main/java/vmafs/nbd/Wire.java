package vmafs.nbd;

import static vmafs.nbd.NbdProtocol.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Encodes the server's messages: every byte the server sends is laid out here. */
final class Wire {
  private Wire() {}

  /** NBDMAGIC, IHAVEOPT, handshake flags. */
  static ByteBuffer greeting() {
    return ByteBuffer.allocate(GREETING_SIZE).putLong(INIT_MAGIC).putLong(OPTION_MAGIC)
        .putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)).flip();
  }

  static ByteBuffer optionReply(int option, int type, ByteBuffer data) {
    ByteBuffer b = ByteBuffer.allocate(OPTION_REPLY_HEADER_SIZE + data.remaining());
    b.putLong(REPLY_MAGIC).putInt(option).putInt(type).putInt(data.remaining()).put(data.duplicate());
    return b.flip();
  }

  static ByteBuffer ack(int option) {
    return optionReply(option, REP_ACK, ByteBuffer.allocate(0));
  }

  /** An error reply; its data is a message for the person behind the client. */
  static ByteBuffer optionError(int option, int type, String message) {
    return optionReply(option, type, ByteBuffer.wrap(utf8(message, MAX_STRING)));
  }

  /** NBD_REP_SERVER: name length, name, description. */
  static ByteBuffer server(int option, Export e) {
    byte[] name = utf8(e.name(), MAX_STRING);
    byte[] desc = utf8(e.description(), MAX_STRING);
    return optionReply(option, REP_SERVER, ByteBuffer.allocate(4 + name.length + desc.length)
        .putInt(name.length).put(name).put(desc).flip());
  }

  static ByteBuffer infoExport(int option, long size, int transmissionFlags) {
    return optionReply(option, REP_INFO, ByteBuffer.allocate(12).putShort((short) INFO_EXPORT)
        .putLong(size).putShort((short) transmissionFlags).flip());
  }

  /** NBD_INFO_NAME or NBD_INFO_DESCRIPTION. */
  static ByteBuffer infoString(int option, int infoType, String s) {
    byte[] b = utf8(s, MAX_STRING);
    return optionReply(option, REP_INFO, ByteBuffer.allocate(2 + b.length).putShort((short) infoType).put(b).flip());
  }

  static ByteBuffer infoBlockSize(int option, int min, int preferred, int maxPayload) {
    return optionReply(option, REP_INFO, ByteBuffer.allocate(14).putShort((short) INFO_BLOCK_SIZE)
        .putInt(min).putInt(preferred).putInt(maxPayload).flip());
  }

  static ByteBuffer metaContext(int option, int id, String name) {
    byte[] b = utf8(name, MAX_STRING);
    return optionReply(option, REP_META_CONTEXT, ByteBuffer.allocate(4 + b.length).putInt(id).put(b).flip());
  }

  /** The reply to NBD_OPT_EXPORT_NAME: size, transmission flags, and the 124 zeros unless NO_ZEROES. */
  static ByteBuffer exportName(long size, int transmissionFlags, boolean noZeroes) {
    ByteBuffer b = ByteBuffer.allocate(10 + (noZeroes ? 0 : EXPORT_NAME_ZEROES));
    b.putLong(size).putShort((short) transmissionFlags);
    return b.position(b.capacity()).flip();
  }

  // ---- transmission ----

  static ByteBuffer simpleReply(long cookie, int error) {
    return ByteBuffer.allocate(SIMPLE_REPLY_SIZE).putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie).flip();
  }

  /** Appends a structured chunk header announcing {@code length} payload bytes. */
  static ByteBuffer chunkHeader(ByteBuffer b, int flags, int type, long cookie, int length) {
    return b.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) flags).putShort((short) type)
        .putLong(cookie).putInt(length);
  }

  /** NBD_REPLY_TYPE_NONE with DONE: a successful reply with nothing to carry. */
  static ByteBuffer done(long cookie) {
    return chunkHeader(ByteBuffer.allocate(CHUNK_HEADER_SIZE), REPLY_FLAG_DONE, REPLY_TYPE_NONE, cookie, 0).flip();
  }

  /** NBD_REPLY_TYPE_ERROR with DONE: the error and a message for people. */
  static ByteBuffer errorChunk(long cookie, int error, String message) {
    byte[] m = utf8(message, 1024);
    ByteBuffer b = ByteBuffer.allocate(CHUNK_HEADER_SIZE + 6 + m.length);
    chunkHeader(b, REPLY_FLAG_DONE, REPLY_TYPE_ERROR, cookie, 6 + m.length);
    return b.putInt(error).putShort((short) m.length).put(m).flip();
  }

  /** Bytes of an OFFSET_DATA chunk before its data: header and the 64-bit offset. */
  static final int DATA_CHUNK_PREFIX = CHUNK_HEADER_SIZE + 8;
  /** An OFFSET_HOLE chunk: header, 64-bit offset, 32-bit hole size. */
  static final int HOLE_CHUNK_SIZE = CHUNK_HEADER_SIZE + 12;

  static ByteBuffer dataChunkPrefix(ByteBuffer b, int flags, long cookie, long offset, int dataLength) {
    return chunkHeader(b, flags, REPLY_TYPE_OFFSET_DATA, cookie, 8 + dataLength).putLong(offset);
  }

  static ByteBuffer holeChunk(ByteBuffer b, int flags, long cookie, long offset, int length) {
    return chunkHeader(b, flags, REPLY_TYPE_OFFSET_HOLE, cookie, 12).putLong(offset).putInt(length);
  }

  /** UTF-8 of {@code s}, cut to {@code max} bytes on a character boundary. */
  static byte[] utf8(String s, int max) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (b.length <= max) {
      return b;
    }
    int n = max;
    while (n > 0 && (b[n] & 0xC0) == 0x80) {
      n--; // do not cut a multi-byte character
    }
    return java.util.Arrays.copyOf(b, n);
  }
}
