import { Module } from '@nestjs/common';
import { ServicesRpc } from './services.rpc';
import { ServicesService } from './services.service';

@Module({ providers: [ServicesService, ServicesRpc] })
export class ServicesModule {}
