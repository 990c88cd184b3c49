import { parentDomain, type RouteSpec } from '@paas/contracts/routes';
import type { StatusCause } from '@paas/contracts/status';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';

export interface RouteSpecContext {
  /** The body named `spec.host` (a generated host cannot be a wildcard's). */
  hostGiven: boolean;
  /** Where generated hosts live (`ROUTER_DOMAIN`): no wildcard may claim all of it. */
  routerDomain: string;
  now: number;
}

/**
 * What the schema cannot say about a Route spec, one cause per problem, each naming its
 * field: a Service listed twice, the TLS settings of each termination (certificate and key
 * parsed and matched, an expired certificate refused) and the wildcard policy. Messages
 * never quote a certificate or key.
 */
export function routeSpecCauses(spec: RouteSpec, context: RouteSpecContext): StatusCause[] {
  return [...backendCauses(spec), ...tlsCauses(spec, context.now), ...wildcardCauses(spec, context)];
}

const invalid = (field: string, message: string): StatusCause => ({ field, reason: 'FieldValueInvalid', message });

function backendCauses(spec: RouteSpec): StatusCause[] {
  const seen = new Set([spec.to.name]);
  const causes: StatusCause[] = [];
  (spec.alternateBackends ?? []).forEach((backend, index) => {
    if (seen.has(backend.name)) causes.push(invalid(`spec.alternateBackends.${index}.name`, `Service ${backend.name} is already a backend of this route`));
    seen.add(backend.name);
  });
  return causes;
}

function tlsCauses(spec: RouteSpec, now: number): StatusCause[] {
  const tls = spec.tls;
  if (!tls) return [];
  if (tls.termination === 'passthrough') {
    const causes: StatusCause[] = [];
    const why = 'with termination passthrough the pods terminate TLS';
    if (tls.certificate) causes.push(invalid('spec.tls.certificate', `must be empty: ${why}`));
    if (tls.key) causes.push(invalid('spec.tls.key', `must be empty: ${why}`));
    if (tls.insecureEdgeTerminationPolicy === 'Allow') {
      causes.push(invalid('spec.tls.insecureEdgeTerminationPolicy', 'must be None or Redirect with termination passthrough: the router cannot serve its plain HTTP'));
    }
    if (spec.path !== '/') causes.push(invalid('spec.path', 'must be / with termination passthrough: TLS is routed by host (SNI) alone'));
    return causes;
  }
  // edge: both or neither; neither serves the router's default certificate.
  if (!tls.certificate && !tls.key) return [];
  if (!tls.key) return [invalid('spec.tls.key', 'is required with spec.tls.certificate')];
  if (!tls.certificate) return [invalid('spec.tls.certificate', 'is required with spec.tls.key')];
  const certificate = parseCertificate(tls.certificate);
  const key = parsePrivateKey(tls.key);
  const causes: StatusCause[] = [];
  if (typeof certificate === 'string') causes.push(invalid('spec.tls.certificate', certificate));
  if (typeof key === 'string') causes.push(invalid('spec.tls.key', key));
  if (typeof certificate === 'string' || typeof key === 'string') return causes;
  if (!certificate.checkPrivateKey(key)) causes.push(invalid('spec.tls.key', 'does not match the certificate'));
  const expiry = Date.parse(certificate.validTo);
  if (!(expiry > now)) causes.push(invalid('spec.tls.certificate', `expired on ${new Date(expiry).toISOString()}`));
  return causes;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The leaf (first) certificate of a PEM chain, every block of which must parse; or what is wrong. */
function parseCertificate(pem: string): X509Certificate | string {
  if (/PRIVATE KEY-----/.test(pem)) return 'holds a private key: put it in spec.tls.key';
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return 'must be a PEM-encoded X.509 certificate (-----BEGIN CERTIFICATE-----)';
  try {
    const [leaf] = blocks.map((block) => new X509Certificate(block));
    return leaf;
  } catch {
    return 'must be a PEM-encoded X.509 certificate: it does not parse';
  }
}

function parsePrivateKey(pem: string): KeyObject | string {
  if (/ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) return 'must not be encrypted: the router cannot ask for its passphrase';
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // OpenSSL's reason is not quoted: it says nothing the client needs, and nothing of the key may leave.
    return 'must be a PEM-encoded private key (PKCS#8, PKCS#1 or SEC1)';
  }
}

function wildcardCauses(spec: RouteSpec, context: RouteSpecContext): StatusCause[] {
  if (spec.wildcardPolicy !== 'Subdomain') return [];
  if (!context.hostGiven || !spec.host) return [invalid('spec.host', 'is required with wildcardPolicy Subdomain')];
  const domain = parentDomain(spec.host);
  if (spec.host.split('.').length < 3) {
    return [invalid('spec.host', `must have at least 3 labels with wildcardPolicy Subdomain: the route would serve *.${domain}`)];
  }
  if (domain === context.routerDomain) {
    return [invalid('spec.wildcardPolicy', `Subdomain would claim *.${domain}, where every generated route host lives`)];
  }
  return [];
}
