package vmafs.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import vmafs.remote.RemoteAccessException.Reason;

/**
 * The answers of AWS itself that s3proxy does not give (it ignores regions and issues no session
 * tokens), as the SDK reports them: each becomes one line that says what to do.
 */
class S3ErrorsTest {
  static S3Exception answer(int status, String code, Map<String, List<String>> headers) {
    return (S3Exception) S3Exception.builder().statusCode(status)
        .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage("as AWS says it")
            .sdkHttpResponse(SdkHttpResponse.builder().statusCode(status).headers(headers).build()).build())
        .build();
  }

  @Test
  void wrongRegionNamesTheBucketsRegion() {
    RemoteAccessException e = S3Errors.of("s3://b/k", "b",
        answer(301, "PermanentRedirect", Map.of("x-amz-bucket-region", List.of("eu-central-1"))));
    assertEquals(Reason.WRONG_REGION, e.reason());
    assertEquals("s3://b/k: the bucket is in another region (PermanentRedirect): it is in eu-central-1;"
        + " set AWS_REGION=eu-central-1", e.getMessage());
  }

  @Test
  void expiredCredentials() {
    RemoteAccessException e = S3Errors.of("s3://b/k", "b", answer(400, "ExpiredToken", Map.of()));
    assertEquals(Reason.EXPIRED_CREDENTIALS, e.reason());
    assertEquals("s3://b/k: the credentials have expired (ExpiredToken); renew them (aws sso login, a new"
        + " session token) and try again", e.getMessage());
  }

  @Test
  void slowDownIsRetryableAndOtherRefusalsAreNot() {
    assertEquals(true, S3Errors.of("s3://b/k", "b", answer(503, "SlowDown", Map.of())).retryable());
    RemoteAccessException e = S3Errors.of("s3://b/k", "b", answer(400, "InvalidRequest", Map.of()));
    assertEquals(false, e.retryable());
    assertEquals("s3://b/k: request refused (InvalidRequest, HTTP 400: as AWS says it)", e.getMessage());
  }

  @Test
  void noCredentials() {
    RemoteAccessException e = S3Errors.of("s3://b/k", "S3", SdkClientException.create(
        "Unable to load credentials from any of the providers in the chain AwsCredentialsProviderChain(...)"));
    assertEquals(Reason.NO_CREDENTIALS, e.reason());
    assertEquals("s3://b/k: no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or name a"
        + " profile of ~/.aws/credentials with --profile", e.getMessage());
  }
}
