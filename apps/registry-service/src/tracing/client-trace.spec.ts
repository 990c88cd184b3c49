import { trace } from '@opentelemetry/api';
import { contextOfTraceparent, traceparentInUserAgent } from './client-trace';

const TRACEPARENT = '00-331bf2e945004835c18ca83f69fc9acf-426cf3d148d424d1-01';

describe('trace context from the User-Agent', () => {
  it('finds the traceparent a client put in its User-Agent, as a Docker engine forwards it', () => {
    // Exactly what dockerd 20.10 sent when dockerode pushed with this client User-Agent.
    const forwarded = `docker/20.10.24+dfsg1 go/go1.19.8 git-commit/5d6db84 kernel/6.18.44 os/linux arch/amd64 UpstreamClient(paas-build-service/0.1.0 traceparent/${TRACEPARENT})`;
    expect(traceparentInUserAgent(forwarded)).toBe(TRACEPARENT);
    expect(traceparentInUserAgent(`docker/20.10 UpstreamClient(build \\(x\\) traceparent/${TRACEPARENT}\\;)`)).toBe(TRACEPARENT);
  });

  it('finds none in an ordinary User-Agent or a malformed traceparent', () => {
    expect(traceparentInUserAgent('docker/20.10.24 UpstreamClient(Docker-Client/28.2.2 \\(linux\\))')).toBeUndefined();
    expect(traceparentInUserAgent('traceparent/00-XYZ-1-01')).toBeUndefined();
    expect(traceparentInUserAgent(undefined)).toBeUndefined();
  });

  it('makes the traceparent the remote parent span', () => {
    const context = contextOfTraceparent(TRACEPARENT);
    expect(context && trace.getSpanContext(context)).toEqual({ traceId: '331bf2e945004835c18ca83f69fc9acf', spanId: '426cf3d148d424d1', traceFlags: 1, isRemote: true });
    expect(contextOfTraceparent(`00-${'0'.repeat(32)}-426cf3d148d424d1-01`)).toBeUndefined();
  });
});
