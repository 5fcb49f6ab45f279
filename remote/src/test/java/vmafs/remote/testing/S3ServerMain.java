package vmafs.remote.testing;

import java.nio.file.Path;

/**
 * {@link S3Server} as a process, for benchmarks and manual runs:
 * {@code S3ServerMain BASEDIR [BUCKET/KEY=FILE]...} uploads the files, prints the endpoint URL on
 * one line, and serves until its standard input ends.
 */
public final class S3ServerMain {
  private S3ServerMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: S3ServerMain BASEDIR [BUCKET/KEY=FILE]...");
      System.exit(2);
    }
    try (S3Server s3 = S3Server.start(Path.of(args[0]))) {
      for (int i = 1; i < args.length; i++) {
        int eq = args[i].indexOf('=');
        int slash = args[i].indexOf('/');
        String bucket = args[i].substring(0, slash);
        s3.createBucket(bucket);
        s3.put(bucket, args[i].substring(slash + 1, eq), Path.of(args[i].substring(eq + 1)));
      }
      System.out.println(s3.endpoint());
      System.out.flush();
      while (System.in.read() >= 0) {
        // serve until stdin closes
      }
    }
  }
}
