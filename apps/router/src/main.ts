import './tracing';
import { exitOnSettingError } from '@paas/platform/bootstrap';
import { busSettings } from '@paas/platform/bus-settings';
import { JsonLogger } from '@paas/platform/logger';
import { startRouter } from './bootstrap';
import { ROUTER_SERVICE } from './config';

try {
  busSettings();
} catch (error) {
  exitOnSettingError(ROUTER_SERVICE, error);
}

// The control plane is retried until it starts; only a data plane that cannot listen ends up here.
startRouter().catch((error: Error) => {
  new JsonLogger(ROUTER_SERVICE).error(`router did not start: ${error.message}`, error.stack, 'Bootstrap');
  process.exit(1);
});
