import { Module } from '@nestjs/common';
import { ConfigMapsRpc } from './configmaps.rpc';
import { ConfigMapsService } from './configmaps.service';

@Module({ providers: [ConfigMapsService, ConfigMapsRpc] })
export class ConfigMapsModule {}
