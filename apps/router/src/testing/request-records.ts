import type { RequestRecord } from '../data-plane/request-observer';

/** A finished request as the data plane reports it: a 200 for route demo/web unless told otherwise. */
export function aRequestRecord(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    namespace: 'demo',
    route: 'web',
    method: 'GET',
    host: 'web-demo.apps.localhost',
    path: '/',
    status: 200,
    durationSeconds: 0.002,
    upstream: '127.0.0.1:40001',
    clientIp: '127.0.0.1',
    tls: false,
    ...overrides,
  };
}
