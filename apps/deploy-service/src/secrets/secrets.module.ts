import { Module } from '@nestjs/common';
import { SecretsRpc } from './secrets.rpc';
import { SecretsService } from './secrets.service';

@Module({ providers: [SecretsService, SecretsRpc] })
export class SecretsModule {}
