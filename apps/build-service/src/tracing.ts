import { startTracing } from '@paas/platform/tracing';

startTracing('build-service');
