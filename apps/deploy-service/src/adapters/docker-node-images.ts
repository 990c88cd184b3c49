import type { DockerClient } from './docker-client';
import { repositoryOf, type NodeImage, type NodeImages } from './node-images';

/**
 * Whether the engine removes an image by its id alone without force: when its names are all in
 * one repository with at most one tag (moby's `isSingleReference`); otherwise it asks for force.
 */
function removableById(references: readonly string[]): boolean {
  if (references.length <= 1) return true;
  const tags = references.filter((reference) => !reference.includes('@'));
  return tags.length <= 1 && new Set(references.map(repositoryOf)).size === 1;
}

/** NodeImages over the Engine API. */
export class DockerNodeImages implements NodeImages {
  constructor(private readonly docker: Pick<DockerClient, 'listImages' | 'listContainers' | 'inspectImage' | 'removeImage' | 'diskUsage'>) {}

  async list(): Promise<NodeImage[]> {
    return (await this.docker.listImages()).map((image) => ({
      id: image.Id,
      // A dangling image is listed as `<none>:<none>` and `<none>@<none>`.
      references: [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])].filter((reference) => !reference.startsWith('<none>')),
      labels: image.Labels ?? {},
      createdAt: image.Created * 1000,
    }));
  }

  async inUse(): Promise<Set<string>> {
    return new Set((await this.docker.listContainers({})).map((container) => container.ImageID));
  }

  async uniqueSizes(): Promise<Map<string, number>> {
    const { Images } = await this.docker.diskUsage();
    return new Map((Images ?? []).map((image) => [image.Id, Math.max(0, image.Size - Math.max(0, image.SharedSize))]));
  }

  /**
   * By id: the engine checks for containers (running or stopped) and removes the image with its
   * names in one step, and a tag moved to another image meanwhile (a build committing the same
   * tag again) stays with that image. An image named in several repositories cannot go by id
   * without force (which would also take it from under a stopped container): its names go one by
   * one (a digest names this image only; a tag only while it still names this image), then the image.
   */
  async remove(image: NodeImage): Promise<'removed' | 'absent' | 'in-use'> {
    if (removableById(image.references)) return this.docker.removeImage(image.id);
    let untagged = false;
    for (const reference of image.references) {
      if (!reference.includes('@') && (await this.docker.inspectImage(reference))?.Id !== image.id) continue;
      const outcome = await this.docker.removeImage(reference);
      if (outcome === 'in-use') return outcome;
      untagged ||= outcome === 'removed';
    }
    // Untagging its last name removes an unused image already.
    const outcome = await this.docker.removeImage(image.id);
    return outcome === 'absent' && untagged ? 'removed' : outcome;
  }
}
