// npm run test:chaos: brings the platform to two replicas of every service and (at least) two
// nodes, runs the chaos suite (e2e/chaos), and scales the replicas back to what they were.
// npm test runs it as its last step.
import fs from 'node:fs';
import path from 'node:path';
import { PAAS_HOME, REPO, bin, toolEnv } from './lib/config.mjs';
import { main } from './lib/log.mjs';
import { run } from './lib/proc.mjs';

const CHAOS_REPLICAS = '2';
const MIN_NODES = '2';

function savedReplicas() {
  try {
    const { replicas } = JSON.parse(fs.readFileSync(path.join(PAAS_HOME, 'scale.json'), 'utf8'));
    return Object.entries(replicas).map(([service, count]) => `${service}=${count}`).join(',');
  } catch {
    return '1';
  }
}

await main(async () => {
  const before = savedReplicas();
  const up = (replicas) => run(process.execPath, ['scripts/up.mjs', '--replicas', replicas], { cwd: REPO, env: { ...toolEnv, PAAS_MIN_NODES: MIN_NODES } });
  if ((await up(CHAOS_REPLICAS)) !== 0) throw new Error('the platform did not come up with two replicas of every service');
  const code = await run(bin('jest'), ['-c', 'jest.chaos.config.js'], { cwd: REPO, env: toolEnv });
  await up(before);
  process.exitCode = code;
});
