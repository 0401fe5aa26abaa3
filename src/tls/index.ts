// Client TLS: the `tls { }` options, certificate loading, the upgrading transport and verify_and_map.
export {
  type CertIdentity,
  type CertMatch,
  certIdentity,
  certificateUserMapper,
  mapCertificateToUser,
  subjectString,
} from "./cert-map.js";
export { TlsConfigError, type TlsFlags, tlsBlockFromFlags, tlsOptionsFromConfig } from "./config.js";
export { loadTlsFiles, secureContextOptions, TlsAcceptor } from "./context.js";
export {
  DEFAULT_HANDSHAKE_FIRST_FALLBACK_MS,
  DEFAULT_TLS_TIMEOUT_MS,
  defaultTlsOptions,
  type TlsCertPair,
  type TlsOptions,
} from "./options.js";
export {
  describeVerifyError,
  ERR_TLS_THROTTLED,
  type TlsClient,
  type TlsConnectionInfo,
  TlsTransport,
} from "./transport.js";
