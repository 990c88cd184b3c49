import { startTracing } from '@paas/platform/tracing';

startTracing('deploy-service');
