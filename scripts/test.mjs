// npm test: lint and unit tests (nx), npm audit (scripts/npm-audit.mjs), then the platform up
// (scripts/up.mjs, idempotent), then the integration and end-to-end tests against it
// (jest.integration.config.js), one short round of every benchmark, and last the chaos suite
// (scripts/chaos.mjs: two replicas of every service while it runs).
// Every step runs even when an earlier one failed, except the integration tests, which
// need the platform; the exit code is non-zero when anything failed.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO, bin, toolEnv } from './lib/config.mjs';
import { NOT_CHECKED } from './npm-audit.mjs';
import { fail, main, ok, seconds, timed, warn } from './lib/log.mjs';
import { run } from './lib/proc.mjs';

const inRepo = { cwd: REPO, env: toolEnv };
// CI runs every check for real rather than replaying nx's cached results.
const cacheFlags = process.env.CI ? ['--skip-nx-cache'] : [];
const nx = (target) => () => run(bin('nx'), ['run-many', '-t', target, ...cacheFlags], inRepo);

/**
 * Every bench/*.mjs, one short round each (its first argument is the number of rounds;
 * BENCH_SMOKE=1 shortens what else it can): a bench that no longer runs fails here, so no
 * figure in docs/benchmarks.md can quietly stop being reproducible.
 */
async function smokeBenchmarks() {
  const benches = readdirSync(path.join(REPO, 'bench')).filter((file) => file.endsWith('.mjs')).sort();
  let failed = 0;
  for (const file of benches) {
    console.log(`\n· bench/${file} (one short round)`);
    const code = await run(process.execPath, [path.join('bench', file), '1'], { cwd: REPO, env: { ...toolEnv, BENCH_SMOKE: '1' } });
    if (code === 0) continue;
    // Node exits 13, silently, when the event loop empties while the module still awaits a promise.
    fail(`bench/${file} failed with exit code ${code}${code === 13 ? ' (it awaited a promise that nothing could settle any more)' : ''}`);
    failed++;
  }
  return failed ? 1 : 0;
}

/**
 * scripts/npm-audit.mjs: high or critical advisories fail unless excepted. Where the audit
 * endpoint cannot be used (an offline mirror) the summary says NOT CHECKED, never "passed";
 * that fails too with PAAS_AUDIT_REQUIRED=1.
 */
async function npmAudit() {
  const code = await run(process.execPath, ['scripts/npm-audit.mjs'], inRepo);
  if (code !== NOT_CHECKED) return code;
  const note = 'NOT CHECKED: the registry\'s audit endpoint could not be used (see above)';
  return { code: process.env.PAAS_AUDIT_REQUIRED === '1' ? code : 0, note };
}

const STEPS = [
  { name: 'lint', run: nx('lint') },
  { name: 'unit tests', run: nx('test') },
  { name: 'npm audit', run: npmAudit },
  // At least two nodes: the end-to-end tests spread pods over them and take one away.
  { name: 'platform up', run: () => run(process.execPath, ['scripts/up.mjs'], { ...inRepo, env: { ...toolEnv, PAAS_MIN_NODES: '2' } }) },
  // Jest strips types without checking them; the specs are type-checked here, once up has built the libraries.
  { name: 'type-check tests', needs: 'platform up', run: () => run(bin('tsc'), ['-p', 'tsconfig.spec.json'], inRepo) },
  {
    name: 'integration + e2e tests',
    needs: 'platform up',
    // --forceExit: a handle a failed test leaves open (a load loop, a socket) must not hold CI
    // until its deadline with every later step unrun; Jest still names it in a warning.
    run: () => run(bin('jest'), ['-c', 'jest.integration.config.js', '--forceExit'], inRepo),
  },
  { name: 'benchmarks (smoke)', needs: 'platform up', run: smokeBenchmarks },
  // Last: it kills parts of the platform (and brings it to two replicas of everything meanwhile).
  { name: 'chaos', needs: 'platform up', run: () => run(process.execPath, ['scripts/chaos.mjs'], inRepo) },
];

await main(async () => {
  const results = new Map();
  for (const step of STEPS) {
    if (step.needs && results.get(step.needs).code !== 0) {
      results.set(step.name, { skipped: `${step.needs} failed` });
      continue;
    }
    console.log(`\n── ${step.name} ──`);
    const [result, ms] = await timed(step.run);
    results.set(step.name, { ...(typeof result === 'number' ? { code: result } : result), ms });
  }
  printSummary(results);
  if ([...results.values()].some((result) => result.code !== 0)) process.exitCode = 1;
});

function printSummary(results) {
  console.log('\n── summary ──');
  for (const [name, { code, ms, skipped, note }] of results) {
    const label = name.padEnd(24);
    if (skipped) warn(`${label} skipped: ${skipped}`);
    else if (note) (code === 0 ? warn : fail)(`${label} ${note} (${seconds(ms)})`);
    else if (code === 0) ok(`${label} passed (${seconds(ms)})`);
    else fail(`${label} failed with exit code ${code} (${seconds(ms)})`);
  }
}
