// Every probe has the one shape of context.ts's `Probe`: checked by the compiler (npm run
// typecheck), so a probe that needs another argument, or answers another shape, fails the build.
// Nothing imports this module: it holds no code that runs.
import type net from "node:net";
import type tls from "node:tls";
import type { Connected, Probe } from "./context.js";
import { probeDns, type DnsInput, type DnsObservation } from "./dns.js";
import { probeHttp, type HttpInput, type HttpObservation } from "./http.js";
import { probeOsLookup, type OsLookupObservation } from "./os-resolver.js";
import { probePath, type PathInput, type PathObservation } from "./path.js";
import { probeTcp, type TcpInput, type TcpObservation } from "./tcp.js";
import { probeTls, type TlsInput, type TlsObservation } from "./tls.js";

export const PROBES = {
  dns: probeDns satisfies Probe<DnsInput, DnsObservation>,
  os: probeOsLookup satisfies Probe<string, OsLookupObservation>,
  path: probePath satisfies Probe<PathInput, PathObservation>,
  tcp: probeTcp satisfies Probe<TcpInput, Connected<TcpObservation, net.Socket>>,
  tls: probeTls satisfies Probe<TlsInput, Connected<TlsObservation, tls.TLSSocket>>,
  http: probeHttp satisfies Probe<HttpInput, HttpObservation>,
};
