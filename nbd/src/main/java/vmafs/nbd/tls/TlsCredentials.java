package vmafs.nbd.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's TLS identity from PEM files as {@code certtool} and {@code openssl} write them: a
 * certificate (chain), its private key (PKCS#8 {@code PRIVATE KEY}, PKCS#1 {@code RSA PRIVATE KEY}
 * or SEC1 {@code EC PRIVATE KEY}), and optionally the CA that client certificates must chain to.
 * Checked when loaded: the key must belong to the certificate.
 */
public final class TlsCredentials {
  private static final Logger log = LoggerFactory.getLogger(TlsCredentials.class);
  /** No PEM file of a certificate, key or CA bundle is anywhere near this. */
  private static final long MAX_PEM_BYTES = 1 << 20;
  private static final Pattern BLOCK = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----\\r?\\n(.*?)-----END \\1-----", Pattern.DOTALL);
  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  static {
    // TLS 1.2 renegotiation started by a client costs the server a handshake each time and buys
    // nothing here; the JDK reads this once, before its first server handshake.
    System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
  }

  private final SSLContext context;
  private final boolean verifyClients;
  private final String subject;

  private TlsCredentials(SSLContext context, boolean verifyClients, String subject) {
    this.context = context;
    this.verifyClients = verifyClients;
    this.subject = subject;
  }

  /**
   * @param ca certificates client certificates must chain to; null: clients need none
   * @throws CredentialsException naming the file and what is wrong with it
   */
  public static TlsCredentials load(Path certificate, Path key, Path ca) throws CredentialsException {
    List<X509Certificate> chain = certificates(certificate);
    PrivateKey privateKey = privateKey(key);
    X509Certificate leaf = chain.get(0);
    checkPair(privateKey, leaf, certificate, key);
    checkValidity(leaf, certificate);
    try {
      char[] password = new char[0];
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("server", privateKey, password, chain.toArray(X509Certificate[]::new));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, password);
      TrustManagerFactory tmf = null;
      if (ca != null) {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (X509Certificate c : certificates(ca)) {
          trust.setCertificateEntry("ca" + i++, c);
        }
        tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
      return new TlsCredentials(ctx, ca != null, leaf.getSubjectX500Principal().getName());
    } catch (GeneralSecurityException | IOException e) {
      throw new CredentialsException(certificate + ": cannot set up TLS: " + e.getMessage(), e);
    }
  }

  /** A server-side engine for one connection: TLS 1.3 or 1.2, client certificates if a CA was given. */
  public SSLEngine newServerEngine() {
    SSLEngine e = context.createSSLEngine();
    e.setUseClientMode(false);
    SSLParameters p = e.getSSLParameters();
    p.setProtocols(PROTOCOLS);
    p.setNeedClientAuth(verifyClients);
    e.setSSLParameters(p);
    return e;
  }

  /** Whether clients must present a certificate signed by the CA. */
  public boolean verifiesClients() {
    return verifyClients;
  }

  /** The server certificate's subject, for the start-up summary. */
  public String subject() {
    return subject;
  }

  // ---- PEM ----

  private record Block(String type, boolean encrypted, byte[] der) {}

  private static List<Block> blocks(Path file) throws CredentialsException {
    String text;
    try {
      if (!Files.isRegularFile(file)) {
        throw new CredentialsException(file + ": not a regular file");
      }
      if (Files.size(file) > MAX_PEM_BYTES) {
        throw new CredentialsException(file + ": " + Files.size(file) + " bytes is too large for a PEM file");
      }
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (java.nio.charset.MalformedInputException e) {
      throw new CredentialsException(file + ": not a PEM file (binary data; convert DER with openssl x509/pkey -inform der)");
    } catch (IOException e) {
      throw new CredentialsException(file + ": cannot read: " + e.getMessage(), e);
    }
    List<Block> out = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      String body = m.group(2);
      boolean encrypted = body.contains("Proc-Type:") && body.contains("ENCRYPTED");
      StringBuilder b64 = new StringBuilder();
      for (String line : body.split("\\r?\\n")) {
        if (!line.contains(":")) {
          b64.append(line.trim());
        }
      }
      try {
        out.add(new Block(m.group(1), encrypted, Base64.getDecoder().decode(b64.toString())));
      } catch (IllegalArgumentException e) {
        throw new CredentialsException(file + ": the " + m.group(1) + " block is not valid base64");
      }
    }
    if (out.isEmpty()) {
      throw new CredentialsException(file + ": no PEM block (-----BEGIN ...-----) found");
    }
    return out;
  }

  private static List<X509Certificate> certificates(Path file) throws CredentialsException {
    List<X509Certificate> out = new ArrayList<>();
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      for (Block b : blocks(file)) {
        if (b.type().equals("CERTIFICATE") || b.type().equals("TRUSTED CERTIFICATE")) {
          out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(b.der())));
        }
      }
    } catch (CertificateException e) {
      throw new CredentialsException(file + ": not a valid X.509 certificate: " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new CredentialsException(file + ": no CERTIFICATE block");
    }
    return out;
  }

  private static PrivateKey privateKey(Path file) throws CredentialsException {
    for (Block b : blocks(file)) {
      if (b.encrypted() || b.type().equals("ENCRYPTED PRIVATE KEY")) {
        throw new CredentialsException(file + ": the private key is encrypted; vmafs needs it"
            + " unencrypted (openssl pkey -in KEY -out PLAIN.pem), readable only by the server's user");
      }
      try {
        switch (b.type()) {
          case "PRIVATE KEY" -> {
            return pkcs8(b.der(), file);
          }
          case "RSA PRIVATE KEY" -> {
            return pkcs8(Der.pkcs8(Der.encode(Der.SEQUENCE, Der.encode(Der.OID, Der.OID_RSA),
                Der.encode(Der.NULL)), b.der()), file);
          }
          case "EC PRIVATE KEY" -> {
            return pkcs8(Der.pkcs8(Der.encode(Der.SEQUENCE, Der.encode(Der.OID, Der.OID_EC),
                Der.encode(Der.OID, sec1Curve(b.der()))), b.der()), file);
          }
          default -> { } // certificates, EC PARAMETERS: not the key
        }
      } catch (Der.BadDer e) {
        throw new CredentialsException(file + ": the " + b.type() + " block is not valid DER: " + e.getMessage());
      }
    }
    throw new CredentialsException(file + ": no private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block)");
  }

  /** SEC1 ECPrivateKey: SEQUENCE { version 1, privateKey OCTET STRING, [0] namedCurve OID, … }. */
  private static byte[] sec1Curve(byte[] der) throws Der.BadDer {
    Der.Reader key = new Der.Reader(der, 0, der.length).next(Der.SEQUENCE).children();
    key.next(Der.INTEGER);
    key.next(Der.OCTET_STRING);
    while (key.hasNext()) {
      Der.Tlv t = key.next();
      if (t.tag() == Der.CONTEXT_0) {
        return t.children().next(Der.OID).content();
      }
    }
    throw new Der.BadDer("the EC key names no curve (openssl ec -param_enc named_curve fixes that)");
  }

  private static PrivateKey pkcs8(byte[] der, Path file) throws CredentialsException {
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String alg : new String[] {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(spec);
      } catch (InvalidKeySpecException | java.security.NoSuchAlgorithmException e) {
        // try the next algorithm
      }
    }
    throw new CredentialsException(file + ": a private key of a kind Java cannot use (RSA, EC and Ed25519 work)");
  }

  /** Signs with the key and verifies with the certificate: a key of another certificate fails. */
  private static void checkPair(PrivateKey key, X509Certificate cert, Path certFile, Path keyFile)
      throws CredentialsException {
    String alg = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "RSASSA-PSS" -> "RSASSA-PSS";
      default -> key.getAlgorithm(); // EdDSA: Ed25519, Ed448
    };
    try {
      byte[] probe = "vmafs".getBytes(StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(alg);
      if (alg.equals("RSASSA-PSS")) {
        s.setParameter(new java.security.spec.PSSParameterSpec("SHA-256", "MGF1",
            java.security.spec.MGF1ParameterSpec.SHA256, 32, 1));
      }
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      s.initVerify(cert.getPublicKey());
      s.update(probe);
      if (s.verify(sig)) {
        return;
      }
    } catch (GeneralSecurityException e) {
      // a key of another type than the certificate's: not its pair either
    }
    throw new CredentialsException(keyFile + ": this private key does not belong to the certificate in " + certFile);
  }

  private static void checkValidity(X509Certificate cert, Path file) {
    Date now = new Date();
    if (now.after(cert.getNotAfter())) {
      log.warn("{}: the certificate expired on {}: clients will refuse it", file, cert.getNotAfter());
    } else if (now.before(cert.getNotBefore())) {
      log.warn("{}: the certificate is valid only from {}: clients will refuse it until then", file, cert.getNotBefore());
    }
  }
}
