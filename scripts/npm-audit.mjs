// npm audit of the lockfile (every dependency, dev ones too: they run in CI and on developers'
// machines), failing on any high or critical advisory that scripts/audit-exceptions.json does
// not list with a reason and a date until which it holds. Exit codes: 0 checked and clean
// (or only excepted findings), 1 findings, 3 NOT CHECKED: the registry's audit endpoint could
// not be reached or refused the request (an offline mirror answers 405), which is said as
// such and never passed off as a clean audit. `npm test` runs it; PAAS_AUDIT_REQUIRED=1 makes
// "not checked" fail there too.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './lib/config.mjs';
import { fail, ok, warn } from './lib/log.mjs';

const EXCEPTIONS_FILE = path.join(REPO, 'scripts', 'audit-exceptions.json');
const FAILING = new Set(['high', 'critical']);
export const NOT_CHECKED = 3;

/** `{ id, package, reason, until }` entries whose date has not passed. */
function activeExceptions(today = new Date().toISOString().slice(0, 10)) {
  const { exceptions } = JSON.parse(readFileSync(EXCEPTIONS_FILE, 'utf8'));
  for (const entry of exceptions) {
    if (!entry.id || !entry.reason || !/^\d{4}-\d{2}-\d{2}$/.test(entry.until ?? '')) throw new Error(`${EXCEPTIONS_FILE}: every exception needs id, reason and until (YYYY-MM-DD): ${JSON.stringify(entry)}`);
  }
  return exceptions.filter((entry) => entry.until >= today);
}

/** The advisories of severity high or critical in npm's JSON report, once each. */
export function failingAdvisories(report) {
  const found = new Map();
  for (const vulnerability of Object.values(report.vulnerabilities ?? {})) {
    for (const via of vulnerability.via ?? []) {
      if (typeof via !== 'object' || !FAILING.has(via.severity)) continue;
      const id = via.url?.split('/').pop() ?? String(via.source);
      found.set(id, { id, package: via.name, severity: via.severity, title: via.title, url: via.url, range: via.range });
    }
  }
  return [...found.values()];
}

function audit() {
  const result = spawnSync('npm', ['audit', '--json', '--package-lock-only'], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
  let report;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    report = undefined;
  }
  if (!report?.vulnerabilities) {
    const why = report?.message ?? report?.error?.summary ?? (result.error?.message || result.stderr.trim().split('\n').pop() || `npm audit exited with ${result.status}`);
    warn(`npm audit NOT CHECKED: the audit endpoint could not be used (${why}); no finding is known, none is ruled out`);
    return NOT_CHECKED;
  }
  const exceptions = activeExceptions();
  const advisories = failingAdvisories(report);
  const excepted = advisories.filter((advisory) => exceptions.some((entry) => entry.id === advisory.id));
  const open = advisories.filter((advisory) => !excepted.includes(advisory));
  for (const advisory of excepted) {
    const entry = exceptions.find((e) => e.id === advisory.id);
    warn(`excepted until ${entry.until}: ${advisory.severity} ${advisory.id} in ${advisory.package} (${advisory.title}): ${entry.reason}`);
  }
  for (const advisory of open) fail(`${advisory.severity} ${advisory.id} in ${advisory.package} ${advisory.range ?? ''}: ${advisory.title} ${advisory.url ?? ''}`);
  const counts = report.metadata?.vulnerabilities ?? {};
  const summary = `npm audit: ${counts.critical ?? 0} critical, ${counts.high ?? 0} high, ${counts.moderate ?? 0} moderate, ${counts.low ?? 0} low`;
  if (open.length) {
    fail(`${summary}; ${open.length} high or critical without an exception in scripts/audit-exceptions.json`);
    return 1;
  }
  ok(`${summary}; no high or critical finding${excepted.length ? ` but the ${excepted.length} excepted` : ''}`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = audit();
