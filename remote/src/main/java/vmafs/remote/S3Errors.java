package vmafs.remote;

import java.io.IOException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import vmafs.remote.RemoteAccessException.Reason;

/** Turns what the AWS SDK throws into one-line {@link RemoteAccessException}s that name the object. */
final class S3Errors {
  private S3Errors() {}

  static RemoteAccessException of(String object, String bucket, S3Exception e) {
    String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    String said = code == null ? "HTTP " + e.statusCode() : code;
    int status = e.statusCode();
    if ("NoSuchBucket".equals(code)) {
      return new RemoteAccessException(object, Reason.NO_SUCH_BUCKET, "no such bucket '" + bucket + "'");
    }
    if ("NoSuchKey".equals(code) || status == 404) {
      return new RemoteAccessException(object, Reason.NOT_FOUND, "no such key (" + said + ")");
    }
    if ("ExpiredToken".equals(code) || "TokenRefreshRequired".equals(code) || "RequestExpired".equals(code)
        || "ExpiredTokenException".equals(code)) {
      return new RemoteAccessException(object, Reason.EXPIRED_CREDENTIALS, "the credentials have expired ("
          + said + "); renew them (aws sso login, a new session token) and try again");
    }
    if ("PermanentRedirect".equals(code) || "AuthorizationHeaderMalformed".equals(code) || status == 301) {
      String region = e.awsErrorDetails() == null ? null : e.awsErrorDetails().sdkHttpResponse()
          .firstMatchingHeader("x-amz-bucket-region").orElse(null);
      return new RemoteAccessException(object, Reason.WRONG_REGION, "the bucket is in another region ("
          + said + ")" + (region != null ? ": it is in " + region + "; set AWS_REGION=" + region
              : "; set AWS_REGION or the profile's region to the bucket's"));
    }
    if ("InvalidAccessKeyId".equals(code)) {
      return new RemoteAccessException(object, Reason.ACCESS_DENIED,
          "access denied: the server does not know this access key (InvalidAccessKeyId)");
    }
    if ("SignatureDoesNotMatch".equals(code)) {
      return new RemoteAccessException(object, Reason.ACCESS_DENIED,
          "access denied: the secret key does not match the access key (SignatureDoesNotMatch)");
    }
    if (status == 403 || status == 401) {
      return new RemoteAccessException(object, Reason.ACCESS_DENIED, "access denied (" + said + ")");
    }
    if ("PreconditionFailed".equals(code) || status == 412) {
      return changed(object);
    }
    if (status >= 500 || status == 429 || "SlowDown".equals(code)) {
      return new RemoteAccessException(object, Reason.SERVER_ERROR, "the server failed (" + said + ", HTTP "
          + status + ")");
    }
    return new RemoteAccessException(object, Reason.BAD_RESPONSE, "request refused (" + said + ", HTTP " + status
        + (e.awsErrorDetails() != null && e.awsErrorDetails().errorMessage() != null
            ? ": " + e.awsErrorDetails().errorMessage() : "") + ")");
  }

  static RemoteAccessException of(String object, String endpoint, SdkClientException e) {
    String m = String.valueOf(e.getMessage());
    if (m.startsWith("Unable to load credentials")) {
      return new RemoteAccessException(object, Reason.NO_CREDENTIALS, "no AWS credentials found: set"
          + " AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or name a profile of ~/.aws/credentials with --profile");
    }
    IOException io = ioCause(e);
    if (io != null) {
      return Responses.network(object, endpoint, io);
    }
    return new RemoteAccessException(object, Reason.BAD_RESPONSE, "the S3 client failed: " + Responses.firstLine(m), e);
  }

  static RemoteAccessException changed(String object) {
    return new RemoteAccessException(object, Reason.CHANGED,
        "the object changed while it was being read (its ETag is not the one it had when opened)");
  }

  private static IOException ioCause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof IOException io) {
        return io;
      }
    }
    return null;
  }
}
