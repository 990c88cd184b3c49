import type { IncomingHttpHeaders } from 'node:http';
import { addForwardedHeaders, hostKey, pathOf } from './forwarded-headers';

describe('forwarded headers', () => {
  it('sets the X-Forwarded headers and appends to a proxy chain', () => {
    const headers: IncomingHttpHeaders = { 'x-forwarded-for': '10.0.0.1', 'x-forwarded-host': 'spoofed' };
    addForwardedHeaders(headers, '127.0.0.1', 'web-demo.apps.localhost:8080', 8080, 'http');
    expect(headers).toMatchObject({
      'x-forwarded-for': '10.0.0.1, 127.0.0.1',
      'x-forwarded-host': 'web-demo.apps.localhost:8080',
      'x-forwarded-port': '8080',
      'x-forwarded-proto': 'http',
      forwarded: 'for=127.0.0.1;host="web-demo.apps.localhost:8080";proto=http',
    });
  });

  it('brackets and quotes IPv6 clients in Forwarded', () => {
    const headers: IncomingHttpHeaders = {};
    addForwardedHeaders(headers, '::1', 'a.apps.localhost', 80, 'http');
    expect(headers.forwarded).toBe('for="[::1]";host=a.apps.localhost;proto=http');
  });

  it('keys hosts without port and case', () => {
    expect(hostKey('Web-Demo.Apps.Localhost:8080')).toBe('web-demo.apps.localhost');
    expect(hostKey('[::1]:8080')).toBe('[::1]');
    expect(hostKey(undefined)).toBe('');
    expect(pathOf('/a/b?c=d')).toBe('/a/b');
  });
});
