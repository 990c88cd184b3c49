import type { IncomingHttpHeaders } from 'node:http';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * What the application learns about the original request: `X-Forwarded-For` and
 * `Forwarded` are appended to (a chain of proxies), `X-Forwarded-Host/Port/Proto` are set
 * by this router, the edge. Mutates `headers`, a per-request copy.
 */
export function addForwardedHeaders(headers: IncomingHttpHeaders, client: string, host: string, port: number, proto: string): void {
  const forwardedFor = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${client}` : client;
  headers['x-forwarded-host'] = host;
  headers['x-forwarded-port'] = String(port);
  headers['x-forwarded-proto'] = proto;
  const element = `for=${forwardedNode(client)};host=${TOKEN.test(host) ? host : JSON.stringify(host)};proto=${proto}`;
  headers.forwarded = headers.forwarded ? `${headers.forwarded}, ${element}` : element;
}

/** RFC 7239: IPv6 nodes are bracketed and quoted. */
function forwardedNode(ip: string): string {
  return ip.includes(':') ? `"[${ip}]"` : ip;
}

/** `Host` without port, lower case: the table's key. */
export function hostKey(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  let end = hostHeader.length;
  if (hostHeader.charCodeAt(0) === 91 /* [ */) {
    end = hostHeader.indexOf(']') + 1 || end;
  } else {
    const colon = hostHeader.indexOf(':');
    if (colon >= 0) end = colon;
  }
  const host = end === hostHeader.length ? hostHeader : hostHeader.slice(0, end);
  return host.toLowerCase();
}

/** The path of a request target, without its query. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}
