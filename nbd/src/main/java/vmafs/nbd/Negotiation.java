package vmafs.nbd;

import static vmafs.nbd.NbdProtocol.*;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The option haggling of one connection (fixed newstyle): what the client has negotiated so far,
 * and the replies and next step for each option. No I/O: the connection feeds it whole options.
 */
final class Negotiation {
  /** The context id of base:allocation in BLOCK_STATUS replies (any value would do). */
  static final int BASE_ALLOCATION_ID = 1;
  /** Minimum block size: any byte can be read (the images are byte-addressable). */
  static final int MIN_BLOCK = 1;
  /** Preferred block size: the hole map's granularity. */
  static final int PREFERRED_BLOCK = 4096;

  /** What the connection does after sending the replies. */
  enum Next { CONTINUE, START_TLS, TRANSMIT, CLOSE }

  /** Replies to send, in order, then {@code next}; {@code session} when next is TRANSMIT. */
  record Outcome(List<ByteBuffer> replies, Next next, Session session, String reason) {
    static Outcome reply(ByteBuffer... replies) {
      return new Outcome(List.of(replies), Next.CONTINUE, null, null);
    }

    static Outcome close(String reason) {
      return new Outcome(List.of(), Next.CLOSE, null, reason);
    }
  }

  /** What transmission works with: the export, the reply style, the metadata context. */
  record Session(Export export, boolean structured, boolean baseAllocation, int flags) {}

  private final Exports exports;
  private final TlsMode tlsMode;
  private final boolean tlsAvailable;
  private boolean fixedNewstyle;
  private boolean noZeroes;
  private boolean tls;
  private boolean structured;
  /** The export SET_META_CONTEXT selected base:allocation for, or null. */
  private Export metaExport;
  private volatile boolean shuttingDown;

  Negotiation(Exports exports, TlsMode tlsMode, boolean tlsAvailable) {
    this.exports = exports;
    this.tlsMode = tlsMode;
    this.tlsAvailable = tlsAvailable && tlsMode != TlsMode.OFF;
  }

  /** The client's 32-bit flags; false when the connection must be dropped (unknown flags). */
  boolean clientFlags(int flags) {
    if ((flags & ~CLIENT_KNOWN_FLAGS) != 0) {
      return false;
    }
    fixedNewstyle = (flags & CLIENT_FIXED_NEWSTYLE) != 0;
    noZeroes = (flags & CLIENT_NO_ZEROES) != 0;
    return true;
  }

  void shutDown() {
    shuttingDown = true;
  }

  boolean tls() {
    return tls;
  }

  /** After the TLS handshake: nothing negotiated in plain text survives (spec: STARTTLS). */
  void tlsStarted() {
    tls = true;
    structured = false;
    metaExport = null;
  }

  /** An option too long to be held: refused without reading it into memory. */
  Outcome oversized(int option, long length) {
    if (option == OPT_EXPORT_NAME || !fixedNewstyle) {
      return Outcome.close(optionName(option) + " with " + length + " bytes of data");
    }
    return Outcome.reply(Wire.optionError(option, REP_ERR_TOO_BIG,
        optionName(option) + ": " + length + " bytes of option data is more than this server takes"));
  }

  /** One option with all its data. */
  Outcome option(int option, ByteBuffer data) {
    if (!fixedNewstyle && option != OPT_EXPORT_NAME) {
      // Without fixed newstyle there is no way to reply to any other option.
      return Outcome.close("option " + optionName(option) + " from a client without fixed newstyle");
    }
    boolean tlsRequired = tlsMode == TlsMode.REQUIRE && !tls;
    if (option == OPT_EXPORT_NAME) {
      return exportName(data, tlsRequired);
    }
    if (option == OPT_ABORT) {
      return new Outcome(List.of(Wire.ack(option)), Next.CLOSE, null, "the client aborted the handshake");
    }
    if (shuttingDown) {
      return Outcome.reply(Wire.optionError(option, REP_ERR_SHUTDOWN, "the server is shutting down"));
    }
    if (option == OPT_STARTTLS) {
      return startTls(data);
    }
    if (tlsRequired) {
      return Outcome.reply(Wire.optionError(option, REP_ERR_TLS_REQD,
          "this server requires TLS: connect with TLS (e.g. nbds:// or qemu's tls-creds)"));
    }
    try {
      return switch (option) {
        case OPT_LIST -> list(data);
        case OPT_INFO, OPT_GO -> infoOrGo(option, data);
        case OPT_STRUCTURED_REPLY -> structuredReply(data);
        case OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT -> metaContext(option, data);
        default -> Outcome.reply(Wire.optionError(option, REP_ERR_UNSUP,
            optionName(option) + " is not supported by this server"));
      };
    } catch (Invalid e) {
      return Outcome.reply(Wire.optionError(option, REP_ERR_INVALID, optionName(option) + ": " + e.getMessage()));
    }
  }

  private Outcome exportName(ByteBuffer data, boolean tlsRequired) {
    if (tlsRequired) {
      return Outcome.close("NBD_OPT_EXPORT_NAME without TLS, which this server requires");
    }
    if (shuttingDown) {
      return Outcome.close("the server is shutting down");
    }
    String name;
    try {
      name = string(data, data.remaining());
    } catch (Invalid e) {
      return Outcome.close("NBD_OPT_EXPORT_NAME: " + e.getMessage());
    }
    Export e = exports.find(name);
    if (e == null) {
      return Outcome.close("NBD_OPT_EXPORT_NAME for '" + name + "', which is not an export");
    }
    Session s = session(e);
    return new Outcome(List.of(Wire.exportName(e.content().size(), s.flags(), noZeroes)), Next.TRANSMIT, s, null);
  }

  private Outcome startTls(ByteBuffer data) {
    if (data.hasRemaining()) {
      return Outcome.reply(Wire.optionError(OPT_STARTTLS, REP_ERR_INVALID, "STARTTLS takes no data"));
    }
    if (!tlsAvailable) {
      return Outcome.reply(Wire.optionError(OPT_STARTTLS, REP_ERR_POLICY,
          "TLS is not enabled on this server (vmafs nbd --tls-cert/--tls-key)"));
    }
    if (tls) {
      return Outcome.reply(Wire.optionError(OPT_STARTTLS, REP_ERR_INVALID, "TLS is already running"));
    }
    return new Outcome(List.of(Wire.ack(OPT_STARTTLS)), Next.START_TLS, null, null);
  }

  private Outcome list(ByteBuffer data) {
    if (data.hasRemaining()) {
      return Outcome.reply(Wire.optionError(OPT_LIST, REP_ERR_INVALID, "LIST takes no data"));
    }
    List<ByteBuffer> out = new ArrayList<>();
    for (Export e : exports.all()) {
      out.add(Wire.server(OPT_LIST, e));
    }
    out.add(Wire.ack(OPT_LIST));
    return new Outcome(out, Next.CONTINUE, null, null);
  }

  private Outcome infoOrGo(int option, ByteBuffer data) throws Invalid {
    if (data.remaining() < 6) {
      throw new Invalid("option data too short");
    }
    long nameLength = Integer.toUnsignedLong(data.getInt());
    if (nameLength > data.remaining() - 2) {
      throw new Invalid("export name length " + nameLength + " exceeds the option data");
    }
    String name = string(data, (int) nameLength);
    int requests = Short.toUnsignedInt(data.getShort());
    if (data.remaining() != 2 * requests) {
      throw new Invalid(requests + " information requests do not fill the option's remaining "
          + data.remaining() + " bytes");
    }
    boolean wantName = false;
    boolean wantDescription = false;
    for (int i = 0; i < requests; i++) {
      int info = Short.toUnsignedInt(data.getShort());
      wantName |= info == INFO_NAME;
      wantDescription |= info == INFO_DESCRIPTION;
    }
    Export e = exports.find(name);
    if (e == null) {
      return Outcome.reply(Wire.optionError(option, REP_ERR_UNKNOWN, exports.unknown(name)));
    }
    Session s = session(e);
    List<ByteBuffer> out = new ArrayList<>();
    out.add(Wire.infoExport(option, e.content().size(), s.flags()));
    if (wantName) {
      out.add(Wire.infoString(option, INFO_NAME, e.name()));
    }
    if (wantDescription) {
      out.add(Wire.infoString(option, INFO_DESCRIPTION, e.description()));
    }
    // Sent whether asked or not (clients ignore what they did not ask for): what the server honours.
    out.add(Wire.infoBlockSize(option, MIN_BLOCK, PREFERRED_BLOCK, ServerLimits.MAX_PAYLOAD));
    out.add(Wire.ack(option));
    return new Outcome(out, option == OPT_GO ? Next.TRANSMIT : Next.CONTINUE, option == OPT_GO ? s : null, null);
  }

  private Outcome structuredReply(ByteBuffer data) {
    if (data.hasRemaining()) {
      return Outcome.reply(Wire.optionError(OPT_STRUCTURED_REPLY, REP_ERR_INVALID, "STRUCTURED_REPLY takes no data"));
    }
    structured = true;
    return Outcome.reply(Wire.ack(OPT_STRUCTURED_REPLY));
  }

  private Outcome metaContext(int option, ByteBuffer data) throws Invalid {
    boolean set = option == OPT_SET_META_CONTEXT;
    if (set) {
      metaExport = null; // replaced even when the option fails
    }
    if (!structured) {
      throw new Invalid("negotiate structured replies (NBD_OPT_STRUCTURED_REPLY) first");
    }
    if (data.remaining() < 8) {
      throw new Invalid("option data too short");
    }
    long nameLength = Integer.toUnsignedLong(data.getInt());
    if (nameLength > data.remaining() - 4) {
      throw new Invalid("export name length " + nameLength + " exceeds the option data");
    }
    String name = string(data, (int) nameLength);
    long queries = Integer.toUnsignedLong(data.getInt());
    if (queries > data.remaining() / 4) {
      throw new Invalid(queries + " queries cannot fit in " + data.remaining() + " bytes");
    }
    boolean match = !set && queries == 0; // LIST with no query lists every context
    for (long i = 0; i < queries; i++) {
      if (data.remaining() < 4) {
        throw new Invalid("query " + i + " is cut short");
      }
      long length = Integer.toUnsignedLong(data.getInt());
      if (length > data.remaining()) {
        throw new Invalid("query " + i + " length " + length + " exceeds the option data");
      }
      String q = string(data, (int) length);
      if (q.indexOf(':') < 0) {
        throw new Invalid("query '" + q + "' has no namespace (namespace:name)");
      }
      match |= q.equals(BASE_ALLOCATION) || (!set && q.equals(BASE_NAMESPACE));
    }
    if (data.hasRemaining()) {
      throw new Invalid(data.remaining() + " bytes after the last query");
    }
    Export e = exports.find(name);
    if (e == null) {
      return Outcome.reply(Wire.optionError(option, REP_ERR_UNKNOWN, exports.unknown(name)));
    }
    List<ByteBuffer> out = new ArrayList<>();
    if (match) {
      out.add(Wire.metaContext(option, set ? BASE_ALLOCATION_ID : 0, BASE_ALLOCATION));
      if (set) {
        metaExport = e;
      }
    }
    out.add(Wire.ack(option));
    return new Outcome(out, Next.CONTINUE, null, null);
  }

  private Session session(Export e) {
    int flags = TFLAG_HAS_FLAGS | TFLAG_READ_ONLY | TFLAG_CAN_MULTI_CONN | TFLAG_SEND_CACHE;
    if (structured) {
      flags |= TFLAG_SEND_DF;
    }
    return new Session(e, structured, structured && metaExport == e, flags);
  }

  /** {@code length} bytes of {@code data} as a protocol string (UTF-8, no NUL, at most 4096 bytes). */
  private static String string(ByteBuffer data, int length) throws Invalid {
    if (length > MAX_STRING) {
      throw new Invalid("a string of " + length + " bytes (at most " + MAX_STRING + ")");
    }
    ByteBuffer b = data.slice(data.position(), length);
    data.position(data.position() + length);
    String s;
    try {
      s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(b).toString();
    } catch (CharacterCodingException e) {
      throw new Invalid("a string that is not UTF-8");
    }
    if (s.indexOf('\0') >= 0) {
      throw new Invalid("a string with a NUL character");
    }
    return s;
  }

  /** A syntactically or semantically invalid option: NBD_REP_ERR_INVALID with this message. */
  private static final class Invalid extends Exception {
    private static final long serialVersionUID = 1L;

    Invalid(String message) {
      super(message, null, false, false);
    }
  }
}
