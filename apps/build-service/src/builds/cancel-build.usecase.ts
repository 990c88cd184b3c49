import { Injectable } from '@nestjs/common';
import { TERMINAL_BUILD_PHASES, type Build } from '@paas/contracts/builds';
import { ApiError } from '@paas/platform/api-error';
import { BuildRepository } from './build.repository';

/**
 * `oc cancel-build`: marks a build that has not ended `status.cancelled`; the BuildController
 * does the rest wherever the build is (New: Cancelled at once; running here: its container
 * stopped and removed, then Cancelled; its runner gone: Cancelled instead of run again).
 * Cancelling one already cancelled changes nothing; one that has ended is a 400.
 */
@Injectable()
export class CancelBuild {
  constructor(private readonly builds: BuildRepository) {}

  execute(namespace: string, name: string): Promise<Build> {
    return this.builds.update(namespace, name, (current) => {
      const { phase, cancelled } = current.status;
      if (TERMINAL_BUILD_PHASES.includes(phase)) throw ApiError.of('BadRequest', `build ${namespace}/${name} has already ended (${phase}): there is nothing to cancel`);
      return cancelled ? undefined : { ...current, status: { ...current.status, cancelled: true } };
    });
  }
}
