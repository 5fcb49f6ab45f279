package vmafs.remote;

import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import software.amazon.awssdk.services.s3.S3Client;
import vmafs.remote.testing.S3Server;

/**
 * bench/remote.sh: reads one object from a local s3proxy to nowhere, three ways, interleaved and
 * repeated in one run: the SDK's plain GET (the baseline), the SDK's ranged GETs of 1 MiB one after
 * the other (what a naive positional reader costs), {@link RemoteStoredBytes#openSequential} (one
 * streaming GET), and positional reads of 1 MiB in order (pieces, read-ahead, parallel).
 *
 * <p>Usage: {@code RemoteBench FILE SCRATCH_DIR RUNS}.
 */
public final class RemoteBench {
  private static final String BUCKET = "bench";
  private static final String KEY = "object.bin";

  private RemoteBench() {}

  public static void main(String[] args) throws Exception {
    if (args[0].equals("get")) {
      sdkGet(URI.create(args[1]), args[2], args[3]);
      return;
    }
    Path file = Path.of(args[0]);
    Path scratch = Path.of(args[1]);
    int runs = Integer.parseInt(args[2]);
    long size = Files.size(file);
    try (S3Server s3 = S3Server.start(Files.createDirectories(scratch.resolve("s3")))) {
      s3.createBucket(BUCKET);
      s3.put(BUCKET, KEY, file);
      System.setProperty("aws.accessKeyId", S3Server.ACCESS_KEY);
      System.setProperty("aws.secretAccessKey", S3Server.SECRET_KEY);
      System.setProperty("aws.region", "us-east-1");
      System.setProperty("aws.disableEc2Metadata", "true");
      RemoteOptions options = RemoteOptions.defaults().withEndpoint(s3.endpoint());
      Map<String, List<Double>> secs = new LinkedHashMap<>();
      List<String> order = new ArrayList<>(List.of("sdk-get", "sdk-ranges", "sequential", "pieces"));
      for (String v : order) {
        secs.put(v, new ArrayList<>());
      }
      byte[] sink = new byte[1 << 20];
      try (S3Client sdk = S3StoredBytes.client(options, s3.endpoint())) {
        for (int r = 0; r < runs; r++) {
          Collections.rotate(order, 1);
          for (String v : order) {
            long t0 = System.nanoTime();
            long got = 0;
            String requests = "1";
            switch (v) {
              case "sdk-get" -> {
                try (InputStream in = sdk.getObject(b -> b.bucket(BUCKET).key(KEY))) {
                  for (int n; (n = in.read(sink)) >= 0; ) {
                    got += n;
                  }
                }
              }
              case "sdk-ranges" -> {
                int n = 0;
                for (long pos = 0; pos < size; pos += sink.length, n++) {
                  String range = "bytes=" + pos + "-" + (Math.min(size, pos + sink.length) - 1);
                  try (InputStream in = sdk.getObject(b -> b.bucket(BUCKET).key(KEY).range(range))) {
                    for (int k; (k = in.read(sink)) >= 0; ) {
                      got += k;
                    }
                  }
                }
                requests = String.valueOf(n);
              }
              case "sequential" -> {
                try (S3StoredBytes o = S3StoredBytes.open(BUCKET, KEY, options);
                    InputStream in = o.openSequential(0)) {
                  for (int n; (n = in.read(sink)) >= 0; ) {
                    got += n;
                  }
                  requests = String.valueOf(o.stats().requests());
                }
              }
              default -> {
                try (S3StoredBytes o = S3StoredBytes.open(BUCKET, KEY, options)) {
                  ByteBuffer buf = ByteBuffer.wrap(sink);
                  for (long pos = 0; pos < size; pos += sink.length) {
                    buf.clear().limit((int) Math.min(sink.length, size - pos));
                    o.readFully(pos, buf);
                    got += buf.position();
                  }
                  requests = String.valueOf(o.stats().requests());
                }
              }
            }
            double s = (System.nanoTime() - t0) / 1e9;
            if (got != size) {
              throw new IllegalStateException(v + " read " + got + " of " + size + " bytes");
            }
            secs.get(v).add(s);
            System.out.printf(Locale.ROOT, "run %d %-10s %6.2f s %7.0f MiB/s %s requests%n", r + 1, v, s,
                size / 1048576.0 / s, requests);
          }
        }
      }
      double base = median(secs.get("sdk-get"));
      for (Map.Entry<String, List<Double>> e : secs.entrySet()) {
        double m = median(e.getValue());
        System.out.printf(Locale.ROOT, "median %-10s %6.2f s %7.0f MiB/s  ratio to sdk-get %.2f%n", e.getKey(), m,
            size / 1048576.0 / m, m / base);
      }
    }
  }

  /**
   * {@code RemoteBench get ENDPOINT BUCKET KEY}: the object to nowhere with one plain SDK GET, the
   * baseline of bench/remote.sh's mount figures; prints the seconds of the GET (not of the JVM).
   * Credentials from the environment.
   */
  private static void sdkGet(URI endpoint, String bucket, String key) throws Exception {
    RemoteOptions options = RemoteOptions.defaults().withEndpoint(endpoint);
    byte[] sink = new byte[1 << 20];
    try (S3Client sdk = S3StoredBytes.client(options, endpoint)) {
      long t0 = System.nanoTime();
      long got = 0;
      try (InputStream in = sdk.getObject(b -> b.bucket(bucket).key(key))) {
        for (int n; (n = in.read(sink)) >= 0; ) {
          got += n;
        }
      }
      System.out.printf(Locale.ROOT, "%.3f %d%n", (System.nanoTime() - t0) / 1e9, got);
    }
  }

  private static double median(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    Collections.sort(s);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }
}
