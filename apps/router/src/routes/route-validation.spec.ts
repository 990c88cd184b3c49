import { ROUTE_ANNOTATIONS, routeSpecSchema, type RouteSpec } from '@paas/contracts/routes';
import { ApiError } from '@paas/platform/api-error';
import { selfSignedCertificate } from '../testing/certificates';
import { parseRouteInput } from './route-input';
import { routeSpecCauses, type RouteSpecContext } from './route-validation';

const DAY = 86_400_000;
const context: RouteSpecContext = { hostGiven: true, routerDomain: 'apps.localhost', now: Date.now() };
const valid = selfSignedCertificate(['shop.example.com']);
const other = selfSignedCertificate(['shop.example.com']);
const expired = selfSignedCertificate(['shop.example.com'], { notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) });

const spec = (input: Record<string, unknown>): RouteSpec => routeSpecSchema.parse({ host: 'shop.example.com', to: { name: 'web' }, ...input });
const causesOf = (input: Record<string, unknown>, overrides: Partial<RouteSpecContext> = {}) => routeSpecCauses(spec(input), { ...context, ...overrides });
const fieldsOf = (input: Record<string, unknown>, overrides: Partial<RouteSpecContext> = {}) => causesOf(input, overrides).map((cause) => cause.field);
const edge = (tls: Record<string, unknown>) => ({ tls: { termination: 'edge', ...tls } });
/** A line of a PEM body: what would show if a message quoted the key. */
const keyMaterial = (pem: string) => pem.split('\n')[1];

describe('route spec validation', () => {
  it('accepts a plain route, weighted alternate backends, and an edge route with or without its own certificate', () => {
    expect(causesOf({})).toEqual([]);
    expect(causesOf({ to: { name: 'web', weight: 0 }, alternateBackends: [{ name: 'canary', weight: 256 }, { name: 'b', weight: 1 }, { name: 'c' }] })).toEqual([]);
    expect(causesOf(edge({}))).toEqual([]);
    expect(causesOf(edge({ insecureEdgeTerminationPolicy: 'Allow' }))).toEqual([]);
    expect(causesOf(edge({ certificate: valid.certificate, key: valid.key, insecureEdgeTerminationPolicy: 'Redirect' }))).toEqual([]);
  });

  it('leaves weights and the number of alternate backends to the schema', () => {
    const fields = (input: Record<string, unknown>) => routeSpecSchema.safeParse({ to: { name: 'web' }, ...input }).error?.issues.map((issue) => issue.path.join('.'));
    expect(fields({ to: { name: 'web', weight: 257 } })).toEqual(['to.weight']);
    expect(fields({ alternateBackends: [{ name: 'a', weight: -1 }] })).toEqual(['alternateBackends.0.weight']);
    expect(fields({ alternateBackends: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }] })).toEqual(['alternateBackends']);
  });

  it('refuses a Service listed twice, naming the repeated entry', () => {
    expect(causesOf({ alternateBackends: [{ name: 'canary' }, { name: 'web' }, { name: 'canary' }] })).toEqual([
      { field: 'spec.alternateBackends.1.name', reason: 'FieldValueInvalid', message: 'Service web is already a backend of this route' },
      { field: 'spec.alternateBackends.2.name', reason: 'FieldValueInvalid', message: 'Service canary is already a backend of this route' },
    ]);
  });

  it('wants both certificate and key on an edge route, or neither', () => {
    expect(fieldsOf(edge({ certificate: valid.certificate }))).toEqual(['spec.tls.key']);
    expect(fieldsOf(edge({ key: valid.key }))).toEqual(['spec.tls.certificate']);
  });

  it('refuses a certificate or key that does not parse, without quoting either', () => {
    const garbage = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    expect(causesOf(edge({ certificate: garbage, key: valid.key }))).toEqual([
      { field: 'spec.tls.certificate', reason: 'FieldValueInvalid', message: 'must be a PEM-encoded X.509 certificate: it does not parse' },
    ]);
    expect(fieldsOf(edge({ certificate: 'not pem at all', key: valid.key }))).toEqual(['spec.tls.certificate']);
    const badKey = valid.key.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA');
    const causes = causesOf(edge({ certificate: valid.certificate, key: badKey }));
    expect(causes).toEqual([{ field: 'spec.tls.key', reason: 'FieldValueInvalid', message: 'must be a PEM-encoded private key (PKCS#8, PKCS#1 or SEC1)' }]);
    expect(JSON.stringify(causes)).not.toContain(keyMaterial(badKey));
    expect(fieldsOf(edge({ certificate: valid.certificate, key: 'nonsense' }))).toEqual(['spec.tls.key']);
  });

  it('refuses a private key pasted into the certificate, and an encrypted key', () => {
    const causes = causesOf(edge({ certificate: `${valid.certificate}${valid.key}`, key: valid.key }));
    expect(causes).toEqual([expect.objectContaining({ field: 'spec.tls.certificate', message: 'holds a private key: put it in spec.tls.key' })]);
    expect(JSON.stringify(causes)).not.toContain(keyMaterial(valid.key));
    const encrypted = '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n';
    expect(causesOf(edge({ certificate: valid.certificate, key: encrypted }))[0]).toMatchObject({ field: 'spec.tls.key', message: expect.stringContaining('encrypted') });
  });

  it('refuses a key that is not the certificate key', () => {
    const causes = causesOf(edge({ certificate: valid.certificate, key: other.key }));
    expect(causes).toEqual([{ field: 'spec.tls.key', reason: 'FieldValueInvalid', message: 'does not match the certificate' }]);
    expect(JSON.stringify(causes)).not.toContain(keyMaterial(other.key));
  });

  it('refuses an expired certificate, saying when it expired', () => {
    const causes = causesOf(edge({ certificate: expired.certificate, key: expired.key }));
    expect(causes).toEqual([{ field: 'spec.tls.certificate', reason: 'FieldValueInvalid', message: expect.stringMatching(/^expired on \d{4}-\d\d-\d\dT/) }]);
    // Valid until tomorrow: accepted today, refused the day after.
    const tomorrow = selfSignedCertificate(['shop.example.com'], { notAfter: new Date(Date.now() + DAY) });
    expect(causesOf(edge({ certificate: tomorrow.certificate, key: tomorrow.key }))).toEqual([]);
    expect(fieldsOf(edge({ certificate: tomorrow.certificate, key: tomorrow.key }), { now: Date.now() + 2 * DAY })).toEqual(['spec.tls.certificate']);
  });

  it('accepts a chain: the leaf first, every block a certificate', () => {
    const intermediate = selfSignedCertificate(['ca.example.com']);
    expect(causesOf(edge({ certificate: `${valid.certificate}${intermediate.certificate}`, key: valid.key }))).toEqual([]);
    expect(fieldsOf(edge({ certificate: `${intermediate.certificate}${valid.certificate}`, key: valid.key }))).toEqual(['spec.tls.key']);
  });

  it('keeps a passthrough route free of certificates, of Allow, and of paths', () => {
    const passthrough = (tls: Record<string, unknown>, more: Record<string, unknown> = {}) => ({ tls: { termination: 'passthrough', ...tls }, ...more });
    expect(causesOf(passthrough({}))).toEqual([]);
    expect(causesOf(passthrough({ insecureEdgeTerminationPolicy: 'Redirect' }))).toEqual([]);
    expect(fieldsOf(passthrough({ certificate: valid.certificate, key: valid.key, insecureEdgeTerminationPolicy: 'Allow' }, { path: '/api' }))).toEqual([
      'spec.tls.certificate',
      'spec.tls.key',
      'spec.tls.insecureEdgeTerminationPolicy',
      'spec.path',
    ]);
  });

  it('wants a given host of at least 3 labels for a Subdomain wildcard, outside the router domain', () => {
    expect(causesOf({ wildcardPolicy: 'Subdomain' })).toEqual([]);
    expect(causesOf({ wildcardPolicy: 'Subdomain', host: 'example.com' })).toEqual([
      { field: 'spec.host', reason: 'FieldValueInvalid', message: 'must have at least 3 labels with wildcardPolicy Subdomain: the route would serve *.com' },
    ]);
    expect(fieldsOf({ wildcardPolicy: 'Subdomain' }, { hostGiven: false })).toEqual(['spec.host']);
    expect(fieldsOf({ wildcardPolicy: 'Subdomain', host: 'www.apps.localhost' })).toEqual(['spec.wildcardPolicy']);
    expect(causesOf({ wildcardPolicy: 'Subdomain', host: 'www.team.apps.localhost' })).toEqual([]);
    expect(causesOf({ host: 'example.com' })).toEqual([]);
  });
});

describe('parseRouteInput', () => {
  const body = (spec: Record<string, unknown>, annotations?: Record<string, string>) => ({ metadata: { name: 'shop', annotations }, spec: { to: { name: 'web' }, ...spec } });
  const failure = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      if (error instanceof ApiError) return error.status;
      throw error;
    }
    throw new Error('expected a 422');
  };

  it('answers one 422 naming every field, spec and annotations together, without the private key', () => {
    const status = failure(() =>
      parseRouteInput(
        'team-a',
        body(
          { host: 'shop.example.com', tls: { termination: 'edge', certificate: valid.certificate, key: other.key }, alternateBackends: [{ name: 'web' }] },
          { [ROUTE_ANNOTATIONS.timeout]: 'soon' },
        ),
        'apps.localhost',
      ),
    );
    expect(status).toMatchObject({ code: 422, reason: 'Invalid', details: { kind: 'Route', name: 'shop' } });
    expect(status.details?.causes?.map((cause) => cause.field)).toEqual([
      'spec.alternateBackends.0.name',
      'spec.tls.key',
      `metadata.annotations[${ROUTE_ANNOTATIONS.timeout}]`,
    ]);
    expect(status.message).toContain('spec.tls.key: does not match the certificate');
    expect(JSON.stringify(status)).not.toContain(keyMaterial(other.key));
  });

  it('drops an empty certificate and key (edge on the default certificate) and keeps the rest', () => {
    const input = parseRouteInput('team-a', body({ tls: { termination: 'edge', certificate: '', key: '' } }), 'apps.localhost');
    expect(input.spec.tls).toEqual({ termination: 'edge', insecureEdgeTerminationPolicy: 'None' });
    expect(input.metadata.namespace).toBe('team-a');
  });
});
