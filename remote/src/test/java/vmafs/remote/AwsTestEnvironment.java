package vmafs.remote;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import vmafs.remote.testing.S3Server;

/**
 * Points the AWS SDK's default chains at the test server's keys and at profile files in a temp
 * directory: never the machine's own ~/.aws, and never the instance-metadata address.
 */
final class AwsTestEnvironment {
  private AwsTestEnvironment() {}

  static synchronized void install(Path dir) throws IOException {
    Path credentials = dir.resolve("aws-credentials");
    Files.writeString(credentials, "[good]\naws_access_key_id = " + S3Server.ACCESS_KEY
        + "\naws_secret_access_key = " + S3Server.SECRET_KEY + "\n"
        + "[wrong-secret]\naws_access_key_id = " + S3Server.ACCESS_KEY + "\naws_secret_access_key = not-it\n"
        + "[unknown-key]\naws_access_key_id = nobody\naws_secret_access_key = " + S3Server.SECRET_KEY + "\n");
    Path config = dir.resolve("aws-config");
    Files.writeString(config, "[profile good]\nregion = us-east-1\n[profile wrong-secret]\nregion = us-east-1\n"
        + "[profile unknown-key]\nregion = us-east-1\n");
    System.setProperty("aws.sharedCredentialsFile", credentials.toString());
    System.setProperty("aws.configFile", config.toString());
    System.setProperty("aws.accessKeyId", S3Server.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", S3Server.SECRET_KEY);
    System.setProperty("aws.region", "us-east-1");
    System.setProperty("aws.disableEc2Metadata", "true");
  }
}
