import { startTracing } from '@paas/platform/tracing';

startTracing('api-gateway');
