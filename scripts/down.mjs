// npm run down: stops what `npm run up` started, by the pid files in .paas/run (services
// first, then the infrastructure in reverse start order). Processes it did not start are
// left alone. `--services` stops only the five services.
import { infrastructure, services } from './lib/config.mjs';
import { main, ok } from './lib/log.mjs';
import { stop } from './lib/proc.mjs';

const servicesOnly = process.argv.includes('--services');

await main(async () => {
  const entries = [...services].reverse().concat(servicesOnly ? [] : [...infrastructure].reverse());
  let stopped = 0;
  for (const entry of entries) {
    const outcome = await stop(entry);
    if (!outcome) continue;
    ok(`${entry.name}: ${outcome.message}`);
    if (outcome.stopped) stopped += 1;
  }
  ok(stopped === 0 ? 'nothing started by `npm run up` was running' : `${stopped} process(es) stopped`);
});
