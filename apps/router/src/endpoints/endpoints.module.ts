import { Module } from '@nestjs/common';
import { EndpointsSync } from './endpoints-sync';

@Module({ providers: [EndpointsSync] })
export class EndpointsModule {}
