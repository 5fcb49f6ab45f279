package vmafs.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** Bytes straight to and from the socket. */
final class PlainTransport implements Transport {
  private final SocketChannel channel;

  PlainTransport(SocketChannel channel) {
    this.channel = channel;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return channel.read(dst);
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    return channel.write(srcs, offset, length);
  }

  @Override
  public boolean flush() {
    return true;
  }

  @Override
  public boolean hasBufferedInput() {
    return false;
  }

  @Override
  public boolean wantsWrite() {
    return false;
  }

  @Override
  public boolean buffersOutput() {
    return false;
  }

  @Override
  public void shutdownOutput() {
    // nothing to say before the close
  }
}
