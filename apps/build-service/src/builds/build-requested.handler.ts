import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EventBus } from '@paas/platform/events';
import { RecoverBuilds } from './recover-builds.usecase';
import { RunBuild } from './run-build.usecase';

/** Builds run here at once per replica; more wait in the stream. */
const BUILD_CONCURRENCY = 4;

/**
 * Consumes `build.requested` (durable, shared by replicas) and runs the build; the claim in
 * RunBuild makes redeliveries and racing replicas harmless. On start-up it first cleans up
 * after a stopped predecessor, then runs the builds still New (their event may be lost).
 */
@Injectable()
export class BuildRequestedHandler implements OnApplicationBootstrap {
  private readonly logger = new Logger(BuildRequestedHandler.name);

  constructor(
    private readonly events: EventBus,
    private readonly runBuild: RunBuild,
    private readonly recover: RecoverBuilds,
  ) {}

  async onApplicationBootstrap() {
    const pending = await this.recover.execute().catch((error: Error) => {
      this.logger.error({ msg: `start-up recovery failed: ${error.message}` });
      return [];
    });
    await this.events.subscribe('build.requested', async (event) => void (await this.runBuild.execute(event.data.namespace, event.data.name)), {
      concurrency: BUILD_CONCURRENCY,
    });
    for (const build of pending) {
      void this.runBuild.execute(build.metadata.namespace, build.metadata.name).catch((error: Error) => this.logger.error({ msg: `build ${build.metadata.name} failed to run: ${error.message}` }));
    }
  }
}
