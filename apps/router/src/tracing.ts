import { startTracing } from '@paas/platform/tracing';
import { loadRouterConfig } from './config';

const { adminPort } = loadRouterConfig();

// Admin and control-plane calls are traced; data-plane requests only inside a caller's trace.
startTracing('router', { traceIncoming: (request) => request.socket.localPort === adminPort || request.headers.traceparent !== undefined });
