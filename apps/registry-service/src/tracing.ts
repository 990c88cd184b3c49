import { startTracing } from '@paas/platform/tracing';

startTracing('registry-service');
