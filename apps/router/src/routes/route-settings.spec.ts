import { ROUTE_ANNOTATIONS, type Route } from '@paas/contracts/routes';
import { aRoute } from '../testing/factories';
import { DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS, defaultCookieName, parseRouteSettings, routeSettingsCache, validateRouteAnnotations } from './route-settings';

const A = ROUTE_ANNOTATIONS;

function annotated(annotations: Record<string, string>, spec: Partial<Route['spec']> = {}): Route {
  const route = aRoute({ name: 'shop', namespace: 'team-a' });
  return { ...route, metadata: { ...route.metadata, annotations }, spec: { ...route.spec, ...spec } };
}

const settingsOf = (annotations: Record<string, string>, spec: Partial<Route['spec']> = {}) => parseRouteSettings(annotated(annotations, spec));
const fieldsOf = (annotations: Record<string, string>) => validateRouteAnnotations(annotations).map((cause) => cause.field);
const edge = { termination: 'edge', insecureEdgeTerminationPolicy: 'None' } as const;

describe('route settings from annotations', () => {
  it('defaults to round robin, a cookie named after a hash of the route, 30 s, no limits, no allowlist, no HSTS', () => {
    const settings = settingsOf({});
    expect(settings).toEqual({ balance: 'roundrobin', stickyCookie: { name: defaultCookieName('team-a', 'shop'), secure: false }, timeoutMs: DEFAULT_TIMEOUT_MS });
    expect(settings.stickyCookie?.name).toMatch(/^[0-9a-f]{16}$/);
    expect(defaultCookieName('team-a', 'shop')).not.toBe(defaultCookieName('team-b', 'shop'));
    expect(defaultCookieName('team-a', 'shop')).not.toContain('shop');
  });

  it('takes each balance algorithm and refuses others, naming the annotation', () => {
    for (const balance of ['roundrobin', 'leastconn', 'random', 'source'] as const) expect(settingsOf({ [A.balance]: balance }).balance).toBe(balance);
    expect(validateRouteAnnotations({ [A.balance]: 'fastest' })).toEqual([
      { field: `metadata.annotations[${A.balance}]`, reason: 'FieldValueInvalid', message: 'must be one of roundrobin, leastconn, random, source' },
    ]);
    expect(fieldsOf({ [A.balance]: 'RoundRobin' })).toHaveLength(1);
  });

  it('balances a passthrough route by source, or round robin once several Services share it (OpenShift)', () => {
    const passthrough = { termination: 'passthrough', insecureEdgeTerminationPolicy: 'None' } as const;
    expect(settingsOf({}, { tls: passthrough }).balance).toBe('source');
    const alternate = [{ kind: 'Service', name: 'canary', weight: 10 }] as const;
    expect(settingsOf({}, { tls: passthrough, alternateBackends: [...alternate] }).balance).toBe('roundrobin');
    expect(settingsOf({}, { tls: passthrough, alternateBackends: [{ ...alternate[0], weight: 0 }] }).balance).toBe('source');
    expect(settingsOf({ [A.balance]: 'leastconn' }, { tls: passthrough }).balance).toBe('leastconn');
  });

  it('keeps the cookie with balance=source (OpenShift does), drops it with disable_cookies or passthrough, names it by cookie_name', () => {
    expect(settingsOf({ [A.balance]: 'source' }).stickyCookie).toBeDefined();
    expect(settingsOf({ [A.disableCookies]: 'true' }).stickyCookie).toBeUndefined();
    expect(settingsOf({ [A.disableCookies]: 'TRUE' }).stickyCookie).toBeUndefined();
    expect(settingsOf({ [A.disableCookies]: 'false' }).stickyCookie).toBeDefined();
    expect(settingsOf({}, { tls: { termination: 'passthrough', insecureEdgeTerminationPolicy: 'None' } }).stickyCookie).toBeUndefined();
    expect(settingsOf({ [A.cookieName]: 'my_session-1' }).stickyCookie?.name).toBe('my_session-1');
    expect(fieldsOf({ [A.disableCookies]: 'yes', [A.cookieName]: 'bad;name' })).toEqual([
      `metadata.annotations[${A.disableCookies}]`,
      `metadata.annotations[${A.cookieName}]`,
    ]);
  });

  it('marks the cookie secure on an edge route unless its plain HTTP is allowed', () => {
    expect(settingsOf({}, { tls: edge }).stickyCookie?.secure).toBe(true);
    expect(settingsOf({}, { tls: { ...edge, insecureEdgeTerminationPolicy: 'Redirect' } }).stickyCookie?.secure).toBe(true);
    expect(settingsOf({}, { tls: { ...edge, insecureEdgeTerminationPolicy: 'Allow' } }).stickyCookie?.secure).toBe(false);
  });

  it('reads timeouts in HAProxy units, a bare number as milliseconds, clipped to HAProxy maximum', () => {
    const timeout = (value: string) => settingsOf({ [A.timeout]: value }).timeoutMs;
    expect(timeout('500ms')).toBe(500);
    expect(timeout('250')).toBe(250);
    expect(timeout('5s')).toBe(5_000);
    expect(timeout('2m')).toBe(120_000);
    expect(timeout('1h')).toBe(3_600_000);
    expect(timeout('1d')).toBe(86_400_000);
    expect(timeout('1500us')).toBe(2);
    expect(timeout('1us')).toBe(1);
    expect(timeout('100d')).toBe(MAX_TIMEOUT_MS);
    expect(timeout(`1${'0'.repeat(400)}s`)).toBe(MAX_TIMEOUT_MS);
    for (const bad of ['0', '0s', '-5s', '5 s', '5sec', '1.5s', 's', '', '05s']) {
      expect(fieldsOf({ [A.timeout]: bad })).toEqual([`metadata.annotations[${A.timeout}]`]);
      expect(timeout(bad)).toBe(DEFAULT_TIMEOUT_MS);
    }
  });

  it('limits rates only when rate-limit-connections is true, with the limits that are set', () => {
    const limits = { [A.concurrentTcp]: '10', [A.rateTcp]: '20', [A.rateHttp]: '30' };
    expect(settingsOf(limits).rateLimit).toBeUndefined();
    expect(settingsOf({ ...limits, [A.rateLimitConnections]: 'false' }).rateLimit).toBeUndefined();
    expect(settingsOf({ ...limits, [A.rateLimitConnections]: 'true' }).rateLimit).toEqual({ concurrentTcp: 10, rateTcp: 20, rateHttp: 30 });
    expect(settingsOf({ [A.rateLimitConnections]: 'true', [A.rateHttp]: '5' }).rateLimit).toEqual({ rateHttp: 5 });
    expect(settingsOf({ [A.rateLimitConnections]: 'true' }).rateLimit).toBeUndefined();
    expect(fieldsOf({ [A.rateLimitConnections]: 'on', [A.concurrentTcp]: '0', [A.rateTcp]: '-1', [A.rateHttp]: '1e3' })).toEqual([
      `metadata.annotations[${A.rateLimitConnections}]`,
      `metadata.annotations[${A.concurrentTcp}]`,
      `metadata.annotations[${A.rateTcp}]`,
      `metadata.annotations[${A.rateHttp}]`,
    ]);
    expect(fieldsOf({ [A.rateHttp]: '99999999999' })).toHaveLength(1);
  });

  it('allows the listed IPv4 and IPv6 addresses and CIDRs, including IPv4-mapped IPv6 clients', () => {
    const allowed = settingsOf({ [A.ipAllowlist]: '10.0.0.0/8  192.168.1.7\t2001:db8::/32 ::1' }).ipAllowlist;
    expect(allowed).toBeDefined();
    const check = allowed as (ip: string) => boolean;
    expect(check('10.1.2.3')).toBe(true);
    expect(check('::ffff:10.1.2.3')).toBe(true);
    expect(check('192.168.1.7')).toBe(true);
    expect(check('192.168.1.8')).toBe(false);
    expect(check('11.0.0.1')).toBe(false);
    expect(check('::ffff:11.0.0.1')).toBe(false);
    expect(check('2001:db8:1::5')).toBe(true);
    expect(check('2001:db9::5')).toBe(false);
    expect(check('::1')).toBe(true);
    expect(check('not-an-ip')).toBe(false);
    expect(check('10.1.2.3')).toBe(true);

    const mappedRule = settingsOf({ [A.ipAllowlist]: '::ffff:172.16.0.0/108' }).ipAllowlist as (ip: string) => boolean;
    expect(mappedRule('172.16.5.5')).toBe(true);
    expect(mappedRule('172.31.0.1')).toBe(true);
    expect(mappedRule('172.32.0.1')).toBe(false);
  });

  it('refuses an allowlist entry that is not an address or CIDR; an empty list restricts nothing; an unreadable stored one lets nobody in', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.256', 'example.com', '2001:db8::/129', '10.0.0.0/', '10.0.0.0/8/8', 'fe80::1%eth0']) {
      const causes = validateRouteAnnotations({ [A.ipAllowlist]: `127.0.0.1 ${bad}` });
      expect(causes).toHaveLength(1);
      expect(causes[0].message).toContain(bad);
    }
    expect(settingsOf({ [A.ipAllowlist]: '   ' }).ipAllowlist).toBeUndefined();
    const closed = settingsOf({ [A.ipAllowlist]: '127.0.0.1 nonsense' }).ipAllowlist;
    expect(closed?.('127.0.0.1')).toBe(false);
  });

  it('sends HSTS on edge routes only, with OpenShift accepted forms', () => {
    const value = 'max-age=31536000;includeSubDomains;preload';
    expect(settingsOf({ [A.hsts]: value }, { tls: edge }).hsts).toBe(value);
    expect(settingsOf({ [A.hsts]: value }).hsts).toBeUndefined();
    expect(settingsOf({ [A.hsts]: value }, { tls: { termination: 'passthrough', insecureEdgeTerminationPolicy: 'None' } }).hsts).toBeUndefined();
    for (const good of ['max-age=0', 'MAX-AGE = "600"', 'preload; max-age=1 ; includesubdomains']) expect(fieldsOf({ [A.hsts]: good })).toEqual([]);
    for (const bad of ['includeSubDomains', 'max-age=abc', 'max-age=1;evil', 'max-age=1\r\nX-Injected: 1']) {
      expect(fieldsOf({ [A.hsts]: bad })).toEqual([`metadata.annotations[${A.hsts}]`]);
    }
  });

  it('reports every bad annotation at once and ignores annotations it does not know', () => {
    expect(fieldsOf({ [A.balance]: 'x', [A.timeout]: 'y', 'example.com/other': 'anything' })).toEqual([
      `metadata.annotations[${A.balance}]`,
      `metadata.annotations[${A.timeout}]`,
    ]);
    expect(validateRouteAnnotations(undefined)).toEqual([]);
  });

  it('remembers the settings of a route object, and reads a replaced route afresh', () => {
    const cached = routeSettingsCache();
    const route = annotated({ [A.timeout]: '5s' });
    expect(cached(route)).toBe(cached(route));
    const changed = { ...route, metadata: { ...route.metadata, annotations: { [A.timeout]: '7s' } } };
    expect(cached(changed).timeoutMs).toBe(7_000);
  });
});
