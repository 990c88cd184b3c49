import { startTracing } from '@paas/platform/tracing';

// No http/undici instrumentation: the data plane traces by hand, only requests that arrive inside a trace.
startTracing('router', { http: false });
