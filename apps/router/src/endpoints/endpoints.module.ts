import { Module } from '@nestjs/common';
import { EndpointsSync } from './endpoints-sync';
import { TrafficReport } from './traffic-report';

@Module({ providers: [EndpointsSync, TrafficReport] })
export class EndpointsModule {}
