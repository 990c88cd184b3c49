// Runs the OCI distribution-spec conformance suite against a registry and prints a compact
// summary: node scripts/registry-conformance.mjs [--url http://127.0.0.1:5000] [--repo ns/name]
// [--username u --password p] [--strict] [--json] [--results dir] [--build-only]. It exits
// non-zero when a test failed (with --strict also when one was skipped as unsupported).
//
// The suite (opencontainers/distribution-spec, conformance/) is built once with Go from the
// pinned module on the Go module proxy and cached in .paas/tools/oci-conformance/; it is
// rebuilt only when CONFORMANCE_VERSION changes. All four workflow categories run: pull, push,
// content discovery (tags list, referrers) and content management (delete tags, manifests,
// blobs). Full reports (report.html with every request and response, junit.xml, results.yaml)
// go to .paas/logs/conformance/<host>-<port>/.
//
// Credentials: --username/--password (or OCI_USERNAME/OCI_PASSWORD). Against the platform's
// own registry, user `admin` with <PAAS_HOME>/secrets/admin-password is used once that file
// exists. Any other OCI_* variable in the environment is passed on and wins over ours, e.g.
// OCI_VERSION=dev or OCI_FILTER_TEST="OCI Conformance Test/sha256 blobs".
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PAAS_HOME, dirs, relative, serviceEnv } from './lib/config.mjs';
import { Failure, main, ok, produce, seconds, timed, warn } from './lib/log.mjs';
import { capture, commandExists, logFile, runLogged } from './lib/proc.mjs';
import { addGoToPath } from './lib/provision.mjs';

const CONFORMANCE_MODULE = 'github.com/opencontainers/distribution-spec/conformance';
const CONFORMANCE_VERSION = 'v0.0.0-20260831232431-97274622c111';
const TOOL_DIR = path.join(PAAS_HOME, 'tools', 'oci-conformance');
const BINARY = path.join(TOOL_DIR, `conformance-${CONFORMANCE_VERSION}`);
const PLATFORM_REGISTRY = `http://${serviceEnv.REGISTRY_HOST}`;
const ADMIN_PASSWORD_FILE = path.join(PAAS_HOME, 'secrets', 'admin-password');

/**
 * The suite skips a test when the registry answers that it does not support something (a 405
 * for DELETE, say), and passes anyway. With --strict every such skip fails the run, except
 * where the spec lets a registry decline: a mount without `from` may answer 202 and take the
 * blob by POST+PUT instead.
 */
const OPTIONAL_SKIPS = [/fell back to blob POST\+PUT/];

const { values: options } = parseArgs({
  options: {
    url: { type: 'string', default: PLATFORM_REGISTRY },
    repo: { type: 'string' }, // the first repository; the second is in a namespace beside it
    username: { type: 'string', default: process.env.OCI_USERNAME },
    password: { type: 'string', default: process.env.OCI_PASSWORD },
    results: { type: 'string' },
    json: { type: 'boolean', default: false }, // also print the summary as one JSON line
    strict: { type: 'boolean', default: false }, // a skipped test fails too, unless the spec makes it optional
    'build-only': { type: 'boolean', default: false },
  },
});

await main(async () => {
  await ensureConformanceBinary();
  if (options['build-only']) return;
  const summary = await runSuite(suiteConfig());
  printSummary(summary);
  if (options.json) console.log(JSON.stringify(summary));
  if (summary.status !== 'passed') process.exitCode = 1;
});

/** Builds the suite's binary unless the pinned version is already built. */
async function ensureConformanceBinary() {
  if (fs.existsSync(BINARY)) return ok(`OCI conformance suite ${CONFORMANCE_VERSION} present`);
  addGoToPath();
  if (!commandExists('go')) {
    throw new Failure('Go (1.24 or later) is needed to build the OCI conformance suite: install it under /usr/local/go');
  }
  await produce(`building the OCI conformance suite ${CONFORMANCE_VERSION} (log ${relative(logFile('oci-conformance-build'))})`,
    `OCI conformance suite built: ${relative(BINARY)}`, buildConformance);
}

async function buildConformance() {
  const env = { ...process.env, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };
  fs.mkdirSync(TOOL_DIR, { recursive: true });
  const module = `${CONFORMANCE_MODULE}@${CONFORMANCE_VERSION}`;
  const { Dir } = JSON.parse(capture('go', ['mod', 'download', '-json', module], { cwd: TOOL_DIR, env }));
  const source = fs.mkdtempSync(path.join(TOOL_DIR, '.build-'));
  try {
    capture('cp', ['-R', '--no-preserve=mode', `${Dir}/.`, source]); // the module cache is read-only
    await runLogged('oci-conformance-build', 'sh', ['-c', 'go mod download && go build -trimpath -ldflags "$1" -o "$2" .',
      'sh', `-X main.Version=${CONFORMANCE_VERSION}`, 'conformance'], { cwd: source, env });
    // Another run may have built it meanwhile: the rename replaces it atomically.
    fs.renameSync(path.join(source, 'conformance'), BINARY);
  } finally {
    fs.rmSync(source, { recursive: true, force: true });
  }
  for (const old of fs.readdirSync(TOOL_DIR)) {
    if (old.startsWith('conformance-') && path.join(TOOL_DIR, old) !== BINARY) fs.rmSync(path.join(TOOL_DIR, old), { force: true });
  }
}

function suiteConfig() {
  const url = new URL(options.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Failure(`--url must be http(s)://host:port, not ${options.url}`);
  const suffix = crypto.randomBytes(4).toString('hex');
  const repo1 = options.repo ?? process.env.OCI_REPO1 ?? `conformance-${suffix}/repo`;
  // A second namespace: blob mounts then cross a namespace boundary, as pushes between projects do.
  const repo2 = `${repo1.split('/')[0]}-mount/repo`;
  const credentials = registryCredentials(url);
  const resultsDir = path.resolve(options.results ?? path.join(dirs.logs, 'conformance', url.host.replace(/[^A-Za-z0-9.-]/g, '-')));
  const env = {
    OCI_REGISTRY: url.host,
    OCI_TLS: url.protocol === 'http:' ? 'disabled' : 'enabled',
    OCI_REPO1: repo1,
    OCI_REPO2: repo2,
    OCI_VERSION: '1.1',
    // The four workflow categories of the distribution spec (the old OCI_TEST_* switches).
    OCI_API_PULL: 'true',
    OCI_API_PUSH: 'true',
    OCI_API_TAGS_LIST: 'true', // content discovery …
    OCI_API_REFERRER: 'true',
    OCI_API_TAGS_DELETE: 'true', // … and content management
    OCI_API_MANIFESTS_DELETE: 'true',
    OCI_API_BLOBS_DELETE: 'true',
    OCI_API_BLOBS_MOUNT_ANONYMOUS: 'true', // a mount without `from`: optional, a 202 falls back to POST+PUT
    OCI_RESULTS_DIR: resultsDir,
    OCI_LOG: 'warn',
    // The caller's OCI_* settings win (OCI_CONFIGURATION, a yaml file, too) …
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('OCI_'))),
    // … but not over the flags.
    ...(options.repo ? { OCI_REPO1: repo1 } : {}),
    OCI_USERNAME: credentials.username,
    OCI_PASSWORD: credentials.password,
  };
  return { url: url.href.replace(/\/$/, ''), env, resultsDir, namespaces: [...new Set([env.OCI_REPO1, env.OCI_REPO2].map((repo) => repo.split('/')[0]))] };
}

/** Explicit credentials, else the platform's admin for the platform's registry once auth is on. */
function registryCredentials(url) {
  if (options.username) return { username: options.username, password: options.password ?? '' };
  if (url.host === new URL(PLATFORM_REGISTRY).host && fs.existsSync(ADMIN_PASSWORD_FILE)) {
    return { username: 'admin', password: fs.readFileSync(ADMIN_PASSWORD_FILE, 'utf8').trim() };
  }
  return { username: '', password: '' };
}

async function runSuite({ url, env, resultsDir, namespaces }) {
  fs.rmSync(resultsDir, { recursive: true, force: true });
  fs.mkdirSync(resultsDir, { recursive: true });
  const output = path.join(resultsDir, 'output.txt');
  const [code, ms] = await timed(() => new Promise((resolve, reject) => {
    const fd = fs.openSync(output, 'w');
    // cwd: the results dir, so that no stray ./oci-conformance.yaml is read.
    const child = spawn(BINARY, [], { cwd: resultsDir, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    child.on('error', reject);
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1)));
  }));
  const junit = path.join(resultsDir, 'junit.xml');
  if (!fs.existsSync(junit)) {
    // The suite exits 0 when it cannot even load its configuration: never take that for a pass.
    throw new Failure(`the conformance suite wrote no report (exit ${code}); its output:\n${fs.readFileSync(output, 'utf8').slice(-4000)}`);
  }
  const tests = parseJunit(fs.readFileSync(junit, 'utf8'));
  const count = (status) => tests.filter((test) => test.status === status).length;
  const unsupported = tests.filter((test) => test.status === 'skipped' && !OPTIONAL_SKIPS.some((optional) => optional.test(test.message)));
  const yaml = fs.readFileSync(path.join(resultsDir, 'results.yaml'), 'utf8');
  const summary = {
    url,
    status: code === 0 && count('failed') === 0 && !(options.strict && unsupported.length) ? 'passed' : 'failed',
    exitCode: code,
    seconds: Math.round(ms / 100) / 10,
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    disabled: count('disabled'),
    repositories: [env.OCI_REPO1, env.OCI_REPO2],
    namespaces,
    apis: yamlSection(yaml, 'apis'),
    data: yamlSection(yaml, 'data'),
    failures: tests.filter((test) => test.status === 'failed').map(({ name, message, exchange }) => ({ name, message, exchange })),
    skips: tests.filter((test) => test.status === 'skipped').map(({ name, message }) => ({ name, message })),
    unsupported: unsupported.map(({ name, message }) => ({ name, message })),
    resultsDir,
  };
  fs.writeFileSync(path.join(resultsDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

function unescapeXml(text) {
  const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, entity) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    return named[entity] ?? whole;
  });
}

function element(body, name) {
  const match = body.match(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`));
  return match ? unescapeXml(match[1]) : '';
}

/**
 * The suite's junit.xml has one <testcase> per leaf test: status passed, failure, error or
 * skipped (a test switched off by configuration is "skipped" too, with a message saying so);
 * <system-out> holds the errors, <system-err> every request and response.
 */
function parseJunit(xml) {
  const tests = [];
  for (const [, attributes, body] of xml.matchAll(/<testcase ([^>]*)>([\s\S]*?)<\/testcase>/g)) {
    const name = unescapeXml(attributes.match(/name="([^"]*)"/)?.[1] ?? '');
    const junitStatus = attributes.match(/status="([^"]*)"/)?.[1];
    const output = element(body, 'system-err');
    const message = (element(body, 'system-out') || output.match(/skipping test:\n {2}([\s\S]*)$/)?.[1] || '').trim();
    const status = junitStatus === 'passed' ? 'passed'
      : junitStatus === 'skipped' ? (/disabled in the configuration|test filter/.test(message) ? 'disabled' : 'skipped')
      : 'failed';
    tests.push({ name, status, message, exchange: status === 'failed' ? failingExchange(output, message) : undefined });
  }
  return tests;
}

/**
 * The exchange that failed, from a test's log of requests and responses, compacted: the last
 * one whose method and status fit the message ("manifest put failed: … received 400"), else
 * the last one.
 */
function failingExchange(log, message) {
  const exchanges = log.split(/^={20,}$/m).map((part) => part.trim()).filter((part) => part.startsWith('~~~ REQUEST')).map(parseExchange);
  const method = message.match(/^\w+ (get|head|put|post|patch|delete)\b/i)?.[1].toUpperCase();
  const status = Number(message.match(/received (\d{3})\b/)?.[1]);
  const fits = (exchange) => (!method || exchange.request.startsWith(`${method} `)) && (!status || exchange.status === status);
  return exchanges.findLast(fits) ?? exchanges.at(-1);
}

function parseExchange(text) {
  const [request, response = ''] = text.split(/^-{20,}$/m);
  const field = (part, name) => part.match(new RegExp(`^${name}: (.*)$`, 'm'))?.[1];
  const body = response.split('\n').filter((line) => line && !/^(~~~|---|Status:|Headers:|\s+\S+: \[)/.test(line)).join('\n');
  return {
    request: `${field(request, 'Method')} ${field(request, 'URL')}`,
    requestHeaders: headerLines(request),
    status: Number(field(response, 'Status')),
    responseHeaders: headerLines(response),
    body: body.slice(0, 600),
  };
}

function headerLines(text) {
  return Object.fromEntries([...text.matchAll(/^\s+([\w-]+): \[(.*)\]$/gm)]
    .filter(([, name]) => !/^(Date|Connection|Keep-Alive|Docker-Distribution-Api-Version|Authorization)$/i.test(name))
    .map(([, name, value]) => [name, value]));
}

/** `apis:` and `data:` of results.yaml: one `  Name: Status` line per entry. */
function yamlSection(yaml, section) {
  const block = yaml.split(/\n(?=\S)/).find((part) => part.startsWith(`${section}:`)) ?? '';
  return Object.fromEntries([...block.matchAll(/^ {2}(.+?): (\S+)$/gm)].map(([, name, status]) => [name.replace(/^"|"$/g, ''), status]));
}

function printSummary(summary) {
  const counts = `${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped, ${summary.disabled} disabled`;
  console.log(`OCI conformance against ${summary.url} (${summary.repositories.join(', ')}): ${counts} in ${seconds(summary.seconds * 1000)}`);
  const notPassing = (map) => Object.entries(map).filter(([, status]) => !['Pass', 'Disabled'].includes(status));
  for (const [name, status] of notPassing(summary.apis)) console.log(`  api  ${status.padEnd(5)} ${name}`);
  for (const [name, status] of notPassing(summary.data)) console.log(`  data ${status.padEnd(5)} ${name}`);
  const skipReasons = new Map();
  for (const skip of summary.skips) {
    const reason = skip.message.split('\n')[0];
    skipReasons.set(reason, [...(skipReasons.get(reason) ?? []), skip]);
  }
  for (const [reason, skips] of skipReasons) warn(`skipped ×${skips.length}: ${reason} (e.g. ${shortName(skips[0].name)})`);
  for (const failure of summary.failures) {
    console.log(`✗ ${shortName(failure.name)}\n    ${failure.message.replace(/\n/g, '\n    ')}`);
    const exchange = failure.exchange;
    if (exchange) console.log(`    last request: ${exchange.request} → ${exchange.status} ${exchange.body.split('\n')[0].slice(0, 300)}`);
  }
  console.log(`  reports: ${relative(summary.resultsDir)}/ (report.html, junit.xml, results.yaml, summary.json)`);
  if (summary.status === 'passed') ok(`${summary.passed} passed, 0 failed`);
  else console.log(`✗ ${summary.failed} failed (suite exit ${summary.exitCode})`);
}

function shortName(name) {
  return name.replace(/^OCI Conformance Test\//, '');
}
