import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { storedResourceSchema } from '@paas/platform/resource-repository';
import { BUILDS_COLLECTION, BuildRepository } from './build.repository';
import { BuildController } from './build-controller';
import { BuildRequestedHandler } from './build-requested.handler';
import { BuildsRpc } from './builds.rpc';
import { CancelBuild } from './cancel-build.usecase';
import { DeleteBuild } from './delete-build.usecase';
import { BuildStrategyFactory } from './pipeline/strategy-factory';
import { WarmBuilders } from './pipeline/warm-builders';
import { RemoveBuildLeftovers } from './remove-leftovers.usecase';
import { RunBuild } from './run-build.usecase';

@Module({
  imports: [MongooseModule.forFeature([{ name: BUILDS_COLLECTION, schema: storedResourceSchema(BUILDS_COLLECTION) }])],
  providers: [
    BuildRepository,
    BuildStrategyFactory,
    WarmBuilders,
    RunBuild,
    BuildController,
    RemoveBuildLeftovers,
    DeleteBuild,
    CancelBuild,
    BuildsRpc,
    BuildRequestedHandler,
  ],
  exports: [BuildRepository, BuildController, DeleteBuild],
})
export class BuildsModule {}
