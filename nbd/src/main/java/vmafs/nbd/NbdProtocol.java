package vmafs.nbd;

/**
 * Every number of the NBD protocol this server uses, with its byte layout; the subset and the
 * choices are in docs/nbd-protocol.md (which cites the upstream spec, doc/proto.md of the NBD
 * project). All integers on the wire are big-endian.
 */
final class NbdProtocol {
  private NbdProtocol() {}

  // ---- handshake (docs/nbd-protocol.md, "Handshake") ----

  /** 'NBDMAGIC', the first 8 bytes the server sends. */
  static final long INIT_MAGIC = 0x4e42444d41474943L;
  /** 'IHAVEOPT': after INIT_MAGIC (newstyle), and the first 8 bytes of every client option. */
  static final long OPTION_MAGIC = 0x49484156454F5054L;
  /** The magic of every option reply (fixed newstyle). */
  static final long REPLY_MAGIC = 0x3e889045565a9L;

  /** Handshake flags (16 bits, server to client). */
  static final int FLAG_FIXED_NEWSTYLE = 1;
  static final int FLAG_NO_ZEROES = 1 << 1;

  /** Client flags (32 bits); any other bit set means the server must drop the connection. */
  static final int CLIENT_FIXED_NEWSTYLE = 1;
  static final int CLIENT_NO_ZEROES = 1 << 1;
  static final int CLIENT_KNOWN_FLAGS = CLIENT_FIXED_NEWSTYLE | CLIENT_NO_ZEROES;

  /** Server greeting: INIT_MAGIC, OPTION_MAGIC, 16-bit handshake flags. */
  static final int GREETING_SIZE = 18;
  /** Client option header: OPTION_MAGIC, 32-bit option, 32-bit data length. */
  static final int OPTION_HEADER_SIZE = 16;
  /** Option reply header: REPLY_MAGIC, option, reply type, 32-bit length. */
  static final int OPTION_REPLY_HEADER_SIZE = 20;
  /** NBD_OPT_EXPORT_NAME's reply: size, transmission flags, and 124 zeros unless NO_ZEROES. */
  static final int EXPORT_NAME_ZEROES = 124;

  // Options.
  static final int OPT_EXPORT_NAME = 1;
  static final int OPT_ABORT = 2;
  static final int OPT_LIST = 3;
  static final int OPT_STARTTLS = 5;
  static final int OPT_INFO = 6;
  static final int OPT_GO = 7;
  static final int OPT_STRUCTURED_REPLY = 8;
  static final int OPT_LIST_META_CONTEXT = 9;
  static final int OPT_SET_META_CONTEXT = 10;

  // Option reply types; errors have bit 31 set.
  static final int REP_ACK = 1;
  static final int REP_SERVER = 2;
  static final int REP_INFO = 3;
  static final int REP_META_CONTEXT = 4;
  static final int REP_ERR_UNSUP = 0x80000001;
  static final int REP_ERR_POLICY = 0x80000002;
  static final int REP_ERR_INVALID = 0x80000003;
  static final int REP_ERR_TLS_REQD = 0x80000005;
  static final int REP_ERR_UNKNOWN = 0x80000006;
  static final int REP_ERR_SHUTDOWN = 0x80000007;
  static final int REP_ERR_TOO_BIG = 0x80000009;

  // NBD_REP_INFO types (16 bits, first in the reply's data).
  static final int INFO_EXPORT = 0;
  static final int INFO_NAME = 1;
  static final int INFO_DESCRIPTION = 2;
  static final int INFO_BLOCK_SIZE = 3;

  /** Transmission flags (16 bits). */
  static final int TFLAG_HAS_FLAGS = 1;
  static final int TFLAG_READ_ONLY = 1 << 1;
  static final int TFLAG_SEND_DF = 1 << 7;
  static final int TFLAG_CAN_MULTI_CONN = 1 << 8;
  static final int TFLAG_SEND_CACHE = 1 << 10;

  /** The one metadata context: allocation status, with these descriptor flags. */
  static final String BASE_ALLOCATION = "base:allocation";
  static final String BASE_NAMESPACE = "base:";
  static final int STATE_HOLE = 1;
  static final int STATE_ZERO = 1 << 1;

  /**
   * Strings (export names, queries, messages) SHOULD be at most 256 bytes and MUST be at most
   * 4096.
   */
  static final int MAX_STRING = 4096;

  // ---- transmission (docs/nbd-protocol.md, "Transmission") ----

  static final int REQUEST_MAGIC = 0x25609513;
  static final int SIMPLE_REPLY_MAGIC = 0x67446698;
  static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

  /** Request: magic, 16-bit flags, 16-bit type, 64-bit cookie, 64-bit offset, 32-bit length. */
  static final int REQUEST_SIZE = 28;
  /** Simple reply: magic, 32-bit error, 64-bit cookie (then the data of a successful read). */
  static final int SIMPLE_REPLY_SIZE = 16;
  /** Structured chunk: magic, 16-bit flags, 16-bit type, 64-bit cookie, 32-bit payload length. */
  static final int CHUNK_HEADER_SIZE = 20;

  // Commands.
  static final int CMD_READ = 0;
  static final int CMD_WRITE = 1;
  static final int CMD_DISC = 2;
  static final int CMD_FLUSH = 3;
  static final int CMD_TRIM = 4;
  static final int CMD_CACHE = 5;
  static final int CMD_WRITE_ZEROES = 6;
  static final int CMD_BLOCK_STATUS = 7;

  // Command flags.
  static final int CMD_FLAG_FUA = 1;
  static final int CMD_FLAG_DF = 1 << 2;
  static final int CMD_FLAG_REQ_ONE = 1 << 3;

  /** Structured reply flag: the last chunk of a reply. */
  static final int REPLY_FLAG_DONE = 1;

  // Structured chunk types; error chunks have bit 15 set.
  static final int REPLY_TYPE_NONE = 0;
  static final int REPLY_TYPE_OFFSET_DATA = 1;
  static final int REPLY_TYPE_OFFSET_HOLE = 2;
  static final int REPLY_TYPE_BLOCK_STATUS = 5;
  static final int REPLY_TYPE_ERROR = 0x8001;

  // Error values (errno-like, but fixed by the protocol).
  static final int EPERM = 1;
  static final int EIO = 5;
  static final int EINVAL = 22;
  static final int ESHUTDOWN = 108;

  /** The names of commands, for logs. */
  static String commandName(int type) {
    return switch (type) {
      case CMD_READ -> "READ";
      case CMD_WRITE -> "WRITE";
      case CMD_DISC -> "DISC";
      case CMD_FLUSH -> "FLUSH";
      case CMD_TRIM -> "TRIM";
      case CMD_CACHE -> "CACHE";
      case CMD_WRITE_ZEROES -> "WRITE_ZEROES";
      case CMD_BLOCK_STATUS -> "BLOCK_STATUS";
      default -> "command " + type;
    };
  }

  /** The names of options, for logs. */
  static String optionName(int option) {
    return switch (option) {
      case OPT_EXPORT_NAME -> "EXPORT_NAME";
      case OPT_ABORT -> "ABORT";
      case OPT_LIST -> "LIST";
      case OPT_STARTTLS -> "STARTTLS";
      case OPT_INFO -> "INFO";
      case OPT_GO -> "GO";
      case OPT_STRUCTURED_REPLY -> "STRUCTURED_REPLY";
      case OPT_LIST_META_CONTEXT -> "LIST_META_CONTEXT";
      case OPT_SET_META_CONTEXT -> "SET_META_CONTEXT";
      default -> "option " + Integer.toUnsignedString(option);
    };
  }
}
