// The S2I builder images in the platform's own registry, as the image streams of the namespace
// `openshift` (where OpenShift keeps its builder streams), and on every node from there.
//
// An engine that pushed or pulled an image remembers which registry blob each of its layers
// is, and where it pushed or pulled it. Only then does its next push of an app built on that
// builder mount the builder's layer (~50 MB compressed) instead of compressing and uploading it
// again (7 s here), and only then does a node pulling an app built elsewhere skip that layer.
// A builder `docker load`ed onto a node had no such memory; and once every app's repository
// holding the layer was deleted, the registry had no copy to mount from. The streams keep one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { relative, serviceEnv } from './config.mjs';
import { asAdmin } from './gateway.mjs';
import { Failure, produce } from './log.mjs';
import { dockerOn, engineArgs } from './nodes.mjs';
import { capture, logFile, runLogged } from './proc.mjs';

export const BUILDER_NAMESPACE = 'openshift';
/** The builder images `apps/build-service/builders` makes on the host's engine. */
const BUILDER_IMAGES = 'paas-builder/*';

/**
 * Pushes each builder image from the host's engine to `openshift/<builder>:latest` unless that
 * stream's latest is this image already, then pulls it onto each node that lacks it (tagged as
 * the build-service names it there).
 */
export async function publishBuilders(nodes) {
  const builders = localBuilders();
  if (builders.length === 0) return;
  await asAdmin('POST', '/api/v1/namespaces', { metadata: { name: BUILDER_NAMESPACE } }, [409]);
  for (const builder of builders) {
    const digest = await publish(builder);
    for (const node of nodes) await pullOnto(node, builder, digest);
  }
}

/** `[{ image: 'paas-builder/nodejs:latest', stream: 'nodejs', id }]` */
function localBuilders() {
  return capture('docker', ['images', '--no-trunc', '--filter', `reference=${BUILDER_IMAGES}`, '--format', '{{.Repository}} {{.Tag}} {{.ID}}'])
    .trim().split('\n').filter(Boolean)
    .map((line) => line.split(' '))
    .filter(([, tag]) => tag === 'latest')
    .map(([repository, tag, id]) => ({ image: `${repository}:${tag}`, stream: repository.split('/').pop(), id }));
}

/** The digest of the builder's manifest in the registry, pushed first when the stream does not hold this image. */
async function publish(builder) {
  const repository = `${BUILDER_NAMESPACE}/${builder.stream}`;
  const target = `${serviceEnv.REGISTRY_HOST}/${repository}`;
  const current = await latestDigest(builder.stream);
  if (current && inspected([], builder.image).repoDigests.includes(`${target}@${current}`)) return current;
  const log = 'builder-publish';
  await produce(`publishing ${builder.image} as ${repository}:latest (log ${relative(logFile(log))})`, `${builder.image} published as ${repository}:latest`, async () => {
    capture('docker', ['tag', builder.image, `${target}:latest`]);
    await withRegistryToken(serviceEnv.REGISTRY_HOST, repository, 'pull,push', (env) => runLogged(log, 'docker', ['push', `${target}:latest`], { env }));
  });
  const published = await latestDigest(builder.stream);
  if (!published) throw new Failure(`${repository}:latest is not in the registry after its push (log ${relative(logFile(log))})`);
  return published;
}

/** Pulls the builder from the registry onto the node, by digest, unless the node's copy came from there already. */
async function pullOnto(node, builder, digest) {
  const source = `${node.registryHost}/${BUILDER_NAMESPACE}/${builder.stream}@${digest}`;
  const present = inspected(engineArgs(node), builder.image);
  if (present.id === builder.id && present.repoDigests.includes(source)) return;
  // A copy `up` loaded from the host before (2026-12-07) goes first: an engine records which
  // blob a layer is only when it downloads it, not for an image it holds already.
  try {
    dockerOn(node, 'rmi', builder.image);
  } catch {
    // not there, or a container uses it: the pull keeps that copy
  }
  const log = `${node.name}-images`;
  await produce(`${node.name}: pulling ${builder.image} from the registry (log ${relative(logFile(log))})`, `${node.name}: ${builder.image} pulled`, async () => {
    await withRegistryToken(node.registryHost, `${BUILDER_NAMESPACE}/${builder.stream}`, 'pull', (env) => runLogged(log, 'docker', [...engineArgs(node), 'pull', source], { env }));
    dockerOn(node, 'tag', source, builder.image);
  });
  const pulled = inspected(engineArgs(node), builder.image).id;
  if (pulled !== builder.id) throw new Failure(`${node.name}: ${source} is image ${pulled}, not the host's ${builder.image} (${builder.id})`);
}

async function latestDigest(stream) {
  const { status, body } = await asAdmin('GET', `/api/v1/namespaces/${BUILDER_NAMESPACE}/imagestreams/${stream}`, undefined, [404]);
  if (status === 404) return undefined;
  return body.status?.tags?.find((tag) => tag.tag === 'latest')?.items?.[0]?.image;
}

/** The image's id and its digests in registries, on the host's engine (`engine` empty) or a node's (`engineArgs`); none when it is not there. */
function inspected(engine, image) {
  try {
    const [id, digests] = capture('docker', [...engine, 'image', 'inspect', '--format', '{{.Id}} {{json .RepoDigests}}', image]).trim().split(' ');
    return { id, repoDigests: JSON.parse(digests) };
  } catch {
    return { id: undefined, repoDigests: [] };
  }
}

/**
 * Runs `fn` with a docker CLI configuration of its own (the user's ~/.docker untouched) that
 * hands the engine a registry token for `repository`, asked of the gateway as the admin: a
 * node's engine cannot reach the gateway to log in itself.
 */
async function withRegistryToken(registryHost, repository, actions, fn) {
  const scope = encodeURIComponent(`repository:${repository}:${actions}`);
  const { body } = await asAdmin('GET', `/auth/token?service=paas-registry&scope=${scope}`);
  const config = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-up-docker-'));
  try {
    fs.writeFileSync(path.join(config, 'config.json'), JSON.stringify({ auths: { [registryHost]: { registrytoken: body.token } } }), { mode: 0o600 });
    return await fn({ ...process.env, DOCKER_CONFIG: config });
  } finally {
    fs.rmSync(config, { recursive: true, force: true });
  }
}
