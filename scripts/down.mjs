// npm run down: stops what `npm run up` started, by the pid files in .paas/run: every replica
// of the services, then the extra Docker engines (their containers first) with their
// networks, then the infrastructure in reverse start order (the single NATS server or the
// cluster's, whichever runs). Processes it did not start are left alone. `--services` stops
// only the services.
import { everyInfrastructure } from './lib/config.mjs';
import { main, ok } from './lib/log.mjs';
import { stopNodes } from './lib/nodes.mjs';
import { stop } from './lib/proc.mjs';
import { stopServices } from './lib/services.mjs';

const servicesOnly = process.argv.includes('--services');

await main(async () => {
  let stopped = await stopServices();
  if (!servicesOnly) {
    stopped += await stopNodes();
    for (const entry of [...everyInfrastructure].reverse()) {
      const outcome = await stop(entry);
      if (!outcome) continue;
      ok(`${entry.name}: ${outcome.message}`);
      if (outcome.stopped) stopped += 1;
    }
  }
  ok(stopped === 0 ? 'nothing started by `npm run up` was running' : `${stopped} process(es) stopped`);
});
