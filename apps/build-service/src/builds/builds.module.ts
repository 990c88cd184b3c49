import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { storedResourceSchema } from '@paas/platform/resource-repository';
import { BUILDS_COLLECTION, BuildRepository } from './build.repository';
import { BuildRequestedHandler } from './build-requested.handler';
import { currentRunnerId, RUNNER_ID } from './build-runner';
import { BuildsRpc } from './builds.rpc';
import { DeleteBuild } from './delete-build.usecase';
import { BuildStrategyFactory } from './pipeline/strategy-factory';
import { RecoverBuilds } from './recover-builds.usecase';
import { RunBuild } from './run-build.usecase';

@Module({
  imports: [MongooseModule.forFeature([{ name: BUILDS_COLLECTION, schema: storedResourceSchema(BUILDS_COLLECTION) }])],
  providers: [
    BuildRepository,
    { provide: RUNNER_ID, useFactory: currentRunnerId },
    BuildStrategyFactory,
    RunBuild,
    RecoverBuilds,
    DeleteBuild,
    BuildsRpc,
    BuildRequestedHandler,
  ],
  exports: [BuildRepository, RunBuild, DeleteBuild],
})
export class BuildsModule {}
