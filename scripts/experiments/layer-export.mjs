// What an s2i build's image would cost made without `docker commit` and `docker push`: the
// app layer written by us from what the engine says of the assembled container (its changes and
// archives of them) and sent uncompressed to the platform registry, on top of the builder's
// layers there (mounted, never sent), as Cloud Native Buildpacks' exporter does.
//
// Each round runs the builder's assemble over the bench's app (express, with its lockfile) in a
// container, then makes an image of that one container both ways, in alternating order:
//   engine:  docker commit, then docker push (what the build-service does now);
//   export:  the container's changes → one tar (whole archives of added trees, headers of changed
//            directories, whiteouts of deleted paths) → blob upload → config → manifest.
// The exported image is then pulled (the cost that moves to the deploy) and compared with the
// committed one: every path's type, mode, owner, size, link target and mtime, each file's
// sha256, and the image config a pod would run.
//
//   npm run up && node scripts/experiments/layer-export.mjs [rounds=5]
// Everything made carries the label paas.dev/experiment=layer-export or lives in a namespace of
// its own, removed at the end.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import tar from 'tar-stream';
import { api } from '../../bench/lib/platform-api.mjs';
import { median } from '../../bench/lib/processes.mjs';
import { PAAS_HOME, ports } from '../lib/config.mjs';

const ROUNDS = Number(process.argv[2] ?? 5);
const BUILDER = 'paas-builder/nodejs:latest';
const BUILDER_REPOSITORY = 'openshift/nodejs';
const LABEL = 'paas.dev/experiment';
const REGISTRY = `127.0.0.1:${ports.registry}`;
const namespace = `experiment-export-${Date.now().toString(36)}`;
const docker = new Docker();
const cli = (args, input) => execFileSync('docker', args, { input, encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
const adminPassword = readFileSync(path.join(PAAS_HOME, 'secrets', 'admin-password'), 'utf8').trim();
const CHANGE = { modified: 0, added: 1, deleted: 2 };
const OCI = { manifest: 'application/vnd.oci.image.manifest.v1+json', config: 'application/vnd.oci.image.config.v1+json', layer: 'application/vnd.oci.image.layer.v1.tar', layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip' };

/** The bench's app: express and its lockfile, as a tar of the source. */
function appSource() {
  const dir = mkdtempSync(path.join(tmpdir(), 'paas-experiment-export-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'export', version: '1.0.0', main: 'server.js', dependencies: { express: '4.21.2' } }));
  writeFileSync(path.join(dir, 'server.js'), "require('node:http').createServer((q, s) => s.end('exported')).listen(process.env.PORT || 8080);\n");
  execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'ignore' });
  const source = execFileSync('tar', ['-C', dir, '-cf', '-', '.'], { maxBuffer: 64 << 20 });
  rmSync(dir, { recursive: true, force: true });
  return source;
}

/** The builder's assemble over `source` in a container of its own, left stopped for both ways of imaging it. */
function assemble(source) {
  const id = cli(['create', '-i', '--label', `${LABEL}=layer-export`, '-u', '1001', BUILDER, '/bin/sh', '-c', 'mkdir -p /tmp/src && tar -C /tmp/src -xf - && exec /usr/libexec/s2i/assemble']);
  cli(['start', '-i', id], source);
  return id;
}

async function token(repository) {
  const scope = [`repository:${repository}:push,pull`, `repository:${BUILDER_REPOSITORY}:pull`].map((s) => `scope=${encodeURIComponent(s)}`).join('&');
  const res = await fetch(`http://127.0.0.1:${ports.gateway}/auth/token?service=paas-registry&${scope}`, { headers: { authorization: `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}` } });
  if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
  const body = await res.json();
  return body.token ?? body.access_token;
}

function registry(bearer) {
  return async (method, url, { body, headers = {}, expect = [200, 201, 202] } = {}) => {
    const res = await fetch(url.startsWith('http') ? url : `http://${REGISTRY}${url}`, { method, body, headers: { authorization: `Bearer ${bearer}`, ...headers }, duplex: 'half' });
    if (!expect.includes(res.status)) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
    return res;
  };
}

/** A blob pushed in one request (POST with its digest), as a registry client may for small ones. */
async function putBlob(call, repository, bytes) {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await call('POST', `/v2/${repository}/blobs/uploads/?digest=${digest}`, { body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  return { digest, size: bytes.length };
}

/** The first tar header of an archive of `target` in the container (the stream is cut there): a changed directory's own entry. */
function firstHeader(container, target) {
  return new Promise((resolve, reject) => {
    container.getArchive({ path: target }, (error, stream) => {
      if (error) return reject(error);
      const extract = tar.extract();
      extract.once('entry', (header, entry) => {
        resolve(header);
        entry.resume();
        stream.destroy();
        extract.destroy();
      });
      extract.once('error', reject);
      stream.pipe(extract);
    });
  });
}

/** Every entry of an archive of `target`, renamed from the archive's root (the target's base name) to its path in the image. */
function copyArchive(container, target, pack) {
  const prefix = path.posix.dirname(target).slice(1);
  const inImage = (name) => (prefix ? `${prefix}/${name}` : name);
  return new Promise((resolve, reject) => {
    container.getArchive({ path: target }, (error, stream) => {
      if (error) return reject(error);
      const extract = tar.extract();
      extract.on('entry', (header, entry, next) => {
        const renamed = { ...header, name: inImage(header.name), ...(header.type === 'link' ? { linkname: inImage(header.linkname) } : {}) };
        entry.pipe(pack.entry(renamed, next));
      });
      extract.once('finish', resolve);
      extract.once('error', reject);
      stream.pipe(extract);
    });
  });
}

/**
 * The container's layer as one tar, from what the engine says changed: an added path whose
 * parent is not added is archived whole; a changed directory gets its own entry only (its
 * added children come as their own archives); a changed file is archived; a deleted path is a
 * whiteout (`.wh.<name>`), and a deleted directory that exists again is opaque.
 */
async function exportLayer(container) {
  const started = performance.now();
  const changes = await container.changes();
  const changesMs = performance.now() - started;
  const kinds = new Map(changes.map(({ Path, Kind }) => [Path, Kind]));
  const added = (p) => kinds.get(p) === CHANGE.added;
  const work = changes
    .filter(({ Path, Kind }) => Kind !== CHANGE.added || !added(path.posix.dirname(Path)))
    .sort((a, b) => (a.Path < b.Path ? -1 : 1));
  const pack = tar.pack();
  const chunks = [];
  const hash = createHash('sha256');
  pack.on('data', (chunk) => {
    chunks.push(chunk);
    hash.update(chunk);
  });
  const packed = new Promise((resolve, reject) => pack.once('end', resolve).once('error', reject));
  // The directories' own entries are asked for at once; the archives are copied in path order.
  const headers = new Map(await Promise.all(work.filter(({ Kind }) => Kind === CHANGE.modified).map(async ({ Path }) => [Path, await firstHeader(container, Path)])));
  for (const { Path, Kind } of work) {
    if (Path === '/') continue;
    if (Kind === CHANGE.deleted) {
      pack.entry({ name: `${path.posix.dirname(Path).slice(1)}/.wh.${path.posix.basename(Path)}`.replace(/^\//, ''), type: 'file', size: 0, mode: 0o644, mtime: new Date(0) });
      continue;
    }
    const header = headers.get(Path);
    if (header && header.type === 'directory') {
      await new Promise((resolve, reject) => pack.entry({ ...header, name: `${Path.slice(1)}/` }, (error) => (error ? reject(error) : resolve())));
      continue;
    }
    await copyArchive(container, Path, pack);
  }
  pack.finalize();
  await packed;
  const bytes = Buffer.concat(chunks);
  return { bytes, digest: `sha256:${hash.digest('hex')}`, changes: changes.length, changesMs, layerMs: performance.now() - started };
}

/** The exported image: the builder's manifest and config from the registry, its layers mounted, ours uploaded uncompressed. */
async function exportImage(container, repository, tag) {
  const call = registry(await token(repository));
  const [builderDigest] = (await docker.getImage(BUILDER).inspect()).RepoDigests.filter((d) => d.startsWith(`${REGISTRY}/${BUILDER_REPOSITORY}@`)).map((d) => d.split('@')[1]);
  const accept = { accept: [OCI.manifest, 'application/vnd.docker.distribution.manifest.v2+json'].join(', ') };
  const [layer, base] = await Promise.all([
    exportLayer(container),
    call('GET', `/v2/${BUILDER_REPOSITORY}/manifests/${builderDigest}`, { headers: accept }).then((res) => res.json()),
  ]);
  const [baseConfig] = await Promise.all([
    call('GET', `/v2/${BUILDER_REPOSITORY}/blobs/${base.config.digest}`).then((res) => res.json()),
    ...base.layers.map((l) => call('POST', `/v2/${repository}/blobs/uploads/?mount=${l.digest}&from=${BUILDER_REPOSITORY}`, { expect: [201] })),
  ]);
  const uploaded = await putBlob(call, repository, layer.bytes);
  const created = new Date().toISOString();
  const config = {
    ...baseConfig,
    created,
    config: { ...baseConfig.config, Cmd: ['/usr/libexec/s2i/run'] },
    rootfs: { type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, layer.digest] },
    history: [...(baseConfig.history ?? []), { created, created_by: 'paas layer export (experiment)' }],
  };
  const configBlob = await putBlob(call, repository, Buffer.from(JSON.stringify(config)));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI.manifest,
      config: { mediaType: OCI.config, ...configBlob },
      layers: [...base.layers.map((l) => ({ mediaType: OCI.layerGzip, digest: l.digest, size: l.size })), { mediaType: OCI.layer, ...uploaded }],
    }),
  );
  const res = await call('PUT', `/v2/${repository}/manifests/${tag}`, { body: manifest, headers: { 'content-type': OCI.manifest }, expect: [201] });
  return { digest: res.headers.get('docker-content-digest'), layerBytes: layer.bytes.length, changes: layer.changes, changesMs: layer.changesMs, layerMs: layer.layerMs };
}

/** What a pod would see of an image: every path's type, mode, owner, size, link target and mtime, each file's sha256; and its config. */
function contents(image) {
  const listing = cli([
    'run', '--rm', '--label', `${LABEL}=layer-export`, '--entrypoint', '/bin/sh', '-u', '0', image, '-c',
    "set -e; find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -exec stat -c '%n %F %a %u:%g %s %N %Y' {} + | sort; find /opt /tmp -xdev -type f -exec sha256sum {} + | sort",
  ]);
  const { Config } = JSON.parse(cli(['image', 'inspect', image]))[0];
  const runs = { Cmd: Config.Cmd, Entrypoint: Config.Entrypoint, Env: Config.Env, User: Config.User, WorkingDir: Config.WorkingDir, ExposedPorts: Config.ExposedPorts };
  return { lines: listing.split('\n'), runs };
}

/** What the engine makes in every container it runs (the `find` ones here, a second apart): not the images' own. */
const RUNTIME_PATHS = new Set(['/', '/.dockerenv', '/etc', '/etc/hostname', '/etc/hosts', '/etc/mtab', '/etc/resolv.conf']);

function differences(lines, others) {
  const [a, b] = [lines, others].map((list) => list.filter((line) => !RUNTIME_PATHS.has(line.split(' ')[0])));
  const [left, right] = [new Set(a), new Set(b)];
  return [...a.filter((line) => !right.has(line)).map((line) => `- ${line}`), ...b.filter((line) => !left.has(line)).map((line) => `+ ${line}`)];
}

const seconds = (ms) => (ms / 1000).toFixed(3);
const source = appSource();
await api('POST', '/namespaces', { metadata: { name: namespace } });
cli(['login', REGISTRY, '-u', 'admin', '--password-stdin'], adminPassword);
const times = { commit: [], push: [], engine: [], export: [], changes: [], layer: [], pull: [] };
let layerBytes = 0;
let changeCount = 0;
let mismatches = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const id = assemble(source);
    const container = docker.getContainer(id);
    const committed = `${REGISTRY}/${namespace}/engine:${round}`;
    const exported = `${REGISTRY}/${namespace}/export`;
    const engineWay = async () => {
      let started = performance.now();
      cli(['commit', '--change', 'CMD ["/usr/libexec/s2i/run"]', id, committed]);
      times.commit.push(performance.now() - started);
      started = performance.now();
      cli(['push', '--quiet', committed]);
      times.push.push(performance.now() - started);
      times.engine.push(times.commit.at(-1) + times.push.at(-1));
    };
    let digest;
    const exportWay = async () => {
      const started = performance.now();
      const made = await exportImage(container, `${namespace}/export`, String(round));
      ({ digest, layerBytes, changes: changeCount } = made);
      times.export.push(performance.now() - started);
      times.changes.push(made.changesMs);
      times.layer.push(made.layerMs);
    };
    // Alternated: whichever goes second finds the container's files in the page cache.
    if (round % 2 === 0) await engineWay().then(exportWay);
    else await exportWay().then(engineWay);
    cli(['rm', '-f', id]);
    const started = performance.now();
    cli(['pull', '--quiet', `${exported}@${digest}`]);
    times.pull.push(performance.now() - started);
    const [a, b] = [contents(committed), contents(`${exported}@${digest}`)];
    mismatches = differences(a.lines, b.lines);
    if (JSON.stringify(a.runs) !== JSON.stringify(b.runs)) mismatches.push(`config: ${JSON.stringify(a.runs)} / ${JSON.stringify(b.runs)}`);
    process.stderr.write(`round ${round + 1}/${ROUNDS}: commit ${seconds(times.commit.at(-1))} s + push ${seconds(times.push.at(-1))} s; export ${seconds(times.export.at(-1))} s, its pull ${seconds(times.pull.at(-1))} s; ${mismatches.length} differences\n`);
  }
} finally {
  await api('DELETE', `/namespaces/${namespace}`).catch(() => undefined);
  const images = cli(['images', '-q', '--filter', `reference=${REGISTRY}/${namespace}/*`]);
  if (images) cli(['rmi', '-f', ...new Set(images.split('\n'))]);
  const leftovers = cli(['ps', '-aq', '--filter', `label=${LABEL}=layer-export`]);
  if (leftovers) cli(['rm', '-f', ...leftovers.split('\n')]);
}
console.log(`the bench's app (express), median of ${ROUNDS} rounds (s); layer ${(layerBytes / 1e6).toFixed(2)} MB uncompressed from ${changeCount} changes`);
console.log(`  docker commit ${seconds(median(times.commit))} + docker push ${seconds(median(times.push))} = ${seconds(median(times.engine))}`);
console.log(`  export ${seconds(median(times.export))}: the layer ${seconds(median(times.layer))} (of which the engine's changes ${seconds(median(times.changes))}), then upload, config, manifest; its pull on the same engine ${seconds(median(times.pull))}`);
console.log(`  committed and exported images: ${mismatches.length} differences${mismatches.length ? `:\n    ${mismatches.slice(0, 30).join('\n    ')}` : ''}`);
