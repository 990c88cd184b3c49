import tls from 'node:tls';

/** How many route certificates are kept built; past it the oldest are dropped (and rebuilt on use). */
const MAX_CONTEXTS = 10_000;

interface Entry {
  key: string;
  /** Undefined when certificate and key did not make a context: the default one serves. */
  context: tls.SecureContext | undefined;
}

/**
 * The routes' TLS contexts, built on first use and kept by certificate and key. The map is
 * keyed by the PEM strings themselves: the table hands out the same string objects on every
 * lookup and V8 caches a string's hash, so a hit costs one map access, no hashing of the PEM.
 * A certificate that does not load (malformed, or not matching its key) is reported once and
 * answered with undefined, so the connection gets the default certificate.
 */
export class SecureContexts {
  private readonly byCertificate = new Map<string, Entry>();

  constructor(private readonly warn: (message: string) => void = () => undefined) {}

  get size(): number {
    return this.byCertificate.size;
  }

  /** The context for this certificate and key; `label` names the route in a warning. */
  contextFor(certificate: string, key: string, label: string): tls.SecureContext | undefined {
    const entry = this.byCertificate.get(certificate);
    if (entry !== undefined && entry.key === key) return entry.context;
    const context = this.build(certificate, key, label);
    if (this.byCertificate.size >= MAX_CONTEXTS && entry === undefined) {
      this.byCertificate.delete(this.byCertificate.keys().next().value as string);
    }
    this.byCertificate.set(certificate, { key, context });
    return context;
  }

  private build(certificate: string, key: string, label: string): tls.SecureContext | undefined {
    try {
      return tls.createSecureContext({ cert: certificate, key });
    } catch (error) {
      this.warn(`route ${label}: its TLS certificate or key does not load (${(error as Error).message}); serving the default certificate`);
      return undefined;
    }
  }
}
