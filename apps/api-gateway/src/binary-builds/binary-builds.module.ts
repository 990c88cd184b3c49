import { Module } from '@nestjs/common';
import { BINARY_INPUTS, NatsBinaryInputs } from '@paas/platform/binary-inputs';
import { NATS_CONNECTION } from '@paas/platform/tokens';
import type { NatsConnection } from 'nats';
import { BinaryBuildsController } from './binary-builds.controller';
import { UploadBinaryBuild } from './upload-binary-build.usecase';

@Module({
  controllers: [BinaryBuildsController],
  providers: [UploadBinaryBuild, { provide: BINARY_INPUTS, useFactory: (nats: NatsConnection) => new NatsBinaryInputs(nats), inject: [NATS_CONNECTION] }],
})
export class BinaryBuildsModule {}
