package vmafs.nbd.tls;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * The little DER a private key needs: reading the outer structure of PKCS#1 / SEC1 keys and
 * writing the PKCS#8 envelope the JDK's KeyFactory takes (docs/nbd-protocol.md, "TLS keys").
 */
final class Der {
  static final int INTEGER = 0x02;
  static final int BIT_STRING = 0x03;
  static final int OCTET_STRING = 0x04;
  static final int NULL = 0x05;
  static final int OID = 0x06;
  static final int SEQUENCE = 0x30;
  /** [0] EXPLICIT, constructed: SEC1's ECParameters. */
  static final int CONTEXT_0 = 0xA0;

  /** rsaEncryption, 1.2.840.113549.1.1.1. */
  static final byte[] OID_RSA = {0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01};
  /** id-ecPublicKey, 1.2.840.10045.2.1. */
  static final byte[] OID_EC = {0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

  private Der() {}

  /** One TLV read from a buffer: tag, and where its content lies. */
  record Tlv(int tag, byte[] buf, int start, int end) {
    byte[] content() {
      return Arrays.copyOfRange(buf, start, end);
    }

    /** The elements of a constructed value. */
    Reader children() {
      return new Reader(buf, start, end);
    }
  }

  /** Reads consecutive TLVs between two offsets, checking every length against the bounds. */
  static final class Reader {
    private final byte[] buf;
    private final int end;
    private int pos;

    Reader(byte[] buf, int start, int end) {
      this.buf = buf;
      this.pos = start;
      this.end = end;
    }

    boolean hasNext() {
      return pos < end;
    }

    Tlv next() throws BadDer {
      if (pos + 2 > end) {
        throw new BadDer("truncated at byte " + pos);
      }
      int tag = buf[pos++] & 0xff;
      int len = buf[pos++] & 0xff;
      if (len >= 0x80) {
        int bytes = len & 0x7f;
        if (bytes == 0 || bytes > 3 || pos + bytes > end) {
          throw new BadDer("bad length at byte " + (pos - 1));
        }
        len = 0;
        for (int i = 0; i < bytes; i++) {
          len = len << 8 | (buf[pos++] & 0xff);
        }
      }
      if (len > end - pos) {
        throw new BadDer("a length of " + len + " runs past the end at byte " + pos);
      }
      Tlv t = new Tlv(tag, buf, pos, pos + len);
      pos += len;
      return t;
    }

    Tlv next(int expectedTag) throws BadDer {
      Tlv t = next();
      if (t.tag() != expectedTag) {
        throw new BadDer("expected tag 0x" + Integer.toHexString(expectedTag) + ", found 0x"
            + Integer.toHexString(t.tag()) + " at byte " + (t.start() - 2));
      }
      return t;
    }
  }

  static byte[] encode(int tag, byte[]... parts) {
    int len = 0;
    for (byte[] p : parts) {
      len += p.length;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(len + 6);
    out.write(tag);
    if (len < 0x80) {
      out.write(len);
    } else if (len < 0x100) {
      out.write(0x81);
      out.write(len);
    } else if (len < 0x10000) {
      out.write(0x82);
      out.write(len >> 8);
      out.write(len);
    } else {
      out.write(0x83);
      out.write(len >> 16);
      out.write(len >> 8);
      out.write(len);
    }
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /** PKCS#8 PrivateKeyInfo: version 0, the algorithm, the key in an OCTET STRING. */
  static byte[] pkcs8(byte[] algorithmIdentifier, byte[] privateKey) {
    return encode(SEQUENCE, encode(INTEGER, new byte[] {0}), algorithmIdentifier,
        encode(OCTET_STRING, privateKey));
  }

  static final class BadDer extends Exception {
    private static final long serialVersionUID = 1L;

    BadDer(String message) {
      super(message);
    }
  }
}
