/** A ready endpoint a passthrough connection is dialled to. */
export interface TlsBackend {
  ip: string;
  port: number;
}

/** The TLS settings of the route serving one SNI host, as the TLS front needs them. */
export interface TlsRoute {
  termination: 'edge' | 'passthrough';
  /** PEM (leaf first, then any intermediates) and its key; edge only. Absent: the default certificate. */
  certificate?: string;
  key?: string;
  namespace: string;
  name: string;
  /** Passthrough: the next ready endpoint for this client, or undefined when there is none. */
  pickBackend(clientIp: string): TlsBackend | undefined;
}

/** What the TLS front asks of the route table (the router's `RouteTable` implements it). */
export interface TlsRouteLookup {
  /** The route serving `sni` (exact host, else a Subdomain wildcard), with its tls settings. */
  tlsRoute(sni: string): TlsRoute | undefined;
}
