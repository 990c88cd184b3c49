import { BUILD_IMAGE_LABELS, BUILD_MANAGER } from '@paas/contracts/builds';
import { DEPLOYMENT_LABELS, type DeploymentConfig, type Pod, type ReplicationController } from '@paas/contracts/deployments';
import type { Labels } from '@paas/contracts/meta';
import { belongsToInstance } from '@paas/platform/config';
import type { NodeImage } from '../adapters/node-images';
import { revisionPhase, revisionVersion } from '../deploymentconfigs/revisions';

/** The images a DeploymentConfig's revisions and pods run (`spec.containers` of a pod or of a template). */
type Containers = { spec: { containers: { image: string }[] } };

/**
 * The images no node gives up, as the DeploymentConfigs, their revisions and the pods name
 * them (cluster-wide, whichever node holds them): every pod's; every DeploymentConfig's
 * template; of each DeploymentConfig, its newest two revisions (the current one and the one
 * before it, what a rollback goes to) and its last Complete one (what a failed rollout goes
 * back to); and every revision that has or wants pods (a rollout under way).
 */
export function imagesToKeep(dcs: readonly DeploymentConfig[], rcs: readonly ReplicationController[], pods: readonly Pod[]): Set<string> {
  const keep = new Set<string>();
  const add = ({ spec }: Containers) => spec.containers.forEach(({ image }) => image && keep.add(image));
  pods.forEach(add);
  dcs.forEach((dc) => add(dc.spec.template));
  const revisions = new Map<string, ReplicationController[]>();
  for (const rc of rcs) {
    if (rc.spec.replicas > 0 || rc.status.replicas > 0) add(rc.spec.template);
    const dc = rc.metadata.labels?.[DEPLOYMENT_LABELS.deploymentConfig];
    if (!dc) continue;
    const key = `${rc.metadata.namespace}/${dc}`;
    revisions.set(key, [...(revisions.get(key) ?? []), rc]);
  }
  for (const ofDc of revisions.values()) {
    const newestFirst = ofDc.sort((a, b) => revisionVersion(b) - revisionVersion(a));
    newestFirst.slice(0, 2).forEach((rc) => add(rc.spec.template));
    const lastComplete = newestFirst.find((rc) => revisionPhase(rc) === 'Complete');
    if (lastComplete) add(lastComplete.spec.template);
  }
  return keep;
}

/** OpenShift's label listing what an image is for; a builder image says `builder` there. */
const OPENSHIFT_TAGS_LABEL = 'io.openshift.tags';

/** A platform build made it: the labels the build-service commits every build's image with. */
function madeByABuild(labels: Labels): boolean {
  return labels[BUILD_IMAGE_LABELS.build] !== undefined && labels[BUILD_IMAGE_LABELS.managedBy] === BUILD_MANAGER;
}

function isBuilder(labels: Labels): boolean {
  return labels[BUILD_IMAGE_LABELS.builder] !== undefined || (labels[OPENSHIFT_TAGS_LABEL] ?? '').split(',').some((tag) => tag.trim() === 'builder');
}

/**
 * Whether an image on a node is the platform's to collect: of this platform instance (its
 * `paas.dev/instance` label; none counts as the default instance's) and either named only in the
 * platform registry (`registries`: as images name it and as the node reaches it: pulled by a
 * pod, or committed and pushed by a build) or, with no name at all, made by a platform build
 * (a build's image whose tag a later build took). Never one with a name elsewhere (a user's own,
 * a base image), nor a builder image that no build made (builds inherit their builder's labels).
 */
export function isPlatformImage(image: NodeImage, registries: readonly string[], instance: string): boolean {
  if (!belongsToInstance(image.labels, instance)) return false;
  const built = madeByABuild(image.labels);
  if (!built && isBuilder(image.labels)) return false;
  if (!image.references.length) return built;
  return image.references.every((reference) => registries.some((host) => reference.startsWith(`${host}/`)));
}

/** One node's round of image garbage collection. */
export interface ImageGcRound {
  images: readonly NodeImage[];
  /** Ids of the images the node's containers (any state) were made from. */
  inUse: ReadonlySet<string>;
  /** References (as the node's engine lists them) and ids of images to keep whatever their use. */
  keep: ReadonlySet<string>;
  /** The platform registry as images name it and as this node reaches it. */
  registries: readonly string[];
  instance: string;
  now: number;
  minAgeMs: number;
  /** Since when each image (by id) has been seen unused, as the last round left it. */
  unusedSince: ReadonlyMap<string, number>;
}

/**
 * The images of the platform that go, oldest first: unused by every container on the node,
 * kept by no DeploymentConfig, and unused for `minAgeMs` as far as this replica has seen: an
 * image counts from the round that first saw it unused, so a build's image between its commit
 * and its push (used by nothing yet) or a replica that just took the work over removes nothing
 * younger. Also answers since when each image of the platform still on the node has been
 * unused, for the next round.
 */
export function imagesToRemove(round: ImageGcRound): { remove: NodeImage[]; unusedSince: Map<string, number> } {
  const unusedSince = new Map<string, number>();
  const remove: NodeImage[] = [];
  for (const image of round.images) {
    if (!isPlatformImage(image, round.registries, round.instance)) continue;
    if (round.inUse.has(image.id) || round.keep.has(image.id) || image.references.some((reference) => round.keep.has(reference))) continue;
    const since = round.unusedSince.get(image.id) ?? round.now;
    unusedSince.set(image.id, since);
    if (round.now - since >= round.minAgeMs) remove.push(image);
  }
  return { remove: remove.sort((a, b) => a.createdAt - b.createdAt), unusedSince };
}
