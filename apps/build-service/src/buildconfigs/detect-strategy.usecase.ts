import { Inject, Injectable } from '@nestjs/common';
import type { DetectedStrategy, DetectRequest } from '@paas/contracts/builds';
import { ApiError } from '@paas/platform/api-error';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { GIT, type Git } from '../adapters/git-cli';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { redactCredentials } from '../builds/pipeline/redact-credentials';
import { isLocalSource } from './check-build-source';

/** The files that call for a catalog builder, as `oc new-app` detects a language; the first builder whose file is there wins. */
export const BUILDER_MARKERS: Record<string, string[]> = {
  nodejs: ['package.json'],
  python: ['requirements.txt', 'pyproject.toml', 'setup.py', 'app.py'],
  static: ['index.html'],
};
const DOCKERFILE = 'Dockerfile';

/**
 * How new-app builds a repository when it names no builder, as `oc new-app` decides: the
 * commit's Dockerfile (at `contextDir`) makes it a Docker build, unless Source was asked
 * for; else the catalog builder whose marker file is there. Reads one commit (depth 1) into a
 * scratch directory, within the git check's time. A repository that cannot be read, or
 * where nothing fits, is a 422 naming the field to change.
 */
@Injectable()
export class DetectBuildStrategy {
  constructor(
    @Inject(GIT) private readonly git: Git,
    @Inject(BUILD_SETTINGS) private readonly settings: BuildSettings,
  ) {}

  async execute(request: DetectRequest): Promise<DetectedStrategy> {
    const files = await this.filesOf(request);
    if (request.strategy !== 'Source' && files.includes(DOCKERFILE)) return { type: 'Docker', because: DOCKERFILE };
    if (request.strategy === 'Docker') throw invalid('strategy', `the repository has no ${DOCKERFILE}${at(request)} to build`);
    const builder = Object.keys(BUILDER_MARKERS).find((name) => Object.hasOwn(this.settings.builders, name) && BUILDER_MARKERS[name].some((file) => files.includes(file)));
    if (builder) return { type: 'Source', builder, because: BUILDER_MARKERS[builder].find((file) => files.includes(file)) ?? '' };
    const known = Object.entries(BUILDER_MARKERS).map(([name, markers]) => `${markers.join(' or ')} → ${name}`);
    throw invalid('builder', `name a builder (${Object.keys(this.settings.builders).join(', ')}): the repository has no ${DOCKERFILE}${at(request)} and none of the files a builder is picked by (${known.join('; ')})`);
  }

  /** The names at the top of the commit's `contextDir`. */
  private async filesOf({ git: uri, ref, contextDir }: DetectRequest): Promise<string[]> {
    if (!this.settings.allowLocalSources && isLocalSource(uri)) throw invalid('source.git', `${uri}: a repository on the build host's disk is refused here; use an https, ssh or git URL`);
    const workRoot = path.join(this.settings.buildsDir, 'work');
    await mkdir(workRoot, { recursive: true });
    const dir = await mkdtemp(path.join(workRoot, 'detect-'));
    try {
      await this.git.fetch(uri, ref, path.join(dir, 'repo.git'), AbortSignal.timeout(this.settings.gitCheckTimeoutMs)).catch((error: Error) => {
        const why = error.name === 'AbortError' || error.name === 'TimeoutError' ? `no answer within ${this.settings.gitCheckTimeoutMs / 1000} s` : error.message;
        throw invalid('source.git', `${redactCredentials(uri)} (ref ${ref}) could not be read to pick a build strategy: ${redactCredentials(why)}`);
      });
      const {
        entries: [top],
      } = await this.git.read(path.join(dir, 'repo.git'), [contextDir ?? '']).catch((error: Error) => {
        throw invalid('source.git', `${redactCredentials(uri)} (ref ${ref}) was fetched but could not be read: ${error.message}`);
      });
      if (top?.type !== 'directory') throw invalid('source.contextDir', `the repository has no directory "${contextDir}" at ${ref}`);
      return top.names;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

function at({ contextDir }: DetectRequest): string {
  return contextDir ? ` in "${contextDir}"` : '';
}

function invalid(field: string, message: string): ApiError {
  return ApiError.of('Invalid', `cannot pick how to build the app: ${message}`, { kind: 'App', causes: [{ field, reason: 'FieldValueInvalid', message }] });
}
