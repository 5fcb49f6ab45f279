package vmafs.nbd;

/** Whether clients may, must or cannot use TLS (NBD_OPT_STARTTLS). */
public enum TlsMode {
  /** No TLS: STARTTLS is refused (the spec's NOTLS mode). */
  OFF,
  /** TLS offered; a client that does not ask for it is served in plain text too (SELECTIVETLS). */
  ON,
  /** Every option but STARTTLS and ABORT is refused until TLS is up (FORCEDTLS). */
  REQUIRE
}
