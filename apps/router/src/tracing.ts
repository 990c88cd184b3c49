import { startTracing } from '@paas/platform/tracing';

startTracing('router');
