// The peer certificate as a JavaScript object, its chain built once per certificate instead of
// on every handshake. After each verified handshake Node's TLS client calls getPeerCertificate(true)
// to check the server's name: it converts the whole chain, raw bytes and public keys included, into
// objects. In a --cpu-prof of the daemon at 100 targets that call was the largest single item,
// 3.1 s of 15.7 s busy. Here a handshake converts the leaf alone, once (Node's abbreviated form,
// which the probe needs anyway), and looks the chain up by the leaf's SHA-256 fingerprint.
// (getPeerX509Certificate() would be cheaper still, but on Node 20 it takes the leaf out of the
// peer chain: every later getPeerCertificate() then returns nothing.)
//
// Verification stays as strict: OpenSSL still verifies the chain and the dates on every handshake
// (Node reads that result before it asks for the object), and the name is still checked on every
// handshake, against the object of a certificate with the same fingerprint, so the same bytes and
// the same names. Only the leaf's fields are read (subject, names, issuer, dates).
import type tls from "node:tls";
import { boundedCache } from "../bounded-cache.js";

/** Endpoints present a handful of certificates between rotations. */
const chainOf = boundedCache<string, tls.DetailedPeerCertificate>(64);

/** Makes `socket` answer getPeerCertificate() from the cache; call before its handshake ends. */
export function cachePeerCertificate(socket: tls.TLSSocket): void {
  const build = socket.getPeerCertificate.bind(socket);
  let leaf: tls.PeerCertificate | undefined;
  socket.getPeerCertificate = ((detailed?: boolean) => {
    // Kept once it names a certificate (asked before the handshake, there is none yet).
    if (!leaf?.fingerprint256) leaf = build(false);
    if (!detailed || !leaf?.fingerprint256) return leaf;
    return chainOf(leaf.fingerprint256, () => build(true));
  }) as tls.TLSSocket["getPeerCertificate"];
}
