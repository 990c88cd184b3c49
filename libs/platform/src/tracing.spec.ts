import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { isUntracedRequest, RedactingSpanProcessor, redactUrlSecrets, UNTRACED_USER_AGENT } from './tracing';

describe('isUntracedRequest', () => {
  it('leaves out requests with the probes’ user agent, in either header form undici reports', () => {
    expect(isUntracedRequest({ headers: `host: 10.0.0.2:8080\r\nuser-agent: ${UNTRACED_USER_AGENT}\r\n` })).toBe(true);
    expect(isUntracedRequest({ headers: ['host', '10.0.0.2:8080', 'user-agent', UNTRACED_USER_AGENT] })).toBe(true);
  });

  it('traces every other request', () => {
    expect(isUntracedRequest({ headers: 'user-agent: undici\r\n' })).toBe(false);
    expect(isUntracedRequest({ headers: ['traceparent', '00-abc-def-01'] })).toBe(false);
  });
});

describe('redacting credentials in URLs', () => {
  const hook = '/apis/build.openshift.io/v1/namespaces/demo/buildconfigs/web/webhooks/s3cret-Value_1/github';

  it('replaces a webhook secret, in a path or a whole URL with a query', () => {
    expect(redactUrlSecrets(hook)).toBe('/apis/build.openshift.io/v1/namespaces/demo/buildconfigs/web/webhooks/<redacted>/github');
    expect(redactUrlSecrets(`http://127.0.0.1:8000${hook}?x=1`)).toBe('http://127.0.0.1:8000/apis/build.openshift.io/v1/namespaces/demo/buildconfigs/web/webhooks/<redacted>/github?x=1');
  });

  it('leaves other paths alone', () => {
    expect(redactUrlSecrets('/api/v1/namespaces/demo/buildconfigs/webhooks')).toBe('/api/v1/namespaces/demo/buildconfigs/webhooks');
  });

  it('redacts the URL attributes of an ended span before the next processor sees it', () => {
    const seen: Record<string, unknown>[] = [];
    const next = { onEnd: (span: ReadableSpan) => seen.push({ ...span.attributes }) } as unknown as SpanProcessor;
    const span = { attributes: { 'http.target': hook, 'http.method': 'POST', 'http.status_code': 200 } } as unknown as ReadableSpan;
    new RedactingSpanProcessor(next).onEnd(span);
    expect(seen).toEqual([{ 'http.target': redactUrlSecrets(hook), 'http.method': 'POST', 'http.status_code': 200 }]);
    expect(JSON.stringify(seen)).not.toContain('s3cret');
  });
});
