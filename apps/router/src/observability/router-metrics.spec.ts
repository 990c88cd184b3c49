import { parseExposition, sampleValue as value } from '../testing/prometheus-text';
import { aRequestRecord } from '../testing/request-records';
import { escapeLabel } from '@paas/platform/metrics';
import { LATENCY_BUCKETS, RouterMetrics, upstreamErrorKind } from './router-metrics';

const key = (labels: Record<string, string>) => `${labels.namespace}/${labels.route}`;

describe('router metrics', () => {
  it('renders valid text exposition 0.0.4: counters per status class, histograms and upstream errors per route', () => {
    const metrics = new RouterMetrics();
    metrics.observe(aRequestRecord({ status: 200, durationSeconds: 0.0004 }));
    metrics.observe(aRequestRecord({ status: 204, durationSeconds: 0.003 }));
    metrics.observe(aRequestRecord({ status: 502, durationSeconds: 0.02, upstreamError: 'ECONNREFUSED' }));
    metrics.observe(aRequestRecord({ status: 101, durationSeconds: 12 }));
    metrics.observe(aRequestRecord({ namespace: '', route: '', status: 404, durationSeconds: 0.0001, upstream: undefined }));

    const families = parseExposition(metrics.render());

    expect([...families.keys()]).toEqual(['router_requests_total', 'router_request_duration_seconds', 'router_upstream_errors_total']);
    expect(families.get('router_requests_total')?.type).toBe('counter');
    expect(families.get('router_request_duration_seconds')?.type).toBe('histogram');
    expect(families.get('router_upstream_errors_total')?.type).toBe('counter');
    for (const family of families.values()) expect(family.help).not.toBe('');

    const web = { namespace: 'demo', route: 'web' };
    const byClass = Object.fromEntries(['1xx', '2xx', '3xx', '4xx', '5xx'].map((code) => [code, value(families, 'router_requests_total', 'router_requests_total', { ...web, code })]));
    expect(byClass).toEqual({ '1xx': 1, '2xx': 2, '3xx': 0, '4xx': 0, '5xx': 1 });
    // Requests no route matched are one series with empty labels.
    expect(value(families, 'router_requests_total', 'router_requests_total', { namespace: '', route: '', code: '4xx' })).toBe(1);

    const errors = families.get('router_upstream_errors_total')?.samples.filter((s) => key(s.labels) === 'demo/web');
    expect(Object.fromEntries(errors?.map((s) => [s.labels.kind, s.value]) ?? [])).toEqual({ connect_refused: 1, reset: 0, timeout: 0, other: 0 });
  });

  it('keeps the histogram cumulative, le-inclusive, with +Inf equal to the count and the sum of the durations', () => {
    const metrics = new RouterMetrics();
    const durations = [0.001, 0.0011, 0.01, 0.3, 10, 11, 0];
    for (const durationSeconds of durations) metrics.observe(aRequestRecord({ durationSeconds }));

    const histogram = parseExposition(metrics.render()).get('router_request_duration_seconds');
    const buckets = histogram?.samples.filter((s) => s.name.endsWith('_bucket')) ?? [];
    expect(buckets.map((b) => b.labels.le)).toEqual([...LATENCY_BUCKETS.map(String), '+Inf']);
    const at = (le: string) => buckets.find((b) => b.labels.le === le)?.value;
    expect(at('0.001')).toBe(2); // 0 and exactly 1 ms
    expect(at('0.0025')).toBe(3);
    expect(at('0.01')).toBe(4);
    expect(at('0.5')).toBe(5);
    expect(at('10')).toBe(6);
    expect(at('+Inf')).toBe(7);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
    expect(histogram?.samples.find((s) => s.name.endsWith('_count'))?.value).toBe(7);
    expect(histogram?.samples.find((s) => s.name.endsWith('_sum'))?.value).toBeCloseTo(durations.reduce((a, b) => a + b, 0), 9);
  });

  it('orders series by route and escapes label values', () => {
    const metrics = new RouterMetrics();
    metrics.observe(aRequestRecord({ namespace: 'b', route: 'x' }));
    metrics.observe(aRequestRecord({ namespace: 'a', route: 'z"\\\ny' }));
    const families = parseExposition(metrics.render());
    const routes = families.get('router_requests_total')?.samples.filter((s) => s.labels.code === '2xx').map((s) => key(s.labels));
    expect(routes).toEqual(['a/z"\\\ny', 'b/x']);
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });

  it('sorts upstream failures into connect refused, reset, timeout and other', () => {
    expect(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'timeout', 'FST_REPLY_FROM_GATEWAY_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'EHOSTUNREACH'].map(upstreamErrorKind)).toEqual([
      'connect_refused',
      'reset',
      'reset',
      'reset',
      'timeout',
      'timeout',
      'timeout',
      'other',
    ]);
  });

  it('reports requests in flight per route once the data plane says when requests start', () => {
    const metrics = new RouterMetrics();
    metrics.observe(aRequestRecord());
    expect(parseExposition(metrics.render()).has('router_requests_in_flight')).toBe(false);

    metrics.started('demo', 'web');
    metrics.started('demo', 'web');
    metrics.started('demo', 'api');
    let families = parseExposition(metrics.render());
    expect(families.get('router_requests_in_flight')?.type).toBe('gauge');
    expect(value(families, 'router_requests_in_flight', 'router_requests_in_flight', { namespace: 'demo', route: 'web' })).toBe(2);

    metrics.observe(aRequestRecord());
    metrics.observe(aRequestRecord({ route: 'api' }));
    // Refused before reaching an endpoint (a 429, a 403): it never started.
    metrics.observe(aRequestRecord({ status: 429, upstream: undefined }));
    families = parseExposition(metrics.render());
    expect(value(families, 'router_requests_in_flight', 'router_requests_in_flight', { namespace: 'demo', route: 'web' })).toBe(1);
    expect(value(families, 'router_requests_in_flight', 'router_requests_in_flight', { namespace: 'demo', route: 'api' })).toBe(0);
  });

  it('drops the series of a route idle past the limit with nothing in flight, and starts it again from zero', () => {
    let now = 0;
    const metrics = new RouterMetrics({ idleSeriesMs: 1_000, now: () => now });
    metrics.observe(aRequestRecord({ route: 'gone' }));
    metrics.observe(aRequestRecord({ route: 'busy' }));
    metrics.started('demo', 'busy');
    metrics.render();
    now = 500;
    metrics.observe(aRequestRecord({ route: 'kept' }));
    now = 1_600;
    const routes = (text: string) => [...new Set(parseExposition(text).get('router_requests_total')?.samples.map((s) => s.labels.route))];
    expect(routes(metrics.render())).toEqual(['busy', 'kept']);

    metrics.observe(aRequestRecord({ route: 'gone' }));
    const families = parseExposition(metrics.render());
    expect(value(families, 'router_requests_total', 'router_requests_total', { namespace: 'demo', route: 'gone', code: '2xx' })).toBe(1);
  });

  it('rejects what the strict reader of the format should reject (the reader can fail)', () => {
    expect(() => parseExposition('x 1')).toThrow('newline');
    expect(() => parseExposition('# TYPE x counter\ny 1\n')).toThrow('outside its family');
    expect(() => parseExposition('# TYPE x counter\nx{a="b} 1\n')).toThrow();
    expect(() => parseExposition('# TYPE x counter\nx 1\n# HELP x late\n')).toThrow('after samples');
  });
});
