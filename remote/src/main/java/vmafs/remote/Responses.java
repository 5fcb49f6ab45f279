package vmafs.remote;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import vmafs.remote.RemoteAccessException.Reason;

/** Reading response bodies and naming network failures, the same for S3 and HTTP. */
final class Responses {
  private Responses() {}

  /** Reads exactly {@code len} bytes of a body; a short or broken body is a retryable failure. */
  static void readExactly(String name, InputStream in, byte[] dst, int len, TransferCounters counters)
      throws RemoteAccessException {
    int off = 0;
    try {
      while (off < len) {
        int n = in.read(dst, off, len - off);
        if (n < 0) {
          throw new RemoteAccessException(name, Reason.NETWORK, "the answer ended after " + off + " of " + len
              + " bytes");
        }
        off += n;
        counters.received(n);
      }
    } catch (RemoteAccessException e) {
      throw e;
    } catch (IOException e) {
      throw new RemoteAccessException(name, Reason.NETWORK, "connection lost after " + off + " of " + len
          + " bytes (" + firstLine(e.getMessage()) + ")", e);
    }
  }

  /** A failure to connect or to get an answer from {@code endpoint}; retryable. */
  static RemoteAccessException network(String name, String endpoint, IOException io) {
    String what = io instanceof ConnectException ? "cannot connect to " + endpoint
        : io instanceof UnknownHostException ? "unknown host in " + endpoint
        : io instanceof SocketTimeoutException || io instanceof HttpTimeoutException
            ? "no answer from " + endpoint + " in time"
        : "connection to " + endpoint + " failed";
    String why = io.getMessage() != null ? io.getMessage() : io.getClass().getSimpleName();
    return new RemoteAccessException(name, Reason.NETWORK, what + " (" + firstLine(why) + ")", io);
  }

  /** {@link InputStream#read()} through the stream's own {@code read(byte[], int, int)}. */
  static int readByte(InputStream in) throws IOException {
    byte[] one = new byte[1];
    int n;
    do {
      n = in.read(one, 0, 1);
    } while (n == 0);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
