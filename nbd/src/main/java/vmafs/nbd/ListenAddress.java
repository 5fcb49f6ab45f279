package vmafs.nbd;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Where the server listens: a Unix socket ({@code unix:PATH}) or TCP ({@code HOST:PORT}). */
public sealed interface ListenAddress {

  /** The address as the user writes it ({@code unix:/run/x.sock}, {@code [::1]:10809}). */
  String display();

  /**
   * The NBD URI of an export behind this address, as qemu, qemu-img and libnbd take it
   * ({@code nbd+unix:///drive-scsi0?socket=/run/x.sock}, {@code nbds://127.0.0.1:10809/drive-scsi0}).
   */
  String uri(String export, boolean tls);

  /** A Unix socket. The parent directory must exist. */
  record Unix(Path path) implements ListenAddress {
    /**
     * sun_path holds 108 bytes with the terminating NUL; the JDK takes at most 106 (measured: 107
     * fails with "Unix domain path too long").
     */
    public static final int MAX_PATH_BYTES = 106;

    public Unix {
      path = path.toAbsolutePath().normalize();
      if (path.toString().getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
        throw new IllegalArgumentException("unix:" + path + ": a Unix socket path may have at most "
            + MAX_PATH_BYTES + " bytes");
      }
    }

    @Override
    public String display() {
      return "unix:" + path;
    }

    @Override
    public String uri(String export, boolean tls) {
      return (tls ? "nbds+unix" : "nbd+unix") + ":///" + encode(export) + "?socket=" + path;
    }
  }

  /** A TCP address; port 0 picks a free port (see the address the server reports as bound). */
  record Tcp(String host, int port) implements ListenAddress {
    public Tcp {
      if (host.isEmpty()) {
        throw new IllegalArgumentException("give a host, e.g. 0.0.0.0:" + port + " for every IPv4 address"
            + " or [::]:" + port + " for every address");
      }
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port " + port + " is not between 0 and 65535");
      }
    }

    InetSocketAddress resolve() throws UnknownHostException {
      return new InetSocketAddress(InetAddress.getByName(host), port);
    }

    /** Whether only this host can connect (127.0.0.0/8, ::1); false for a host that does not resolve. */
    public boolean isLoopback() {
      try {
        return InetAddress.getByName(host).isLoopbackAddress();
      } catch (UnknownHostException e) {
        return false;
      }
    }

    @Override
    public String display() {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public String uri(String export, boolean tls) {
      return (tls ? "nbds" : "nbd") + "://" + display() + "/" + encode(export);
    }
  }

  /**
   * Parses {@code unix:PATH}, {@code HOST:PORT} or {@code [IPV6]:PORT}.
   *
   * @throws IllegalArgumentException saying what is wrong with {@code s}
   */
  static ListenAddress parse(String s) {
    if (s.startsWith("unix:")) {
      String p = s.substring("unix:".length());
      if (p.isEmpty()) {
        throw new IllegalArgumentException("'" + s + "': give the socket's path after 'unix:'");
      }
      return new Unix(Path.of(p));
    }
    String host;
    String port;
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("'" + s + "': an IPv6 address is written [ADDRESS]:PORT");
      }
      host = s.substring(1, close);
      port = s.substring(close + 2);
    } else {
      int colon = s.lastIndexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException("'" + s + "': expected unix:PATH or HOST:PORT");
      }
      host = s.substring(0, colon);
      port = s.substring(colon + 1);
      if (host.indexOf(':') >= 0) {
        throw new IllegalArgumentException("'" + s + "': write an IPv6 address in brackets, e.g. [::1]:10809");
      }
    }
    if (!port.matches("[0-9]{1,5}")) {
      throw new IllegalArgumentException("'" + s + "': '" + port + "' is not a port number");
    }
    return new Tcp(host, Integer.parseInt(port));
  }

  /** Percent-encodes all but RFC 3986's unreserved characters (export names are path segments). */
  private static String encode(String s) {
    StringBuilder sb = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0) {
        sb.append(c);
      } else {
        sb.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return sb.toString();
  }
}
