import { isUntracedRequest, UNTRACED_USER_AGENT } from './tracing';

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
