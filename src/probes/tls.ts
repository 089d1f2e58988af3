import type net from "node:net";
import tls from "node:tls";
import { bounded, elapsed, ended, now, type Connected, type ProbeContext } from "./context.js";
import { boundedCache } from "../bounded-cache.js";
import { cachePeerCertificate } from "./peer-cert.js";

export interface TlsInput {
  socket: net.Socket;
  servername: string;
  /** Trusted roots, built once by the caller; undefined = Node's defaults. */
  secureContext?: tls.SecureContext;
  /**
   * The highest protocol offered (a client limited to TLS 1.2); undefined = Node's default. With
   * it, `secureContext` is not used: see probeTls.
   */
  maxVersion?: tls.SecureVersion;
}

export interface CertificateSummary {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  subjectAltName?: string;
  fingerprint256: string;
}

export interface TlsObservation {
  servername: string;
  handshakeCompleted: boolean;
  timedOut: boolean;
  /** The run was cancelled before the handshake ended. */
  cancelled?: boolean;
  /** Chain verification error (OpenSSL code), absent when the chain is trusted. */
  authorizationError?: string;
  /** Hostname check error, absent when the certificate covers the servername. */
  hostnameError?: string;
  /** Error that broke the handshake itself (alert, reset, close). */
  errorCode?: string;
  errorMessage?: string;
  protocol?: string;
  cipher?: string;
  alpn?: string;
  certificate?: CertificateSummary;
  tlsMs: number;
}

/**
 * The handshake on a connected socket, which the probe takes over. When the handshake completed,
 * the TLS connection is handed over beside the observation and the caller owns it; otherwise
 * both sockets are destroyed here.
 */
export async function probeTls(
  ctx: ProbeContext,
  input: TlsInput,
): Promise<Connected<TlsObservation, tls.TLSSocket>> {
  const started = now();
  const base = { servername: input.servername, cancelled: false };
  let tlsSocket: tls.TLSSocket | undefined;
  const observation = await bounded<TlsObservation>(
    ctx,
    (reason) => ({ ...base, handshakeCompleted: false, ...ended(reason), tlsMs: elapsed(started) }),
    (settle) => {
      // Verification is done below, by hand, so the certificate is kept as evidence either way.
      tlsSocket = tls.connect({
        socket: input.socket,
        servername: input.servername,
        // Node takes the version bounds from a given secureContext, not from these options: a
        // limited handshake builds its own, with Node's roots. It asks only whether the server
        // accepts the version; the chain was judged on the connection that carries requests.
        ...(input.maxVersion
          ? { maxVersion: input.maxVersion }
          : { secureContext: input.secureContext }),
        rejectUnauthorized: false,
        ALPNProtocols: ["http/1.1"],
      });
      cachePeerCertificate(tlsSocket);
      tlsSocket.once("secureConnect", () =>
        settle(observeHandshake(tlsSocket as tls.TLSSocket, input, started)),
      );
      tlsSocket.on("error", (err: NodeJS.ErrnoException) =>
        settle({
          ...base,
          handshakeCompleted: false,
          timedOut: false,
          errorCode: err.code ?? "ERR_TLS",
          errorMessage: err.message.split("\n")[0],
          tlsMs: elapsed(started),
        }),
      );
      tlsSocket.once("close", () =>
        settle({
          ...base,
          handshakeCompleted: false,
          timedOut: false,
          errorCode: "ECONNRESET",
          errorMessage: "connection closed during the handshake",
          tlsMs: elapsed(started),
        }),
      );
      return () => {};
    },
  );
  if (!observation.handshakeCompleted) {
    tlsSocket?.destroy();
    input.socket.destroy();
    return { observation };
  }
  return { observation, socket: tlsSocket };
}

function observeHandshake(socket: tls.TLSSocket, input: TlsInput, started: number): TlsObservation {
  const peer = socket.getPeerCertificate();
  const hasCert = peer && Object.keys(peer).length > 0;
  const hostnameError = hasCert ? tls.checkServerIdentity(input.servername, peer) : undefined;
  const cipher = socket.getCipher();
  return {
    servername: input.servername,
    cancelled: false,
    handshakeCompleted: true,
    timedOut: false,
    authorizationError: chainError(socket),
    hostnameError: hostnameError
      ? ((hostnameError as NodeJS.ErrnoException).code ?? hostnameError.message)
      : undefined,
    protocol: socket.getProtocol() ?? undefined,
    cipher: cipher?.name,
    alpn: socket.alpnProtocol || undefined,
    certificate: hasCert ? summaryOf(peer) : undefined,
    tlsMs: elapsed(started),
  };
}

/** Node folds a hostname mismatch into authorizationError; it is reported apart, below. */
function chainError(socket: tls.TLSSocket): string | undefined {
  if (socket.authorized) return undefined;
  const code = String(socket.authorizationError ?? "NO_CERTIFICATE");
  return code === "ERR_TLS_CERT_ALTNAME_INVALID" ? undefined : code;
}

const dn = (name: tls.Certificate | undefined): string =>
  name
    ? Object.entries(name)
        .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : String(v)}`)
        .join(", ")
    : "";

const iso = (date: string): string => {
  const d = new Date(date);
  return Number.isNaN(d.getTime()) ? date : d.toISOString();
};

/**
 * One summary per certificate, by its SHA-256 fingerprint (the same bytes, so the same names and
 * dates): the daemon keeps every target's last report, and the targets behind one endpoint hold
 * its certificate's names and dates once instead of once per address and target. Frozen, as it
 * is shared.
 */
const summaries = boundedCache<string, Readonly<CertificateSummary>>(64);

function summaryOf(peer: tls.PeerCertificate): Readonly<CertificateSummary> {
  if (!peer.fingerprint256) return summarize(peer);
  return summaries(peer.fingerprint256, () => Object.freeze(summarize(peer)));
}

function summarize(peer: tls.PeerCertificate): CertificateSummary {
  return {
    subject: dn(peer.subject),
    issuer: dn(peer.issuer),
    validFrom: iso(peer.valid_from),
    validTo: iso(peer.valid_to),
    subjectAltName: peer.subjectaltname,
    fingerprint256: peer.fingerprint256,
  };
}
