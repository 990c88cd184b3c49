import { BALANCE_ALGORITHMS, ROUTE_ANNOTATIONS, type BalanceAlgorithm, type Route } from '@paas/contracts/routes';
import type { StatusCause } from '@paas/contracts/status';
import { createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

/** How one route behaves, read from its annotations (OpenShift's names, `ROUTE_ANNOTATIONS`). */
export interface RouteSettings {
  balance: BalanceAlgorithm;
  /**
   * The sticky-session cookie; undefined when `disable_cookies` is true or the route is
   * passthrough (the router never sees its HTTP). `secure` as OpenShift sets it: on an edge
   * route whose plain HTTP is not `Allow`ed.
   */
  stickyCookie?: { name: string; secure: boolean };
  /** How long the endpoint may take to answer. */
  timeoutMs: number;
  /** Per client IP; only with `rate-limit-connections` true and at least one limit set. */
  rateLimit?: { concurrentTcp?: number; rateTcp?: number; rateHttp?: number };
  /** Whether a client address may use the route; undefined lets everyone in. */
  ipAllowlist?: (ip: string) => boolean;
  /** `Strict-Transport-Security` value; edge routes only, as in OpenShift. */
  hsts?: string;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
/** HAProxy's largest timeout (2^31-1 ms, about 24.8 days); OpenShift clips longer ones to it. */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** Settings of a route read once per route object: tables are rebuilt often, routes change rarely. */
export function routeSettingsCache(): (route: Route) => RouteSettings {
  const cache = new WeakMap<Route, RouteSettings>();
  return (route) => {
    let settings = cache.get(route);
    if (!settings) cache.set(route, (settings = parseRouteSettings(route)));
    return settings;
  };
}

/**
 * What each route annotation the router honours is wrong with, one cause per annotation
 * (`metadata.annotations[<name>]`): checked at create and update, so that a stored route
 * always means what its author wrote (OpenShift silently ignores a value it cannot read;
 * here the author hears about it).
 */
export function validateRouteAnnotations(annotations: Record<string, string> | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const key of Object.keys(ROUTE_ANNOTATIONS) as AnnotationKey[]) {
    const value = annotations?.[ROUTE_ANNOTATIONS[key]];
    if (value === undefined) continue;
    const parsed = PARSERS[key](value);
    if (!parsed.ok) causes.push({ field: annotationField(key), reason: 'FieldValueInvalid', message: parsed.message });
  }
  return causes;
}

export function annotationField(key: AnnotationKey): string {
  return `metadata.annotations[${ROUTE_ANNOTATIONS[key]}]`;
}

/**
 * A route's settings for the table. Never throws: a value it cannot read (a route stored
 * before validation, a snapshot from an older router) falls back to the default, except
 * an unreadable IP allowlist, which lets nobody in (its author meant to restrict the route).
 * Defaults: roundrobin (source for passthrough with one Service, as OpenShift), a sticky
 * cookie named after a hash of the route, 30 s, no limits, everyone allowed, no HSTS.
 */
export function parseRouteSettings(route: Pick<Route, 'metadata' | 'spec'>): RouteSettings {
  const annotations = route.metadata.annotations ?? {};
  const read = <K extends AnnotationKey>(key: K): AnnotationValues[K] | undefined => {
    const value = annotations[ROUTE_ANNOTATIONS[key]];
    if (value === undefined) return undefined;
    const parsed = PARSERS[key](value);
    return parsed.ok ? parsed.value : undefined;
  };
  const tls = route.spec.tls;
  const settings: RouteSettings = { balance: read('balance') ?? defaultBalance(route.spec), timeoutMs: read('timeout') ?? DEFAULT_TIMEOUT_MS };

  if (read('disableCookies') !== true && tls?.termination !== 'passthrough') {
    const name = read('cookieName') ?? defaultCookieName(route.metadata.namespace, route.metadata.name);
    settings.stickyCookie = { name, secure: tls?.termination === 'edge' && tls.insecureEdgeTerminationPolicy !== 'Allow' };
  }
  if (read('rateLimitConnections') === true) {
    const limits = { concurrentTcp: read('concurrentTcp'), rateTcp: read('rateTcp'), rateHttp: read('rateHttp') };
    const set = Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined));
    if (Object.keys(set).length > 0) settings.rateLimit = set;
  }
  if (annotations[ROUTE_ANNOTATIONS.ipAllowlist] !== undefined) {
    const parsed = PARSERS.ipAllowlist(annotations[ROUTE_ANNOTATIONS.ipAllowlist]);
    const allowlist = parsed.ok ? parsed.value : () => false;
    if (allowlist) settings.ipAllowlist = allowlist;
  }
  const hsts = read('hsts');
  if (hsts !== undefined && tls?.termination === 'edge') settings.hsts = hsts;
  return settings;
}

/** OpenShift names the cookie after a hash of the route; so does this (nothing about the route leaks). */
export function defaultCookieName(namespace: string, name: string): string {
  return createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 16);
}

/** OpenShift: `source` for a passthrough route (no cookie can pin a client), `roundrobin` once several Services share it. */
function defaultBalance(spec: Pick<Route['spec'], 'tls' | 'to' | 'alternateBackends'>): BalanceAlgorithm {
  if (spec.tls?.termination !== 'passthrough') return 'roundrobin';
  const active = [spec.to, ...(spec.alternateBackends ?? [])].filter((backend) => (backend.weight ?? 100) > 0);
  return active.length > 1 ? 'roundrobin' : 'source';
}

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const invalid = (message: string): Parsed<never> => ({ ok: false, message });

type AnnotationKey = keyof typeof ROUTE_ANNOTATIONS;
interface AnnotationValues {
  balance: BalanceAlgorithm;
  disableCookies: boolean;
  cookieName: string;
  timeout: number;
  rateLimitConnections: boolean;
  concurrentTcp: number;
  rateTcp: number;
  rateHttp: number;
  /** undefined: an empty list, which restricts nothing (as in OpenShift). */
  ipAllowlist: ((ip: string) => boolean) | undefined;
  hsts: string;
}

/** One reader per annotation, shared by validation and the table so that they cannot disagree. */
const PARSERS: { [K in AnnotationKey]: (value: string) => Parsed<AnnotationValues[K]> } = {
  balance: (value) =>
    (BALANCE_ALGORITHMS as readonly string[]).includes(value) ? ok(value as BalanceAlgorithm) : invalid(`must be one of ${BALANCE_ALGORITHMS.join(', ')}`),
  disableCookies: parseBool,
  cookieName: (value) => (/^[A-Za-z0-9_-]{1,128}$/.test(value) ? ok(value) : invalid('must be 1 to 128 letters, digits, _ or -')),
  timeout: parseTimeout,
  rateLimitConnections: parseBool,
  concurrentTcp: parseLimit,
  rateTcp: parseLimit,
  rateHttp: parseLimit,
  ipAllowlist: parseAllowlist,
  hsts: parseHsts,
};

// Go's strconv.ParseBool, which OpenShift's `isTrue` uses.
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

function parseBool(value: string): Parsed<boolean> {
  if (TRUE.has(value)) return ok(true);
  if (FALSE.has(value)) return ok(false);
  return invalid('must be "true" or "false"');
}

const TIMEOUT = /^([1-9][0-9]*)(us|ms|s|m|h|d)?$/;
const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** HAProxy's time format, as OpenShift's `timeSpecPattern`: a bare number is milliseconds. */
function parseTimeout(value: string): Parsed<number> {
  const match = TIMEOUT.exec(value);
  if (!match) return invalid('must be a positive duration such as 500ms, 5s or 2m (units us, ms, s, m, h, d; a bare number is ms)');
  const ms = Number(match[1]) * UNIT_MS[(match[2] ?? 'ms') as keyof typeof UNIT_MS];
  return ok(Math.min(MAX_TIMEOUT_MS, Math.max(1, Math.ceil(ms))));
}

/** A count limit: a positive integer (OpenShift takes any integer, but 0 or less would refuse every client). */
function parseLimit(value: string): Parsed<number> {
  const limit = Number(value);
  return /^[1-9][0-9]{0,9}$/.test(value) && limit <= 2_147_483_647 ? ok(limit) : invalid('must be a positive integer');
}

// OpenShift's hstsPattern: max-age (required) with includeSubDomains and preload around it, any case.
const HSTS = /^(?:(?:includeSubDomains|preload)\s*;\s*)*max-age\s*=\s*(?:\d+|"\d+")(?:\s*;\s*(?:includeSubDomains|preload))*$/i;

function parseHsts(value: string): Parsed<string> {
  return value.length <= 1024 && HSTS.test(value) ? ok(value) : invalid('must be max-age=<seconds>, optionally with ;includeSubDomains and ;preload');
}

/** OpenShift's `ip_whitelist`: IPv4/IPv6 addresses and CIDRs separated by spaces. */
function parseAllowlist(value: string): Parsed<((ip: string) => boolean) | undefined> {
  const entries = value.split(/\s+/).filter(Boolean);
  if (entries.length === 0) return ok(undefined);
  const list = new BlockList();
  for (const entry of entries) {
    if (!addEntry(list, entry)) return invalid(`"${entry.slice(0, 64)}" is not an IPv4 or IPv6 address or CIDR`);
  }
  return ok(allowlist(list));
}

function addEntry(list: BlockList, entry: string): boolean {
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0 || address.includes('%')) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (slash < 0) {
    list.addAddress(address, type);
    return true;
  }
  const bits = entry.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128)) return false;
  list.addSubnet(address, Number(bits), type);
  return true;
}

const ALLOWLIST_MEMORY = 4096;

/**
 * The check the data plane runs per request. Node's BlockList matches IPv4 rules against
 * IPv4-mapped IPv6 clients (`::ffff:10.0.0.1`, what a dual-stack socket reports) and the
 * reverse; its ~1 µs per check is remembered per client address.
 */
function allowlist(list: BlockList): (ip: string) => boolean {
  const seen = new Map<string, boolean>();
  return (ip) => {
    let allowed = seen.get(ip);
    if (allowed === undefined) {
      const family = isIP(ip);
      allowed = family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
      if (seen.size >= ALLOWLIST_MEMORY) seen.clear();
      seen.set(ip, allowed);
    }
    return allowed;
  };
}
